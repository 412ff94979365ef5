"""Bars and the containers that hold them, column-wise.

``Bar`` is one bar as a light record; ``BarView`` is zero-copy slices of a run of bars. The
containers: ``BarSeries`` (append-only columns), ``RevealedBars`` (a session's bars of one
interval for all symbols, known in advance and revealed as the clock passes their ends; the
streamed base bars are ``StreamedBars``), ``DerivedBars`` (bars appended one window at a time,
for bars built incrementally). ``ohlcv_aggregations`` says how bars combine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import polars as pl

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


class RevealedBars:
    """Bars of one interval for all symbols of a session, known in advance and revealed in time.

    Rows are symbols, columns are slots (base minutes, or derived windows), with ``present``
    saying which symbol has a bar in which slot and ``end_ns`` when each slot's bar is
    complete. Revealing a slot moves the per-symbol cursors: that is the design's "append by
    reference", at the cost of one integer increment per symbol. Per-symbol compact columns
    (no gaps) are built once, so ``view(symbol)`` is a slice up to the cursor — zero-copy, and
    nothing past the cursor exists for a reader. A slot can only be revealed once the clock has
    reached its end.
    """

    def __init__(
        self,
        present: np.ndarray,
        values: dict[str, np.ndarray],
        label_ns: np.ndarray,
        end_ns: np.ndarray,
        live: bool = False,
    ) -> None:
        # live: bars are written into slots as they arrive (and may be corrected), so a
        # symbol's compact columns are rebuilt after each change instead of built once
        self.live = live
        self.present = present
        self.values = values
        self.label_ns = label_ns
        self.end_ns = end_ns
        count = present.shape[0]
        self.cursor = np.zeros(count, dtype=np.int64)
        self.last_slot = np.full(count, -1, dtype=np.int64)
        self.revealed = 0  # slots [0, revealed) are out
        self._columns: list[dict[str, np.ndarray] | None] = [None] * count
        self._everyone = np.arange(count)
        self._everyone.flags.writeable = False

    def _compact(self, s: int) -> dict[str, np.ndarray]:
        """Symbol ``s``'s bars without gaps, built on first use (a batch strategy never asks)."""
        columns = self._columns[s]
        if columns is None:
            slots = np.flatnonzero(self.present[s])
            columns = {"timestamp": self.label_ns[slots]}
            for name in COLUMNS[1:]:
                columns[name] = self.values[name][s, slots]
            for column in columns.values():
                column.flags.writeable = False
            self._columns[s] = columns
        return columns

    @property
    def slots(self) -> int:
        return self.present.shape[1]

    def reveal(self, slot: int) -> np.ndarray:
        """Reveal one slot: the symbols that have a bar in it (their cursors advance)."""
        column = self.present[:, slot]
        if column.all():  # the common case: every symbol has its bar
            self.cursor += 1
            self.last_slot[:] = slot
            self.revealed = slot + 1
            if self.live:
                self.refresh(self._everyone)
            return self._everyone
        symbols = np.flatnonzero(column)
        self.cursor[symbols] += 1
        self.last_slot[symbols] = slot
        self.revealed = slot + 1
        if self.live:
            self.refresh(symbols)
        return symbols

    def refresh(self, symbols: np.ndarray) -> None:
        """Forget the compact columns of ``symbols`` (their bars changed): rebuilt on next use.
        Views handed out before keep the arrays, and the values, they were given."""
        for s in symbols.tolist():
            self._columns[s] = None

    def correct(self, symbol: int, slot: int) -> None:
        """A released slot of ``symbol`` was written after its release (a late bar, an update,
        a gap fill): count it if it is new, and let readers see it from now on."""
        if slot < self.revealed:
            self.cursor[symbol] = int(self.present[symbol, : self.revealed].sum())
            self.last_slot[symbol] = max(int(self.last_slot[symbol]), slot)
        self._columns[symbol] = None

    def reveal_block(self, slots: np.ndarray) -> int:
        """Reveal several slots at once (ascending); returns how many bars that released."""
        first, last = int(slots[0]), int(slots[-1])
        contiguous = last - first + 1 == slots.size
        block = self.present[:, first : last + 1] if contiguous else self.present[:, slots]
        if self.live:
            self.refresh(self._everyone)
        if block.all():
            self.cursor += slots.size
            self.last_slot[:] = last
            self.revealed = last + 1
            return block.size
        counts = block.sum(axis=1)
        self.cursor += counts
        has = counts > 0
        last_index = block.shape[1] - 1 - block[:, ::-1].argmax(axis=1)
        self.last_slot[has] = slots[last_index[has]]
        self.revealed = int(slots[-1]) + 1
        return int(counts.sum())

    def view(self, symbol_index: int) -> BarView:
        n = int(self.cursor[symbol_index])
        columns = self._compact(symbol_index)
        return BarView(**{name: columns[name][:n] for name in COLUMNS})

    def last_bar(self, symbol_index: int) -> Bar:
        k = int(self.last_slot[symbol_index])
        if k < 0:
            raise IndexError("no bar revealed yet for this symbol")
        v = self.values
        return Bar(
            int(self.label_ns[k]),
            float(v["open"][symbol_index, k]),
            float(v["high"][symbol_index, k]),
            float(v["low"][symbol_index, k]),
            float(v["close"][symbol_index, k]),
            float(v["volume"][symbol_index, k]),
        )

    def last_values(
        self, symbols: np.ndarray, fields: tuple[str, ...] = COLUMNS
    ) -> dict[str, np.ndarray]:
        """The newest bar of each of ``symbols`` as arrays (a gather, for batch callbacks)."""
        slots = self.last_slot[symbols]
        out = {name: self.values[name][symbols, slots] for name in fields if name != "timestamp"}
        if "timestamp" in fields:
            out["timestamp"] = self.label_ns[slots]
        return out

    def revealed_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(symbol, slot) of every revealed bar, by symbol then time."""
        return np.nonzero(self.present[:, : self.revealed])


class StreamedBars(RevealedBars):
    """A session's streamed base bars: the prefetched grid, revealed slot by slot."""

    def __init__(self, grid) -> None:  # grid: simcore.store.source.SessionBars
        self.grid = grid
        slots = np.arange(grid.slots, dtype=np.int64)
        label = grid.open_ns + slots * grid.slot_ns
        end = np.minimum(label + grid.slot_ns, grid.close_ns)
        super().__init__(grid.present, grid.values, label, end, getattr(grid, "live", False))


class DerivedBars:
    """A session's derived bars of one interval for all symbols: (symbol x window) columns and
    a count per symbol. Appending a window's bars for many symbols is one vectorised write;
    ``view(i)`` is a slice of row ``i`` (contiguous, no copy)."""

    def __init__(self, symbols: int, capacity: int = 8):
        self.count = np.zeros(symbols, dtype=np.int64)
        self.columns = {
            name: np.empty(
                (symbols, max(capacity, 1)), dtype=np.int64 if name == "timestamp" else np.float64
            )
            for name in COLUMNS
        }

    def append(self, symbols: np.ndarray, label_ns: int, values: dict[str, np.ndarray]) -> None:
        positions = self.count[symbols]
        if positions.size and positions.max() >= self.columns["timestamp"].shape[1]:
            self._grow()
        self.columns["timestamp"][symbols, positions] = label_ns
        for name in COLUMNS[1:]:
            self.columns[name][symbols, positions] = values[name]
        self.count[symbols] += 1

    def _grow(self) -> None:
        for name, column in self.columns.items():
            grown = np.empty((column.shape[0], column.shape[1] * 2), dtype=column.dtype)
            grown[:, : column.shape[1]] = column
            self.columns[name] = grown

    def view(self, symbol_index: int) -> BarView:
        n = int(self.count[symbol_index])
        parts = {}
        for name, column in self.columns.items():
            part = column[symbol_index, :n]
            part.flags.writeable = False
            parts[name] = part
        return BarView(**parts)

    def last_bar(self, symbol_index: int) -> Bar:
        k = int(self.count[symbol_index]) - 1
        c = self.columns
        return Bar(
            int(c["timestamp"][symbol_index, k]),
            float(c["open"][symbol_index, k]),
            float(c["high"][symbol_index, k]),
            float(c["low"][symbol_index, k]),
            float(c["close"][symbol_index, k]),
            float(c["volume"][symbol_index, k]),
        )
