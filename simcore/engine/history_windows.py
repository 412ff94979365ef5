"""Trailing history held as NumPy columns for a block of sessions.

The coordinator reads history once per read-ahead block (the union of the block's trailing
windows) and then hands each session exactly its own windows: rows are sorted by symbol and
time, and a trailing window is a run of consecutive trading days, so each symbol's window is a
contiguous row range. The ranges of every symbol are found at once (two ``searchsorted`` calls
over a symbol-and-day key), and a symbol's bars are zero-copy slices taken only when read: a
session costs the same for 5 symbols or 500, and no session re-reads disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from simcore.engine.bars import COLUMNS, BarView

_EPOCH_DAY = date(1970, 1, 1)
_DAY_BITS = 32  # key = symbol number << 32 | days since the epoch


def _day_number(day: date) -> int:
    return (day - _EPOCH_DAY).days


@dataclass(frozen=True)
class HistoryWindows:
    """One session's trailing window of each of ``symbols``: rows [lo, hi) of ``columns``."""

    symbols: tuple[str, ...]
    columns: dict[str, np.ndarray]  # timestamp (UTC ns) and OHLCV, read-only
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def of_columns(cls, symbol: str, columns: dict[str, np.ndarray]) -> HistoryWindows:
        """A single symbol's bars, kept by reference."""
        size = len(columns["timestamp"])
        return cls((symbol,), dict(columns), np.array([0]), np.array([size]))

    def counts(self) -> np.ndarray:
        return self.hi - self.lo

    def view(self, position: int) -> BarView:
        """The bars of ``symbols[position]`` (zero-copy slices)."""
        lo, hi = int(self.lo[position]), int(self.hi[position])
        return BarView(**{name: self.columns[name][lo:hi] for name in COLUMNS})

    def last(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(has a bar, the newest bar's ``name``) per symbol; the value is 0 where none."""
        has = self.hi > self.lo
        column = self.columns[name]
        if not column.size:
            return has, np.zeros(has.size, dtype=column.dtype)
        return has, np.where(has, column[np.maximum(self.hi - 1, 0)], 0)


@dataclass
class HistoryBlock:
    sessions: frozenset[date]
    symbols: tuple[str, ...]
    key: np.ndarray  # int64 symbol number << 32 | day number, per row, ascending
    columns: dict[str, np.ndarray]  # timestamp (UTC ns) and OHLCV, per row

    @classmethod
    def from_frame(
        cls, frame: pl.DataFrame, symbols: tuple[str, ...], sessions: frozenset[date]
    ) -> HistoryBlock:
        """``frame``: symbol, day, timestamp and OHLCV rows of any order, of ``symbols``."""
        number = {s: i for i, s in enumerate(symbols)}
        ordered = (
            frame.select(
                pl.col("symbol").replace_strict(number, return_dtype=pl.Int64).alias("number"),
                pl.col("day").cast(pl.Int32).cast(pl.Int64).alias("day"),
                pl.col("timestamp").dt.epoch("ns").alias("timestamp"),
                *[pl.col(c).cast(pl.Float64) for c in COLUMNS[1:]],
            )
            .sort("number", "timestamp")
            .select((pl.col("number") * (1 << _DAY_BITS) + pl.col("day")).alias("key"), *COLUMNS)
        )
        columns = {c: ordered[c].to_numpy() for c in COLUMNS}
        for column in columns.values():
            column.flags.writeable = False
        return cls(sessions, symbols, ordered["key"].to_numpy(), columns)

    def windows(self, days: list[date]) -> HistoryWindows:
        """Every symbol's rows on ``days`` (consecutive trading days)."""
        if not days:
            empty = np.zeros(len(self.symbols), dtype=np.int64)
            return HistoryWindows(self.symbols, self.columns, empty, empty)
        numbers = np.arange(len(self.symbols), dtype=np.int64) << _DAY_BITS
        lo = np.searchsorted(self.key, numbers + _day_number(days[0]), side="left")
        hi = np.searchsorted(self.key, numbers + _day_number(days[-1]), side="right")
        return HistoryWindows(self.symbols, self.columns, lo, hi)

    def frame_of(self, days: list[date]) -> pl.DataFrame:
        """Every symbol's rows on ``days`` (ascending; gaps allowed) as a frame: symbol, day
        and the bar columns, by symbol then time (as a store scan returns them)."""
        window = self.windows([days[0], days[-1]]) if days else self.windows([])
        lengths = window.hi - window.lo
        starts = np.cumsum(lengths) - lengths
        rows = np.arange(int(lengths.sum())) - np.repeat(starts, lengths)
        rows += np.repeat(window.lo, lengths)
        day = (self.key[rows] & ((1 << _DAY_BITS) - 1)).astype(np.int32)
        keep = np.isin(day, np.array([_day_number(d) for d in days], dtype=np.int32))
        rows, day = rows[keep], day[keep]
        numbers = pl.Series(self.key[rows] >> _DAY_BITS)
        return pl.DataFrame(
            {
                "symbol": pl.Series(self.symbols, dtype=pl.String).gather(numbers),
                "day": pl.Series(day).cast(pl.Date),
                **{c: self.columns[c][rows] for c in COLUMNS},
            }
        )
