"""session_data: the single store between the data pipeline and the analysis engine.

The seed's contract — append by reference in O(1), indexed O(1) reads, no copies, nothing from
the future — is met column-wise (DESIGN-NOTES): per symbol and interval a ``BarSeries`` holds
NumPy columns and a length cursor. ``view()`` returns slices of those columns (no copy); a
strategy that wants one bar gets a light ``Bar`` record, and one that wants a frame gets Polars.

Historical bars (loaded before the session) and session bars (streamed or derived during it)
are kept apart, so the coordinator can reload history before every session without touching
what the session appended. An append of a bar whose end lies after the current time is refused:
that is look-ahead, a bug in the caller.

This is the storage layer only; the coordinator, processor and quality manager that fill it
come with the rest of issue 3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import polars as pl

from simcore.errors import ClockError

COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
_INITIAL_CAPACITY = 512


class Bar(NamedTuple):
    """One bar as a light record; ``timestamp`` is the bar start in UTC nanoseconds."""

    timestamp: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class BarView:
    """Read-only, zero-copy slices of a series' columns (bars [start, stop))."""

    timestamp: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.timestamp)

    def bar(self, index: int) -> Bar:
        return Bar(
            int(self.timestamp[index]),
            float(self.open[index]),
            float(self.high[index]),
            float(self.low[index]),
            float(self.close[index]),
            float(self.volume[index]),
        )

    def to_polars(self) -> pl.DataFrame:
        frame = pl.DataFrame({name: getattr(self, name) for name in COLUMNS})
        return frame.with_columns(pl.col("timestamp").cast(pl.Datetime("ns", "UTC")))


class BarSeries:
    """Append-only OHLCV columns of one symbol and interval.

    Appends are amortised O(1): when full, the columns are reallocated at twice the size. Views
    handed out earlier keep pointing at the old buffers, which stay valid (and unchanged, since
    bars are never modified after they are appended).
    """

    __slots__ = ("_columns", "_n")

    def __init__(self, capacity: int = _INITIAL_CAPACITY):
        self._n = 0
        self._columns = self._allocate(max(capacity, 1))

    @staticmethod
    def _allocate(capacity: int) -> dict[str, np.ndarray]:
        return {
            name: np.empty(capacity, dtype=np.int64 if name == "timestamp" else np.float64)
            for name in COLUMNS
        }

    def _grow(self, needed: int) -> None:
        capacity = len(self._columns["timestamp"])
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        grown = self._allocate(capacity)
        for name, column in self._columns.items():
            grown[name][: self._n] = column[: self._n]
        self._columns = grown

    def append(
        self, timestamp: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        n = self._n
        if n and timestamp <= self._columns["timestamp"][n - 1]:
            raise ValueError("bars must be appended in strictly increasing time order")
        self._grow(n + 1)
        c = self._columns
        c["timestamp"][n] = timestamp
        c["open"][n] = open_
        c["high"][n] = high
        c["low"][n] = low
        c["close"][n] = close
        c["volume"][n] = volume
        self._n = n + 1

    def extend(self, columns: dict[str, np.ndarray]) -> None:
        """Append a block of bars (a historical load), in time order."""
        count = len(columns["timestamp"])
        if count == 0:
            return
        ts = np.asarray(columns["timestamp"], dtype=np.int64)
        if np.any(np.diff(ts) <= 0) or (
            self._n and ts[0] <= self._columns["timestamp"][self._n - 1]
        ):
            raise ValueError("bars must be appended in strictly increasing time order")
        self._grow(self._n + count)
        for name in COLUMNS:
            self._columns[name][self._n : self._n + count] = columns[name]
        self._n += count

    def __len__(self) -> int:
        return self._n

    def view(self, start: int = 0, stop: int | None = None) -> BarView:
        """Bars [start, stop) as read-only slices of the live columns: no copy."""
        start, stop, _ = slice(start, stop).indices(self._n)
        parts = {}
        for name, column in self._columns.items():
            part = column[start:stop]
            part.flags.writeable = False
            parts[name] = part
        return BarView(**parts)

    def last(self) -> Bar | None:
        return self.view(self._n - 1).bar(0) if self._n else None

    def clear(self) -> None:
        self._n = 0


class SessionData:
    """Historical and session bars, historical indicators and quality, per symbol and interval.

    ``now_ns`` gives the current time in UTC nanoseconds (the TimeManager's clock); it guards
    every session append against look-ahead.
    """

    def __init__(self, now_ns: Callable[[], int]):
        self._now_ns = now_ns
        self._session: dict[tuple[str, str], BarSeries] = {}
        self._historical: dict[tuple[str, str], BarSeries] = {}
        self._indicators: dict[tuple[str, str], object] = {}
        self._quality: dict[tuple[str, str], float] = {}

    # ------------------------------------------------------------------ bars
    def session_series(self, symbol: str, interval: str) -> BarSeries:
        key = (symbol, interval)
        series = self._session.get(key)
        if series is None:
            series = self._session[key] = BarSeries()
        return series

    def append_bar(self, symbol: str, interval: str, bar: Bar, end_ns: int) -> None:
        """Append a complete bar of the session; ``end_ns`` is when it became complete."""
        if end_ns > self._now_ns():
            raise ClockError(
                f"{symbol} {interval} bar ending at {end_ns} appended before its end "
                f"(now {self._now_ns()}): that would be look-ahead"
            )
        self.session_series(symbol, interval).append(*bar)

    def get_bars(self, symbol: str, interval: str) -> BarView:
        """The session's bars so far (zero-copy view; empty if none yet)."""
        series = self._session.get((symbol, interval))
        return series.view() if series is not None else BarSeries(1).view()

    def set_historical_bars(
        self, symbol: str, interval: str, columns: dict[str, np.ndarray]
    ) -> None:
        """Replace the trailing history of a symbol and interval (reloaded before each session)."""
        series = BarSeries(max(len(columns["timestamp"]), 1))
        series.extend(columns)
        self._historical[(symbol, interval)] = series

    def get_historical_bars(self, symbol: str, interval: str) -> BarView:
        series = self._historical.get((symbol, interval))
        return series.view() if series is not None else BarSeries(1).view()

    # ------------------------------------------------------------------ indicators and quality
    def set_historical_indicator(self, symbol: str, name: str, value: object) -> None:
        self._indicators[(symbol, name)] = value

    def get_historical_indicator(self, symbol: str, name: str) -> object:
        try:
            return self._indicators[(symbol, name)]
        except KeyError:
            raise KeyError(f"no historical indicator {name!r} for {symbol}") from None

    def set_quality(self, symbol: str, interval: str, percent: float) -> None:
        if not 0.0 <= percent <= 100.0:
            raise ValueError(f"quality must be a percentage, got {percent}")
        self._quality[(symbol, interval)] = percent

    def get_quality(self, symbol: str, interval: str) -> float | None:
        return self._quality.get((symbol, interval))

    # ------------------------------------------------------------------ lifecycle
    def clear_session(self) -> None:
        """Drop the session's bars and quality (end of session); history stays."""
        self._session.clear()
        self._quality.clear()

    def clear(self) -> None:
        """Drop everything (the coordinator's stop())."""
        self.clear_session()
        self._historical.clear()
        self._indicators.clear()
