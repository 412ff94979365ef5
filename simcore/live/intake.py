"""A live session's intake: arriving data onto the session's grid (the live feed of the
coordinator, ``LiveIntake``).

At the session's start the grid (symbols x slots of the streamed base interval) is allocated
empty; each arriving bar is written into its slot. A slot is released — made visible, handed to
the processor — when the clock has passed its end plus a grace for lateness, or as soon as its
end has passed and every symbol's bar for it is in. So the rest of the pipeline sees the same
kind of events as in a backtest, and does not know where they came from.

What arrives after its slot was released — a late bar, Alpaca's ``updatedBars``, a gap fill —
is written too, and returned as a ``Correction``: recorded, and handed down so that derived
bars and quality follow; the strategy is not called again, and views it already holds keep the
values it saw. A bar that repeats one already held with the same values is a duplicate:
counted, not applied. Nothing here waits or reads a socket: the live runtime feeds ``accept``
and asks ``due``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from simcore.engine.bars import COLUMNS, StreamedBars
from simcore.engine.events import StreamNotification
from simcore.engine.metrics import PerformanceMetrics
from simcore.engine.session_data import SessionData
from simcore.engine.session_days import SessionDays
from simcore.engine.streams import StreamPlan
from simcore.providers import LiveItem
from simcore.time import TimeManager

FIELDS = COLUMNS[1:]  # open, high, low, close, volume


@dataclass(frozen=True, slots=True)
class Correction:
    """A bar written after its slot was released (late, updated, or a gap fill)."""

    received_ns: int  # the session clock when it was applied
    symbol: str
    interval: str
    bar_ns: int
    kind: str  # "late", "updated", "gap_fill"
    old: tuple[float, ...] | None  # OHLCV before (None: the slot had no bar)
    new: tuple[float, ...]


@dataclass
class LiveCounts:
    """What arrived, for the status line and the outputs."""

    bars: int = 0
    duplicates: int = 0
    unknown_symbol: int = 0
    outside_session: int = 0
    corrections: list[Correction] = field(default_factory=list)


class LiveStream:
    def __init__(self, interval: str, grid, now_ns: Callable[[], int], grace_ns: int):
        self.interval = interval
        self.grid = grid  # simcore.store.source.SessionBars, allocated empty
        self.now_ns = now_ns
        self.grace_ns = grace_ns
        self.index = {s: i for i, s in enumerate(grid.symbols)}
        self.released = 0  # slots [0, released) are out
        self.counts = LiveCounts()
        slots = np.arange(grid.slots, dtype=np.int64)
        self.end_ns = np.minimum(grid.open_ns + (slots + 1) * grid.slot_ns, grid.close_ns)

    @property
    def finished(self) -> bool:
        return self.released >= self.grid.slots

    def accept(self, item: LiveItem) -> tuple[int, int] | Correction | None:
        """Write a bar into its slot. Returns (symbol, slot) of a bar written into a slot not yet
        released, a Correction for one already released, None when nothing changed."""
        s = self.index.get(item.symbol)
        if s is None:
            self.counts.unknown_symbol += 1
            return None
        grid = self.grid
        slot = (item.time_ns - grid.open_ns) // grid.slot_ns
        if item.time_ns < grid.open_ns or slot >= grid.slots:
            self.counts.outside_session += 1
            return None
        slot = int(slot)
        had = bool(grid.present[s, slot])
        old = tuple(float(grid.values[f][s, slot]) for f in FIELDS) if had else None
        new = tuple(float(v) for v in item.values[:5])
        if had and old == new:
            self.counts.duplicates += 1
            return None
        for name, value in zip(FIELDS, new, strict=True):
            grid.values[name][s, slot] = value
        grid.present[s, slot] = True
        if item.kind == "bar" and not had:
            self.counts.bars += 1
        if slot >= self.released:
            return (s, slot)
        kind = {"fill": "gap_fill", "updated": "updated"}.get(item.kind, "late")
        correction = Correction(
            self.now_ns(), item.symbol, self.interval, item.time_ns, kind, old, new
        )
        self.counts.corrections.append(correction)
        return correction

    def next_due_ns(self) -> int | None:
        """When the next slot falls due: its end once every symbol's bar is in (a provider
        whose clock runs ahead of ours sends a bar before its end here), else its end plus
        the grace."""
        if self.finished:
            return None
        k = self.released
        complete = bool(self.grid.present[:, k].all())
        return int(self.end_ns[k]) + (0 if complete else self.grace_ns)

    def due_slots(self, now_ns: int) -> np.ndarray:
        """The slots to release now, in order: each past its end, and complete or past the grace."""
        k = self.released
        present = self.grid.present
        while (
            k < self.grid.slots
            and now_ns >= self.end_ns[k]
            and (now_ns >= self.end_ns[k] + self.grace_ns or present[:, k].all())
        ):
            k += 1
        return np.arange(self.released, k, dtype=np.int64)

    def release(self, slots: np.ndarray) -> StreamNotification:
        """Mark ``slots`` released and describe them as the backtest's coordinator would."""
        self.released = int(slots[-1]) + 1
        return StreamNotification(int(self.end_ns[slots[-1]]), {self.interval: slots})


class _Growing:
    """Append-only columns of one symbol's quotes or trades (amortised O(1) appends)."""

    def __init__(self, names: tuple[str, ...]):
        self.names = names
        self.n = 0
        self.columns = {"timestamp": np.empty(64, dtype=np.int64)}
        self.columns |= {name: np.empty(64) for name in names}

    def append(self, ns: int, values: tuple[float, ...]) -> None:
        if self.n == len(self.columns["timestamp"]):
            self.columns = {
                k: np.concatenate([v, np.empty_like(v)]) for k, v in self.columns.items()
            }
        if self.n and ns < self.columns["timestamp"][self.n - 1]:
            return  # out of order: the series stays in time order (counted by the caller)
        self.columns["timestamp"][self.n] = ns
        for name, value in zip(self.names, values, strict=False):
            self.columns[name][self.n] = value
        self.n += 1

    def view(self, name: str) -> np.ndarray:
        return self.columns[name][: self.n]


class _Book:
    """What session_data reads of quotes: ``timestamp[symbol]`` and ``values[symbol]``."""

    def __init__(self, symbols: tuple[str, ...], names: tuple[str, ...]):
        self.series = {s: _Growing(names) for s in symbols}
        self.names = names
        self.timestamp = _Timestamps(self)
        self.values = _Values(self)


class _Timestamps:
    def __init__(self, book: _Book):
        self.book = book

    def __contains__(self, symbol: str) -> bool:
        return symbol in self.book.series

    def __getitem__(self, symbol: str) -> np.ndarray:
        return self.book.series[symbol].view("timestamp")


class _Values:
    def __init__(self, book: _Book):
        self.book = book

    def __getitem__(self, symbol: str) -> dict[str, np.ndarray]:
        series = self.book.series[symbol]
        return {name: series.view(name) for name in self.book.names}


class LiveTicks:
    """A live session's quotes and trades per symbol, appended as they arrive."""

    QUOTE_FIELDS = ("bid_price", "bid_size", "ask_price", "ask_size")
    TRADE_FIELDS = ("price", "size")

    def __init__(self, symbols: tuple[str, ...]):
        self.quotes = _Book(symbols, self.QUOTE_FIELDS)
        self.trades = _Book(symbols, self.TRADE_FIELDS)
        self.received = {"quote": 0, "trade": 0}

    def add(self, item: LiveItem) -> None:
        book = self.quotes if item.kind == "quote" else self.trades
        series = book.series.get(item.symbol)
        if series is not None:
            series.append(item.time_ns, item.values)
            self.received[item.kind] += 1


class LiveIntake:
    """A live session's feed: the coordinator opens it before each session (an empty grid per
    streamed base interval, empty quote and trade series), the live runtime hands it what the
    provider's feed delivers (``accept``) and asks it for the slots that fall due (``due``).
    The counterpart of the backtest's ``BacktestFeed``."""

    bars_outside_session = 0  # a live grid is written slot by slot: nothing falls outside it

    def __init__(
        self,
        source,
        session_data: SessionData,
        metrics: PerformanceMetrics,
        time_manager: TimeManager,
        grace_ns: int,
    ):
        self.source = source
        self.session_data = session_data
        self.metrics = metrics
        self.tm = time_manager
        self.grace_ns = grace_ns  # how long a slot waits for late bars
        self.symbols = session_data.symbols
        self.plan: StreamPlan | None = None
        self.streams: dict[str, LiveStream] = {}  # the session's, by base interval
        self.ticks: LiveTicks | None = None
        self.open_ns = 0  # the session's open, UTC ns

    def start(self, plan: StreamPlan, days: SessionDays) -> None:
        self.plan = plan

    def stop(self) -> None:
        self.streams = {}

    def open_session(self, day: date) -> None:
        assert self.plan is not None
        self.open_ns = self.tm.to_utc_ns(self.tm.get_trading_session(day).regular_open)
        self.streams = {}
        for base in self.plan.bases:
            grid = self.source.empty_session_bars(self.symbols, base, day)
            self.session_data.attach_streamed(base, StreamedBars(grid))
            self.streams[base] = LiveStream(base, grid, self.tm.current_time_ns, self.grace_ns)
        self.ticks = LiveTicks(self.symbols)
        self.session_data.attach_quotes(self.ticks.quotes)

    def accept(self, item: LiveItem) -> tuple[str, int, int, bool] | None:
        """An arriving message: a bar into its slot, a quote or trade onto its series. Returns
        a correction to hand down (a bar written after its slot was released)."""
        if item.kind in ("quote", "trade"):
            self.ticks.add(item)
            return None
        for base, stream in self.streams.items():
            outcome = stream.accept(item)
            if isinstance(outcome, Correction):
                s, slot = (
                    stream.index[item.symbol],
                    (item.time_ns - stream.grid.open_ns) // stream.grid.slot_ns,
                )
                return (base, s, int(slot), outcome.old is None)
            return None
        return None

    def due(self, now_ns: int) -> StreamNotification | None:
        """The slots due now, released into session_data (None when nothing is due)."""
        released: dict[str, np.ndarray] = {}
        ns = 0
        for base, stream in self.streams.items():
            slots = stream.due_slots(now_ns)
            if slots.size:
                note = stream.release(slots)
                ns = max(ns, note.ns)
                self.metrics.bars_streamed += self.session_data.reveal_block(base, slots)
                released[base] = slots
        return StreamNotification(ns, released) if released else None

    def released_ns(self) -> int:
        """The end of the last slot released so far (the open before the first)."""
        ends = [int(s.end_ns[s.released - 1]) for s in self.streams.values() if s.released]
        return max(ends) if ends else self.open_ns

    def next_due_ns(self) -> int | None:
        times = [t for t in (s.next_due_ns() for s in self.streams.values()) if t]
        return min(times) if times else None

    def finished(self) -> bool:
        return all(s.finished for s in self.streams.values())

    def release_ended(self, now_ns: int) -> int:
        """After a stop: release every slot whose end has passed (its bars are complete).
        Returns the bars so released."""
        released = 0
        for base, stream in self.streams.items():
            last = int(np.searchsorted(stream.end_ns, now_ns, side="right"))  # ended by now
            if last > stream.released:
                slots = np.arange(stream.released, last, dtype=np.int64)
                stream.release(slots)
                released += self.session_data.reveal_block(base, slots)
        return released
