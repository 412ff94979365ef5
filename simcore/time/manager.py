"""TimeManager: the single source of time, trading calendar and timezone truth.

Every component asks it "what time is it", "when does this session close", "is this a trading
day". Nothing else in simcore calls ``datetime.now()``, hard-codes 09:30/16:00 or converts
between timezones: the helpers for that live here too.

Time is virtual in backtests (set and advanced by the engine, never backwards) and the real
clock in live mode. Calendars come from exchange_calendars through ``calendar_table``; answers
are memoised as the design prescribes (a last-query slot plus an LRU per lookup kind).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import polars as pl

from simcore.errors import ClockError, UserError
from simcore.time.cache import CacheStats, LookupCache
from simcore.time.calendar_table import CalendarTable, load_calendar
from simcore.time.clock import LiveClock
from simcore.time.markets import MarketSpec, market_for

Mode = Literal["backtest", "live"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TradingSession:
    """One trading day's regular session, with times in the system timezone."""

    date: date
    regular_open: datetime
    regular_close: datetime
    is_early_close: bool
    timezone: str

    @property
    def duration(self) -> timedelta:
        return self.regular_close - self.regular_open

    @property
    def minutes(self) -> int:
        """Number of whole minutes in the regular session (390 on a full NYSE day)."""
        return int(self.duration.total_seconds() // 60)

    def contains(self, moment: datetime) -> bool:
        """True when ``moment`` lies in [open, close)."""
        return self.regular_open <= moment < self.regular_close


class TimeManager:
    """Clock, calendar and timezone for one market (exchange_group + asset_class)."""

    def __init__(
        self,
        exchange_group: str = "US_EQUITY",
        asset_class: str = "EQUITY",
        mode: Mode = "backtest",
        cache_size: int = 100,
        clock: LiveClock | None = None,
    ):
        if mode not in ("backtest", "live"):
            raise ValueError(f"mode must be 'backtest' or 'live', not {mode!r}")
        self.mode: Mode = mode
        # live mode: the real clock, or a rehearsal clock (a chosen start and rate)
        self.clock: LiveClock = clock or LiveClock()
        self._cache_size = cache_size
        self._backtest_time: datetime | None = None
        self._backtest_time_ns: int | None = None
        self._apply_market(market_for(exchange_group, asset_class))

    # ------------------------------------------------------------------ market and timezone
    def _apply_market(self, market: MarketSpec) -> None:
        self._market = market
        self._table: CalendarTable = load_calendar(market.calendar)
        self._tz = ZoneInfo(market.timezone)
        size = self._cache_size
        self._caches: dict[str, LookupCache] = {
            "trading_session": LookupCache(self._compute_session, size),
            "first_trading_date": LookupCache(self._compute_first_trading_date, size),
            "next_trading_date": LookupCache(self._compute_next_trading_date, size),
            "previous_trading_date": LookupCache(self._compute_previous_trading_date, size),
            "count_trading_days": LookupCache(self._compute_count, size),
        }
        self._backtest_time = None  # rebuilt in the new timezone on the next read

    def set_market(self, exchange_group: str, asset_class: str) -> None:
        """Switch market; the timezone and calendar follow, and every cache is dropped."""
        self._apply_market(market_for(exchange_group, asset_class))

    @property
    def market(self) -> MarketSpec:
        return self._market

    @property
    def timezone(self) -> str:
        """The system timezone: derived from the market, never configured."""
        return self._market.timezone

    @property
    def tzinfo(self) -> ZoneInfo:
        return self._tz

    @property
    def calendar_name(self) -> str:
        return self._market.calendar

    # ------------------------------------------------------------------ clock
    def get_current_time(self) -> datetime:
        """Now, in the system timezone: virtual in backtest, the real clock in live mode."""
        if self.mode == "live":
            return self.from_utc_ns(self.clock.now_ns())
        ns = self._backtest_time_ns
        if ns is None:
            raise ClockError("backtest time is not set yet; the session coordinator sets it")
        if self._backtest_time is None:  # built on demand: the streaming loop only moves ns
            self._backtest_time = self.from_utc_ns(ns)
        return self._backtest_time

    def set_backtest_time(self, moment: datetime) -> None:
        """Put the virtual clock at ``moment`` (aware). Used at backtest start and by the engine."""
        self._require_backtest()
        self._backtest_time_ns = self.to_utc_ns(self._as_system_time(moment))
        self._backtest_time = None

    def advance_to(self, moment: datetime) -> None:
        """Move the virtual clock forward to ``moment``; going backwards is a ClockError."""
        self._require_backtest()
        self.advance_to_ns(self.to_utc_ns(self._as_system_time(moment)))

    def advance_to_ns(self, ns: int) -> None:
        """advance_to() in UTC nanoseconds (the engine's unit), for the streaming loop.

        The virtual time is kept as nanoseconds; the datetime that get_current_time() delivers
        is built only when someone asks (the design allows fast direct access on the critical
        path; the check that time never goes backwards stays).
        """
        self._require_backtest()
        if self._backtest_time_ns is not None and ns < self._backtest_time_ns:
            raise ClockError(
                f"virtual time cannot go backwards: {self.from_utc_ns(self._backtest_time_ns)} -> "
                f"{self.from_utc_ns(ns)}"
            )
        if ns != self._backtest_time_ns:
            self._backtest_time_ns = ns
            self._backtest_time = None

    def current_time_ns(self) -> int:
        """get_current_time() as UTC nanoseconds."""
        if self.mode == "live":
            return self.clock.now_ns()
        if self._backtest_time_ns is None:
            raise ClockError("backtest time is not set yet; the session coordinator sets it")
        return self._backtest_time_ns

    def reset_backtest_time(self) -> None:
        """Forget the virtual time (the coordinator's stop() resets backtest dates)."""
        self._backtest_time = None
        self._backtest_time_ns = None

    def _require_backtest(self) -> None:
        if self.mode != "backtest":
            raise ClockError("the clock of a live session is the real clock; it cannot be set")

    def _as_system_time(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ClockError(f"naive datetime {moment} given to the clock; times must be aware")
        return moment.astimezone(self._tz)

    # ------------------------------------------------------------------ calendar lookups
    def get_trading_session(self, day: date) -> TradingSession | None:
        """The regular session on ``day``, or None when the exchange does not trade that day."""
        return self._caches["trading_session"].get(_as_date(day))

    def is_trading_day(self, day: date) -> bool:
        return self.get_trading_session(day) is not None

    def is_holiday(self, day: date) -> bool:
        """A weekday on which the exchange normally trades, but not on this date."""
        day = _as_date(day)
        return self._table.weekmask[day.weekday()] == "1" and not self.is_trading_day(day)

    def is_early_close(self, day: date) -> bool:
        session = self.get_trading_session(day)
        return session is not None and session.is_early_close

    def get_first_trading_date(self, day: date) -> date:
        """``day`` itself when it is a trading day, else the next one (inclusive)."""
        return self._caches["first_trading_date"].get(_as_date(day))

    def get_next_trading_date(self, day: date) -> date:
        """The first trading day strictly after ``day`` (exclusive)."""
        return self._caches["next_trading_date"].get(_as_date(day))

    def get_previous_trading_date(self, day: date) -> date:
        """The last trading day strictly before ``day`` (exclusive)."""
        return self._caches["previous_trading_date"].get(_as_date(day))

    def count_trading_days(self, start: date, end: date) -> int:
        """Trading days in [start, end], both ends inclusive; 0 when end < start."""
        return self._caches["count_trading_days"].get((_as_date(start), _as_date(end)))

    def trading_days(self, start: date, end: date) -> list[date]:
        """Every trading day in [start, end], ascending."""
        lo, hi = self._index_range(_as_date(start), _as_date(end))
        return [d.astype(date) for d in self._table.sessions[lo:hi]]

    def trailing_trading_days(self, before: date, count: int) -> list[date]:
        """The ``count`` trading days strictly before ``before``, ascending (fewer at the
        calendar's start)."""
        if count <= 0:
            return []
        hi = self._table.last_index_on_or_before(self.get_previous_trading_date(before)) + 1
        lo = max(0, hi - count)
        return [d.astype(date) for d in self._table.sessions[lo:hi]]

    def get_session_boundary_times(
        self, start_ref: date, end_ref: date
    ) -> tuple[datetime, datetime]:
        """(open of the first trading day >= start_ref, close of the first one >= end_ref)."""
        first = self.get_trading_session(self.get_first_trading_date(start_ref))
        last = self.get_trading_session(self.get_first_trading_date(end_ref))
        assert first is not None and last is not None
        if last.regular_close < first.regular_open:
            raise ValueError(f"end reference {end_ref} resolves before start reference {start_ref}")
        return first.regular_open, last.regular_close

    def sessions_frame(self, start: date, end: date) -> pl.DataFrame:
        """Sessions in [start, end] as a frame (date, open, close in UTC, early_close): the
        vectorised form of get_trading_session, for flagging whole columns of timestamps."""
        lo, hi = self._index_range(_as_date(start), _as_date(end))
        t = self._table
        return pl.DataFrame(
            {
                "session_date": t.sessions[lo:hi],
                "open": t.opens_ns[lo:hi],
                "close": t.closes_ns[lo:hi],
                "early_close": t.early_close[lo:hi],
            }
        ).with_columns(
            pl.col("session_date").cast(pl.Date),
            pl.col("open").cast(pl.Datetime("ns", "UTC")).dt.cast_time_unit("us"),
            pl.col("close").cast(pl.Datetime("ns", "UTC")).dt.cast_time_unit("us"),
        )

    def _index_range(self, start: date, end: date) -> tuple[int, int]:
        t = self._table
        lo = int(np.searchsorted(t.sessions, t.check_in_range(start), side="left"))
        hi = int(np.searchsorted(t.sessions, t.check_in_range(end), side="right"))
        return lo, max(lo, hi)

    # ------------------------------------------------------------------ cache
    def invalidate_caches(self) -> None:
        """Drop every memoised answer (called at session start)."""
        for cache in self._caches.values():
            cache.invalidate()

    def cache_stats(self) -> dict[str, CacheStats]:
        return {name: cache.stats() for name, cache in self._caches.items()}

    # ------------------------------------------------------------------ timezone helpers
    def to_system_tz(self, moment: datetime) -> datetime:
        """An aware datetime expressed in the system timezone."""
        return self._as_system_time(moment)

    @staticmethod
    def check_timezone(name: str) -> str:
        """``name`` when it is an IANA timezone (America/New_York), else a UserError."""
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise UserError(
                f"{name!r} is not a timezone of the IANA database (e.g. America/New_York, UTC)"
            ) from None
        return name

    @staticmethod
    def to_utc(moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ClockError(f"naive datetime {moment}: say which timezone it is in")
        return moment.astimezone(UTC)

    def localize(self, naive: datetime, tz: str | None = None) -> datetime:
        """Attach a timezone (the system one by default) to a naive wall-clock time."""
        if naive.tzinfo is not None:
            raise ClockError(f"{naive} is already aware")
        return naive.replace(tzinfo=ZoneInfo(tz) if tz else self._tz)

    @staticmethod
    def to_utc_ns(moment: datetime) -> int:
        """An aware datetime as UTC nanoseconds since the epoch (exact, no float rounding)."""
        if moment.tzinfo is None:
            raise ClockError(f"naive datetime {moment}: say which timezone it is in")
        return (moment - _EPOCH) // timedelta(microseconds=1) * 1_000

    def from_utc_ns(self, ns: int) -> datetime:
        """UTC nanoseconds since the epoch (the stores' unit) to a system-timezone datetime."""
        return (_EPOCH + timedelta(microseconds=ns // 1000)).astimezone(self._tz)

    def daily_bar_label_ns(self, day: date) -> int:
        """How daily bars are stamped: 00:00 exchange time of the session date, in UTC ns."""
        return self.to_utc_ns(datetime.combine(day, datetime.min.time(), tzinfo=self._tz))

    def session_date_of(self, moment: datetime) -> date:
        """The exchange-local calendar date of an aware moment."""
        return self._as_system_time(moment).date()

    @staticmethod
    def local_to_utc_expr(expr: pl.Expr, source_tz: str) -> pl.Expr:
        """A Polars expression turning naive wall-clock times of ``source_tz`` into UTC.

        A local time that is ambiguous or does not exist (a DST change) becomes null, which the
        store's cleaner counts as a bad timestamp: no row is silently moved by an hour.
        """
        localized = expr.dt.replace_time_zone(source_tz, ambiguous="null", non_existent="null")
        return localized.dt.convert_time_zone("UTC")

    @staticmethod
    def aware_to_utc_expr(expr: pl.Expr) -> pl.Expr:
        """A Polars expression expressing timezone-aware times in UTC."""
        return expr.dt.convert_time_zone("UTC")

    @staticmethod
    def wall_clock_ms_expr(expr: pl.Expr, timezone: str) -> pl.Expr:
        """Epoch milliseconds of the wall clock of ``timezone`` at timezone-aware times: what a
        chart's date axis shows as the exchange reads it, with no timezone database."""
        return expr.dt.convert_time_zone(timezone).dt.replace_time_zone(None).dt.epoch("ms")

    @staticmethod
    def wall_clock_text_expr(
        expr: pl.Expr, timezone: str, text_format: str = "%Y-%m-%d %H:%M:%S"
    ) -> pl.Expr:
        """Timezone-aware times as text (``YYYY-MM-DD HH:MM:SS``, or ``text_format``) of the
        wall clock of ``timezone``."""
        return expr.dt.convert_time_zone(timezone).dt.strftime(text_format)

    def utc_to_local_date_expr(self, expr: pl.Expr) -> pl.Expr:
        """A Polars expression giving the exchange-local date of UTC timestamps."""
        return expr.dt.convert_time_zone(self.timezone).dt.date()

    # ------------------------------------------------------------------ computations behind caches
    def _compute_session(self, day: date) -> TradingSession | None:
        t = self._table
        i = t.index_of(day)
        if i < 0:
            return None
        return TradingSession(
            date=day,
            regular_open=self.from_utc_ns(int(t.opens_ns[i])),
            regular_close=self.from_utc_ns(int(t.closes_ns[i])),
            is_early_close=bool(t.early_close[i]),
            timezone=self.timezone,
        )

    def _compute_first_trading_date(self, day: date) -> date:
        t = self._table
        return t.sessions[t.first_index_on_or_after(day)].astype(date)

    def _compute_next_trading_date(self, day: date) -> date:
        return self._compute_first_trading_date(day + timedelta(days=1))

    def _compute_previous_trading_date(self, day: date) -> date:
        t = self._table
        return t.sessions[t.last_index_on_or_before(day - timedelta(days=1))].astype(date)

    def _compute_count(self, bounds: tuple[date, date]) -> int:
        lo, hi = self._index_range(*bounds)
        return hi - lo


def _as_date(day: date | str) -> date:
    """Accept a date (not a datetime, whose time part would be silently dropped) or ISO text."""
    if isinstance(day, datetime):
        raise TypeError(f"expected a date, got the datetime {day}; use .date() explicitly")
    if isinstance(day, date):
        return day
    if isinstance(day, str):
        return date.fromisoformat(day)
    raise TypeError(f"expected a date, got {type(day).__name__}")
