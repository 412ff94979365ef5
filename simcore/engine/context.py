"""The strategy's context (``ctx``): what a strategy may read and do, and nothing more.

Reads go to session_data (only what the strategy declared: anything else is an
``UndeclaredRead`` naming the declaration to add), time to the TimeManager, orders to the
trader (``simcore.trading.context.TradingContext``), scheduled callbacks to its ``Scheduler``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import numpy as np

from simcore.engine.bars import COLUMNS, BarView
from simcore.engine.requirements import bar_intervals_used, strategy_name
from simcore.engine.schedules import Schedule, Scheduler
from simcore.engine.session_data import SessionData
from simcore.errors import UserError
from simcore.time import TimeManager, TradingSession
from simcore.trading.context import TradingContext
from simcore.trading.trader import Trader

SIDES = ("buy", "sell", "short", "cover", "flat")


@dataclass(frozen=True, slots=True)
class Signal:
    time_ns: int
    symbol: str
    side: str
    reason: str
    values: str  # JSON object of the values that motivated it (sorted keys)


class StrategyContext(TradingContext):
    """What a strategy may see and do. Every read goes to session_data; time to the TimeManager;
    orders to the trader (``TradingContext``)."""

    def __init__(
        self,
        session_data: SessionData,
        time_manager: TimeManager,
        trader: Trader | None = None,
        strategy: object | None = None,  # the Strategy (analysis imports this module),
    ):
        self._data = session_data
        self._tm = time_manager
        # what the strategy declared it reads: reading anything else is its error, named
        # (without a strategy, as in tests of the context alone, everything may be read)
        self._declared = Declared.of(strategy) if strategy is not None else None
        # ``last_bar(symbol index, interval)``: the symbol's latest bar as a record (session
        # data's own method, bound here: the default on_bars calls it once per bar)
        self.last_bar = session_data.last_bar
        self.signals: list[Signal] = []
        self.session: TradingSession | None = None
        self.scheduler = Scheduler(time_manager)
        if trader is not None:
            self.trader = trader

    def schedule(
        self,
        callback: Callable[[StrategyContext], None],
        *,
        at: str | time | None = None,
        after_open: float | timedelta | None = None,
        before_close: float | timedelta | None = None,
        every_session: bool = True,
        name: str | None = None,
    ) -> Schedule:
        """Run ``callback(ctx)`` at a time of the session: ``at`` a wall-clock time of the
        exchange ("15:50"), ``after_open`` or ``before_close`` minutes (or a timedelta; early
        closes respected); every session, or once (``every_session=False``). Made in
        ``on_start`` or ``on_session_start``, it runs from that session; made later (in
        ``on_bar``, say), from the next. It reads and trades like ``on_bar``
        (``simcore.engine.schedules``)."""
        return self.scheduler.add(callback, at, after_open, before_close, every_session, name)

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._data.symbols

    def now(self) -> datetime:
        return self._tm.get_current_time()

    def now_ns(self) -> int:
        return self._tm.current_time_ns()

    @property
    def time_manager(self) -> TimeManager:
        return self._tm

    def bars(self, symbol: str, interval: str) -> BarView:
        if self._declared is not None and interval not in self._declared.intervals:
            self._declared.refuse(f"bars of {interval}", "subscriptions or reads", repr(interval))
        return self._data.get_bars(symbol, interval)

    def historical_bars(self, symbol: str, interval: str) -> BarView:
        return self._data.get_historical_bars(symbol, interval)

    def historical(self, symbol: str, name: str):
        if self._declared is not None and name not in self._declared.historical:
            self._declared.refuse(
                f"the historical indicator {name!r}",
                "historical_indicators",
                f"HistoricalNeed({name!r})",
            )
        return self._data.get_historical_indicator(symbol, name)

    def indicator(self, symbol: str, interval: str, name: str) -> float:
        if self._declared is not None and (interval, name) not in self._declared.indicators:
            self._declared.refuse(
                f"the real-time indicator {name!r} of {interval}",
                "indicators",
                f"IndicatorRequest({name!r}, {interval!r}, ...)",
            )
        return self._data.get_indicator(symbol, interval, name)

    def last_bars(
        self, interval: str, symbols: np.ndarray, fields: tuple[str, ...] = COLUMNS
    ) -> dict[str, np.ndarray]:
        """The newest bar of each of ``symbols`` (indices) as arrays: timestamp and OHLCV, or
        only the ``fields`` asked for."""
        if self._declared is not None and interval not in self._declared.intervals:
            self._declared.refuse(f"bars of {interval}", "subscriptions or reads", repr(interval))
        return self._data.last_values(interval, symbols, fields)

    def indicator_values(self, interval: str, name: str) -> np.ndarray:
        """Current values of a real-time indicator for every symbol (read-only; NaN = not warm)."""
        if self._declared is not None and (interval, name) not in self._declared.indicators:
            self._declared.refuse(
                f"the real-time indicator {name!r} of {interval}",
                "indicators",
                f"IndicatorRequest({name!r}, {interval!r}, ...)",
            )
        return self._data.indicator_values(interval, name)

    def quality(self, symbol: str, interval: str) -> float | None:
        return self._data.get_quality(symbol, interval)

    def quotes(self, symbol: str) -> dict[str, np.ndarray]:
        return self._data.get_quotes(symbol)

    def minute_index(self, bar_start_ns: int) -> int:
        """Minute of the regular session a bar starting at ``bar_start_ns`` belongs to (0 at the
        open): the index into minute-granularity historical indicators."""
        assert self.session is not None
        return (bar_start_ns - self._tm.to_utc_ns(self.session.regular_open)) // 60_000_000_000

    def signal(self, symbol: str, side: str, reason: str, **values: float) -> None:
        if side not in SIDES:
            raise ValueError(f"side must be one of {SIDES}, not {side!r}")
        if symbol not in self._data.index:
            raise ValueError(f"{symbol} is not a symbol of this session")
        clean = {
            k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in values.items()
        }
        self.signals.append(
            Signal(self.now_ns(), symbol, side, reason, json.dumps(clean, sort_keys=True))
        )


class UndeclaredRead(UserError):
    """A strategy read something it did not declare (so the config was never checked for it)."""


@dataclass(frozen=True)
class Declared:
    """What a strategy declared it reads, for the context's checks (sets: O(1) per read)."""

    name: str
    intervals: frozenset[str]
    historical: frozenset[str]
    indicators: frozenset[tuple[str, str]]

    @classmethod
    def of(cls, strategy) -> Declared:  # a Strategy
        return cls(
            strategy_name(strategy),
            frozenset(bar_intervals_used(strategy)),
            frozenset(need.name for need in strategy.historical_indicators),
            frozenset((r.interval, r.name) for r in strategy.indicators),
        )

    def refuse(self, what: str, declaration: str, entry: str) -> None:
        raise UndeclaredRead(
            f"{self.name} reads {what} but does not declare it: add {entry} to its "
            f"{declaration}, so that the config is checked for it before the run"
        )
