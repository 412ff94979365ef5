"""Trailing history held as NumPy columns for a block of sessions.

The coordinator reads history once per prefetch block (the union of the block's trailing
windows) and then hands each session exactly its own window: a contiguous row range per symbol
(rows are sorted by symbol and time, and a trailing window is a run of consecutive trading
days), so every session's historical bars are zero-copy slices and no session re-reads disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from simcore.bars import COLUMNS

_EPOCH_DAY = date(1970, 1, 1)


def _day_number(day: date) -> int:
    return (day - _EPOCH_DAY).days


@dataclass
class HistoryBlock:
    sessions: frozenset[date]
    bounds: dict[str, tuple[int, int]]  # symbol -> [first row, end row)
    day: np.ndarray  # int32 days since the epoch, per row
    columns: dict[str, np.ndarray]  # timestamp (UTC ns) and OHLCV, per row

    @classmethod
    def from_frame(cls, frame: pl.DataFrame, sessions: frozenset[date]) -> HistoryBlock:
        """``frame``: symbol, day, timestamp and OHLCV rows of any order."""
        ordered = frame.sort("symbol", "timestamp").select(
            "symbol",
            pl.col("day").cast(pl.Int32),
            pl.col("timestamp").dt.epoch("ns").alias("timestamp"),
            *[pl.col(c).cast(pl.Float64) for c in COLUMNS[1:]],
        )
        symbols = ordered["symbol"].to_numpy()
        bounds: dict[str, tuple[int, int]] = {}
        if symbols.size:
            starts = np.flatnonzero(np.concatenate(([True], symbols[1:] != symbols[:-1])))
            ends = np.concatenate((starts[1:], [symbols.size]))
            bounds = {str(symbols[a]): (int(a), int(b)) for a, b in zip(starts, ends, strict=True)}
        columns = {c: ordered[c].to_numpy() for c in COLUMNS}
        for column in columns.values():
            column.flags.writeable = False
        return cls(sessions, bounds, ordered["day"].to_numpy(), columns)

    def window(self, symbol: str, days: list[date]) -> dict[str, np.ndarray]:
        """The symbol's rows on ``days`` (consecutive trading days), as zero-copy slices."""
        lo, hi = self.bounds.get(symbol, (0, 0))
        if not days or lo == hi:
            return {c: self.columns[c][0:0] for c in COLUMNS}
        day = self.day[lo:hi]
        first = lo + int(np.searchsorted(day, _day_number(days[0]), side="left"))
        last = lo + int(np.searchsorted(day, _day_number(days[-1]), side="right"))
        return {c: self.columns[c][first:last] for c in COLUMNS}
