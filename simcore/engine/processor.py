"""Data processor: derived bars and real-time indicators, for all symbols of a timestamp at once.

For every GENERATED interval the session is cut into windows (aligned to the session open, or
to the clock), each window knowing its range of base slots. When the clock reaches a window's
end, the window is complete — whatever base bars are missing — and its bars are built for every
symbol in one vectorised step over the session grid, then appended to session_data. Intervals
are processed in ascending order (5m before 15m). The last window of the day ends at the close
(an early close cuts it). Real-time indicators update on the bars of their interval.

This module has no runtime in it: the SimPy runtime (or a wall-clock one) calls ``handle``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from simcore.config.vocabulary import INTERVAL_LENGTH, interval_sort_key
from simcore.engine.bars import RevealedBars
from simcore.engine.events import DataUpdate, StreamNotification
from simcore.engine.indicators import FIELDS, IndicatorRequest, RealtimeIndicator
from simcore.engine.session_data import SessionData
from simcore.engine.streams import StreamPlan
from simcore.time import TimeManager


@dataclass
class _Windows:
    interval: str
    base: str
    label_ns: np.ndarray  # bar timestamps (window starts; the daily label for 1d)
    end_ns: np.ndarray  # when each window is complete
    slot_from: np.ndarray
    next: int = 0
    bars: RevealedBars | None = None

    def __post_init__(self) -> None:
        self.ends = self.end_ns.tolist()  # Python ints: compared once per event and window


class DataProcessor:
    def __init__(
        self,
        session_data: SessionData,
        plan: StreamPlan,
        time_manager: TimeManager,
        alignment: str = "session",
        indicators: tuple[IndicatorRequest, ...] = (),
    ):
        self.session_data = session_data
        self.plan = plan
        self.tm = time_manager
        self.alignment = alignment
        symbols = len(session_data.symbols)
        self.indicators: dict[str, list[tuple[str, RealtimeIndicator]]] = {}
        for request in indicators:
            indicator = request.build(symbols)
            self.indicators.setdefault(request.interval, []).append((request.name, indicator))
            session_data.register_indicator(request.interval, request.name, indicator)
        # per interval, the bar fields its indicators read: only those are gathered
        self._fields = {
            interval: tuple(f for f in FIELDS if any(f in ind.fields for _, ind in indicators))
            for interval, indicators in self.indicators.items()
        }
        self._windows: list[_Windows] = []
        self.bars_generated = 0
        self.listened: frozenset[str] = frozenset()  # intervals the analysis engine subscribed to
        # whether orders are working: then every released base slot is handed on (the broker
        # checks each bar); set by the system to the trader's answer
        self.orders_working: Callable[[], bool] = lambda: False

    # ------------------------------------------------------------------ session
    def begin_session(self, day: date) -> None:
        """Lay out the windows of every generated interval over today's base grids, and build
        their bars, to be revealed one window at a time as the clock reaches each window's end.

        The session's base bars are all in the stream queue already (prefetched), so each
        window's bar is computed for all symbols and windows in a few vectorised reductions;
        what makes a bar visible is the clock, exactly as if it had been built at that moment.
        """
        self._windows = []
        for interval in self.plan.generated:
            for base in self.plan.bases:
                streamed = self.session_data.streamed(base)
                if streamed is None or interval_sort_key(interval) <= interval_sort_key(base):
                    continue
                windows = self._layout(interval, base, streamed.grid, day)
                windows.bars = (
                    _empty_windows(streamed.grid, windows)
                    if streamed.live
                    else _derive(streamed.grid, windows)
                )
                self._windows.append(windows)
                self.session_data.attach_derived(interval, windows.bars)
        for indicators in self.indicators.values():
            for _, indicator in indicators:
                if indicator.session_scoped:
                    indicator.reset()

    def _layout(self, interval: str, base: str, grid, day: date) -> _Windows:
        open_ns, close_ns, slot_ns = grid.open_ns, grid.close_ns, grid.slot_ns
        if interval == "1d":
            return _Windows(
                interval,
                base,
                np.array([self.tm.daily_bar_label_ns(day)]),
                np.array([close_ns]),
                np.array([0]),
            )
        length = INTERVAL_LENGTH[interval] // INTERVAL_LENGTH["1s"] * 1_000_000_000
        if self.alignment == "session":
            starts = np.arange(open_ns, close_ns, length, dtype=np.int64)
        else:
            first = open_ns // length * length
            starts = np.arange(first, close_ns, length, dtype=np.int64)
        ends = np.minimum(starts + length, close_ns)
        slot_from = np.maximum(starts - open_ns, 0) // slot_ns
        return _Windows(interval, base, starts, ends, slot_from)

    def stop_times(self, subscriptions: frozenset[str]) -> np.ndarray | None:
        """Times the analysis engine must observe this session: the ends of the windows of the
        derived intervals it subscribed to; None (every timestamp) when it subscribed to a
        streamed interval."""
        if subscriptions & set(self.plan.bases):
            return None
        ends = [w.end_ns for w in self._windows if w.interval in subscriptions]
        return np.unique(np.concatenate(ends)) if ends else np.array([], dtype=np.int64)

    # ------------------------------------------------------------------ streaming
    def handle(self, note: StreamNotification) -> DataUpdate:
        """Process one released timestamp; return what became available, per interval."""
        update = DataUpdate(note.ns, end_of_session=note.end_of_session)
        if note.corrections:
            self.apply_corrections([(b, s, slot) for b, s, slot, _ in note.corrections])
        trading = self.orders_working()
        for base, slots in note.released.items():
            listened = base in self.indicators or base in self.listened
            if not (listened or trading):
                continue
            present = self.session_data.streamed(base).grid.present
            if trading:  # the slots with a bar; the broker finds its symbols' bars in them
                with_bars = slots[present[:, slots].any(axis=0)]
                update.slots.extend((base, slot) for slot in with_bars.tolist())
            if not listened:
                continue
            for slot in slots.tolist():
                symbols = np.flatnonzero(present[:, slot])
                if symbols.size:
                    if base in self.indicators:
                        grid = self.session_data.streamed(base).grid
                        bars = {f: grid.values[f][symbols, slot] for f in self._fields[base]}
                        self._update_indicators(base, symbols, bars)
                    update.bars.append((base, symbols))
        for windows in self._windows:
            bars, ends = windows.bars, windows.ends
            while windows.next < len(ends) and ends[windows.next] <= note.ns:
                k = windows.next
                windows.next += 1
                if bars.live:  # built from what arrived, now that the window is complete
                    _derive_window(self.session_data.streamed(windows.base).grid, windows, k)
                symbols = self.session_data.reveal(windows.interval, k)
                if symbols.size:
                    self.bars_generated += symbols.size
                    if windows.interval in self.indicators:
                        wanted = self._fields[windows.interval]
                        if symbols.size == bars.present.shape[0]:  # every symbol: a view
                            values = {f: bars.values[f][:, k] for f in wanted}
                        else:
                            values = {f: bars.values[f][symbols, k] for f in wanted}
                        self._update_indicators(windows.interval, symbols, values)
                    update.bars.append((windows.interval, symbols))
        return update

    def apply_corrections(self, corrections: list[tuple[str, int, int]]) -> None:
        """Base bars written after their release (live): the streamed view shows them, and
        every derived window already revealed that contains them is built again. Real-time
        indicators are not rewound: they go on from the values they had."""
        touched: dict[tuple[int, int], set[int]] = {}  # (windows, window) -> symbols
        for base, symbol, slot in corrections:
            self.session_data.streamed(base).correct(symbol, slot)
            for number, windows in enumerate(self._windows):
                if windows.base != base:
                    continue
                k = int(np.searchsorted(windows.slot_from, slot, side="right")) - 1
                if 0 <= k < windows.next:
                    touched.setdefault((number, k), set()).add(symbol)
        # a gap fill brings many bars of one window at once: each window is built again once
        for (number, k), symbols in touched.items():
            windows = self._windows[number]
            _derive_window(self.session_data.streamed(windows.base).grid, windows, k)
            for symbol in sorted(symbols):
                windows.bars.correct(symbol, k)

    def _update_indicators(
        self, interval: str, symbols: np.ndarray, bars: dict[str, np.ndarray]
    ) -> None:
        for _, indicator in self.indicators.get(interval, ()):
            indicator.update(symbols, bars)


def _derive(grid, w: _Windows) -> RevealedBars:
    """Every window's bar for every symbol, from the base grid: first open, highest high,
    lowest low, last close, summed volume over the window's present base bars."""
    present, v = grid.present, grid.values
    count, slots = present.shape
    starts = w.slot_from.astype(np.intp)
    index = np.arange(slots)
    first = np.minimum.reduceat(np.where(present, index, slots), starts, axis=1)
    last = np.maximum.reduceat(np.where(present, index, -1), starts, axis=1)
    has_bar = first < slots
    rows = np.arange(count)[:, None]
    safe_first, safe_last = np.where(has_bar, first, 0), np.where(has_bar, last, 0)
    values = {
        "open": np.where(has_bar, v["open"][rows, safe_first], np.nan),
        "high": np.fmax.reduceat(v["high"], starts, axis=1),
        "low": np.fmin.reduceat(v["low"], starts, axis=1),
        "close": np.where(has_bar, v["close"][rows, safe_last], np.nan),
        "volume": np.add.reduceat(v["volume"], starts, axis=1),
    }
    for array in values.values():
        array.flags.writeable = False
    return RevealedBars(has_bar, values, w.label_ns, w.end_ns)


def _empty_windows(grid, w: _Windows) -> RevealedBars:
    """A live session's derived bars: nothing yet; each window is built when it completes."""
    count, windows = grid.present.shape[0], len(w.label_ns)
    values = {
        name: np.full((count, windows), 0.0 if name == "volume" else np.nan)
        for name in ("open", "high", "low", "close", "volume")
    }
    return RevealedBars(np.zeros((count, windows), dtype=bool), values, w.label_ns, w.end_ns, True)


def _derive_window(grid, w: _Windows, k: int) -> None:
    """Window ``k``'s bar for every symbol, from the base slots it covers (the same rules as
    ``_derive``, for one window at a time)."""
    lo = int(w.slot_from[k])
    hi = int(w.slot_from[k + 1]) if k + 1 < len(w.slot_from) else grid.slots
    present = grid.present[:, lo:hi]
    v = grid.values
    has_bar = present.any(axis=1)
    first = np.where(has_bar, present.argmax(axis=1), 0) + lo
    last = np.where(has_bar, hi - 1 - present[:, ::-1].argmax(axis=1), lo)
    rows = np.arange(present.shape[0])
    out = w.bars
    with np.errstate(all="ignore"):
        out.values["open"][:, k] = np.where(has_bar, v["open"][rows, first], np.nan)
        out.values["high"][:, k] = np.fmax.reduce(v["high"][:, lo:hi], axis=1)
        out.values["low"][:, k] = np.fmin.reduce(v["low"][:, lo:hi], axis=1)
        out.values["close"][:, k] = np.where(has_bar, v["close"][rows, last], np.nan)
        out.values["volume"][:, k] = np.add.reduce(v["volume"][:, lo:hi], axis=1)
    out.present[:, k] = has_bar
