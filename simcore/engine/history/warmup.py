"""The coordinator's initialisation before every session: trailing history and historical
indicators (the design's "update historical data & indicators before EVERY session").

* **Planned once per run**: every ``historical.data`` entry, plus the trailing bars an indicator
  needs and the config lacks (the augmentation, listed in ``history_plan.parquet``).
* **Loaded before each session** — clear-and-reload (the design's option B) of every trailing
  window, once per interval and depth, every symbol of a load at once, with its quality.
  History is read in blocks that serve this session and the next ones of the read-ahead (the
  union of their trailing windows); each session takes exactly its own days from a block —
  nothing from the session itself or after it.
* **Historical indicators** recomputed with Polars from sessions strictly before the current
  one: daily ones from the 1d block already read when it holds them, else with their own
  query (``simcore.engine.history.indicators``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from simcore.config.models import HistoricalData, SessionConfig
from simcore.config.vocabulary import INTERVAL_LENGTH
from simcore.engine.bars import COLUMNS
from simcore.engine.history import indicators as historical
from simcore.engine.history_windows import HistoryBlock
from simcore.engine.session_data import SessionData
from simcore.engine.session_days import SessionDays
from simcore.store.schema import ohlcv_aggregations
from simcore.time import TimeManager

STORED_INTERVALS = ("1s", "1m", "1d")


@dataclass(frozen=True)
class HistoryNeed:
    """One trailing window to load: symbols, interval, trailing days; ``added_for`` names the
    indicator that required it when the coordinator added it (the augmentation)."""

    symbols: tuple[str, ...]
    interval: str
    trailing_days: int
    added_for: str | None = None


class HistoryWarmup:
    def __init__(
        self,
        config: SessionConfig,
        time_manager: TimeManager,
        source,
        session_data: SessionData,
        holds: Callable[[str], set[str]],
    ):
        self.config = config
        self.tm = time_manager
        self.source = source
        self.session_data = session_data
        self.holds = holds  # what the source holds for a symbol (bar intervals, quotes, ...)
        self.symbols = tuple(config.session_data_config.symbols)
        self.needs: list[HistoryNeed] = []
        self.days: SessionDays | None = None
        self._loads: list[tuple[tuple[str, int], tuple[str, ...]]] = []
        self._blocks: dict[tuple, HistoryBlock] = {}
        self._daily_stored = False
        self._indices: dict[tuple[str, ...], np.ndarray] = {}
        # (session, indicator, values per symbol: a value or a row of minutes), for outputs
        self.indicator_values: list[tuple[date, str, np.ndarray]] = []

    def plan(self, days: SessionDays) -> None:
        """The run's history: what to load (configured and added), grouped into loads."""
        self.days = days
        self.needs = self._plan_needs()
        self._loads = self._plan_loads()
        # daily indicators can come from the 1d history block only when every symbol's
        # daily bars are stored (historical.daily_bars aggregates 1m bars for the others)
        self._daily_stored = all("1d" in self.holds(s) for s in self.symbols)

    def clear(self) -> None:
        self._blocks.clear()

    def load(self, day: date) -> None:
        """Everything historical a session starts with: windows, their quality, indicators."""
        self._load_windows(day)
        self._compute_indicators(day)

    # ------------------------------------------------------------------ planning
    def _plan_needs(self) -> list[HistoryNeed]:
        """historical.data as configured, plus what the indicators need and it lacks."""
        hist = self.config.session_data_config.historical
        needs: list[HistoryNeed] = []
        for entry in hist.data:
            symbols = self._targets(entry)
            for interval in entry.intervals:
                needs.append(HistoryNeed(symbols, interval, entry.trailing_days))
        for name, spec in hist.indicators.items():
            interval = "1m" if spec.granularity == "minute" else "1d"
            days = historical.trading_days_needed(spec)
            covered = any(
                n.interval == interval
                and n.trailing_days >= days
                and set(self.symbols) <= set(n.symbols)
                for n in needs
            )
            if not covered:
                needs.append(HistoryNeed(self.symbols, interval, days, added_for=name))
        return needs

    def _targets(self, entry: HistoricalData) -> tuple[str, ...]:
        return self.symbols if entry.apply_to == "all" else tuple(entry.apply_to)

    def _plan_loads(self) -> list[tuple[tuple[str, int], tuple[str, ...]]]:
        """((interval, trailing days), symbols) of each load: a symbol's deepest window per
        interval, so entries asking for the same interval share one load. Fixed for the run."""
        depth: dict[tuple[str, str], int] = {}
        for need in self.needs:
            for symbol in need.symbols:
                key = (symbol, need.interval)
                depth[key] = max(depth.get(key, 0), need.trailing_days)
        loads: dict[tuple[str, int], list[str]] = {}
        for (symbol, interval), days in depth.items():
            loads.setdefault((interval, days), []).append(symbol)
        return [(key, tuple(symbols)) for key, symbols in sorted(loads.items())]

    # ------------------------------------------------------------------ windows
    def _load_windows(self, day: date) -> None:
        enable_quality = self.config.session_data_config.historical.enable_quality
        self.session_data.clear_history()
        for (interval, trailing), symbols in self._loads:
            days = self.tm.trailing_trading_days(day, trailing)
            windows = self._block(interval, trailing, symbols, day).windows(days)
            indices = self._indices_of(symbols)
            self.session_data.set_historical_windows(interval, indices, windows)
            expected = self._expected_bars(interval, days)
            if enable_quality and expected:
                quality = 100.0 * np.minimum(windows.counts(), expected) / expected
            else:
                quality = np.full(len(symbols), 100.0)
            self.session_data.set_historical_qualities(interval, indices, quality)

    def _indices_of(self, symbols: tuple[str, ...]) -> np.ndarray:
        """The session_data indices of ``symbols`` (looked up once per run)."""
        indices = self._indices.get(symbols)
        if indices is None:
            index = self.session_data.index
            indices = self._indices[symbols] = np.array([index[s] for s in symbols], np.int64)
        return indices

    def _block(self, interval: str, trailing: int, symbols: tuple[str, ...], day: date):
        """The block of history that serves ``day``: read with the sessions after it."""
        key = (interval, trailing, symbols)
        block = self._blocks.get(key)
        if block is None or day not in block.sessions:
            assert self.days is not None
            sessions = self.days.read_ahead(day, interval, len(symbols), trailing)
            # consecutive sessions' trailing windows overlap or abut: their union is every
            # trading day from the first window's start to the last window's end (only at the
            # calendar's start is a session's window empty, and the next ones are not)
            first = next(
                (w for s in sessions if (w := self.tm.trailing_trading_days(s, trailing))), []
            )
            union = (
                self.tm.trading_days(first[0], self.tm.get_previous_trading_date(sessions[-1]))
                if first
                else []
            )
            frame = self._frame(HistoryNeed(symbols, interval, trailing), union)
            block = HistoryBlock.from_frame(frame, symbols, frozenset(sessions))
            self._blocks[key] = block
        return block

    def _frame(self, need: HistoryNeed, days: list[date]) -> pl.DataFrame:
        symbols = list(need.symbols)
        if not days:
            return _empty_bars()
        if need.interval in STORED_INTERVALS and any(
            need.interval in self.holds(s) for s in symbols
        ):
            return self.source.history(symbols, need.interval, days).collect()
        if need.interval == "1d":  # no stored daily bars: aggregate the 1m history per day
            daily = historical.daily_bars(self.source, symbols, days, self.tm).collect()
            labels = [self.tm.daily_bar_label_ns(d) for d in daily["day"]]
            stamps = pl.Series("timestamp", labels, dtype=pl.Int64).cast(pl.Datetime("ns", "UTC"))
            return daily.with_columns(stamps)
        return self._derived_frame(symbols, need.interval, days)

    def _derived_frame(self, symbols: list[str], interval: str, days: list[date]) -> pl.DataFrame:
        """Historical bars of an interval the store does not hold, from 1m, session-aligned."""
        length = INTERVAL_LENGTH[interval] // INTERVAL_LENGTH["1s"] * 1_000_000_000
        opens = (
            self.tm.sessions_frame(days[0], days[-1])
            .select(pl.col("session_date").alias("day"), pl.col("open").alias("_open"))
            .lazy()
        )
        ns = pl.col("timestamp").dt.epoch("ns")
        open_ns = pl.col("_open").dt.epoch("ns")
        bin_start = (open_ns + (ns - open_ns) // length * length).cast(pl.Datetime("ns", "UTC"))
        return (
            self.source.history(symbols, "1m", days)
            .join(opens, on="day")
            .with_columns(bin_start.alias("timestamp"))
            .sort("timestamp")
            .group_by("symbol", "day", "timestamp", maintain_order=True)
            .agg(*ohlcv_aggregations())
            .collect()
        )

    def _expected_bars(self, interval: str, days: list[date]) -> int:
        if interval == "1d":
            return len(days)
        length = INTERVAL_LENGTH[interval].total_seconds()
        total = 0
        for d in days:
            session = self.tm.get_trading_session(d)
            total += int(-(-session.duration.total_seconds() // length))
        return total

    # ------------------------------------------------------------------ indicators
    def _compute_indicators(self, day: date) -> None:
        """Every historical indicator for every symbol."""
        for name, spec in self.config.session_data_config.historical.indicators.items():
            values = self._daily_indicator_from_history(spec, day)
            if values is None:
                computed = historical.compute(name, spec, self.source, self.symbols, day, self.tm)
                rows = [computed[s] for s in self.symbols]
                if spec.granularity == "minute":
                    values = np.vstack(rows) if rows else np.empty((0, 0))
                else:
                    values = np.array(rows, dtype=np.float64)
            self.session_data.set_historical_indicators(name, values)
            self.indicator_values.append((day, name, values))

    def _daily_indicator_from_history(self, spec, day: date) -> np.ndarray | None:
        """A daily-granularity indicator of every symbol from the session's 1d history block,
        with the same Polars aggregation as ``historical.compute``; None when the block cannot
        serve it (minute granularity, a symbol without stored daily bars, a shallower block)."""
        if spec.granularity == "minute" or not self._daily_stored:
            return None
        needed = historical.trading_days_needed(spec)
        load = next(
            (
                (trailing, symbols)
                for (interval, trailing), symbols in self._loads
                if interval == "1d" and trailing >= needed and symbols == self.symbols
            ),
            None,
        )
        if load is None:
            return None
        days = historical.window_days(spec, day, self.tm)
        if spec.skip_early_close:
            days = [d for d in days if not self.tm.is_early_close(d)]
        block = self._block("1d", load[0], load[1], day)
        return historical.daily_values(spec, block.frame_of(days), self.symbols)


def _empty_bars() -> pl.DataFrame:
    schema = {"symbol": pl.String, "day": pl.Date, "timestamp": pl.Datetime("ns", "UTC")}
    return pl.DataFrame(schema=schema | dict.fromkeys(COLUMNS[1:], pl.Float64))
