"""The backtest's feed: the coordinator's stream queues, loaded from the store before each
session, and the session's events in time order.

Before a session (``open_session``) the queue holds its grid — one row per symbol, one column
per slot of the streamed base interval, NaN where a bar is missing — read with the following
sessions of the read-ahead in one read (quotes: ``prefetch_days`` sessions), and the grid is
attached to session_data. ``events`` then lists the session's timestamps that have data for
any symbol, one event per timestamp (all symbols' bars of it at once). The live feed
(``simcore.live.intake.LiveIntake``) has the same ``open_session``; what differs is where a
session's bars come from and when they are released.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np

from simcore.engine.bars import StreamedBars
from simcore.engine.events import StreamNotification
from simcore.engine.session_data import SessionData
from simcore.engine.session_days import SessionDays
from simcore.engine.streams import StreamPlan


class BacktestFeed:
    def __init__(self, source, session_data: SessionData, metrics: object = None):
        # (metrics: the feed factory's shape; releases are counted by the coordinator here)
        self.source = source
        self.session_data = session_data
        self.symbols = session_data.symbols
        self.plan: StreamPlan | None = None
        self.days: SessionDays | None = None
        self._queue: dict[date, dict[str, object]] = {}  # prefetched sessions' bar grids
        self._quote_queue: dict[date, object] = {}  # prefetched sessions' quotes
        # regular-session bars the store held that fell outside their session's slots (a store
        # whose extended flags disagree with the calendar); counted and reported, not streamed
        self.bars_outside_session = 0

    def start(self, plan: StreamPlan, days: SessionDays) -> None:
        self.plan, self.days = plan, days

    def stop(self) -> None:
        self._queue.clear()
        self._quote_queue.clear()

    def open_session(self, day: date) -> None:
        """Prefetch: when the session is not queued, load it and the following sessions of its
        read-ahead in one read; then attach its grids (and quotes) to session_data."""
        assert self.plan is not None and self.days is not None
        if day not in self._queue:
            bases = self.plan.bases
            batch = self.days.read_ahead(day, bases[0], len(self.symbols)) if bases else [day]
            loaded: dict[date, dict[str, object]] = {d: {} for d in batch}
            for base in bases:
                symbols = [s for s in self.symbols if self.plan.base[s] == base]
                for d, grid in self.source.start_bars(symbols, base, batch).items():
                    loaded[d][base] = _widen(grid, self.symbols)
                    self.bars_outside_session += grid.outside_session
            self._queue.update(loaded)
        quote_symbols = self.plan.symbols_streaming("quotes")
        if quote_symbols and day not in self._quote_queue:
            self._quote_queue.update(
                self.source.start_quotes(quote_symbols, self.days.prefetched(day))
            )
        for base, grid in self._queue.pop(day).items():
            self.session_data.attach_streamed(base, StreamedBars(grid))
        if day in self._quote_queue:
            self.session_data.attach_quotes(self._quote_queue.pop(day))

    def events(self, stops: np.ndarray | None = None) -> Iterator[StreamNotification]:
        """The session's events in time order: one per timestamp that has data for any symbol.

        ``stops`` (sorted UTC ns) are the only times a consumer needs to observe, e.g. the ends
        of the windows a strategy subscribed to. A timestamp is then an event only if a stop
        lies between the previous timestamp (exclusive) and it (inclusive) — exactly the
        timestamps at which something would have been delivered — and the timestamps in
        between are released with it: nobody could have seen the clock there, so every output
        is the same, with far fewer hand-offs. None: every timestamp is an event.
        """
        assert self.plan is not None
        times, bases, slots = [], [], []
        base_names = self.plan.bases
        for number, base in enumerate(base_names):
            streamed = self.session_data.streamed(base)
            if streamed is None:
                continue
            data_slots = np.flatnonzero(streamed.present.any(axis=0))
            times.append(streamed.end_ns[data_slots])  # a slot is released when its bar ends
            bases.append(np.full(data_slots.size, number))
            slots.append(data_slots)
        if not times or not sum(t.size for t in times):
            return  # no bar for any symbol all session: nothing to release before the close
        time_of = np.concatenate(times)
        base_of = np.concatenate(bases)
        slot_of = np.concatenate(slots)
        order = np.lexsort((base_of, time_of))
        time_of, base_of, slot_of = time_of[order], base_of[order], slot_of[order]
        unique_times, first_row = np.unique(time_of, return_index=True)
        if stops is None:
            emit = np.ones(unique_times.size, dtype=bool)
        else:
            passed = np.searchsorted(stops, unique_times, side="right")
            emit = np.diff(np.concatenate(([0], passed))) > 0
            emit[-1] = True  # the session's last data are released before the close
        ends = np.concatenate((first_row[1:], [time_of.size]))
        start_row = 0
        only = base_names[int(base_of[0])] if (base_of == base_of[0]).all() else None
        for end_row, ns in zip(ends[emit].tolist(), unique_times[emit].tolist(), strict=True):
            if only is not None:  # one base streams: the rows are its slots
                released = {only: slot_of[start_row:end_row]}
            else:
                released = {}
                for number, base in enumerate(base_names):
                    mask = base_of[start_row:end_row] == number
                    if mask.any():
                        released[base] = slot_of[start_row:end_row][mask]
            yield StreamNotification(ns, released)
            start_row = end_row


def _widen(grid, symbols: tuple[str, ...]):
    """A grid over a subset of symbols, re-laid over all symbols (rows of absent symbols empty),
    so that every grid of a session shares the session's symbol indices."""
    if grid.symbols == symbols:
        return grid
    index = [symbols.index(s) for s in grid.symbols]
    present = np.zeros((len(symbols), grid.slots), dtype=bool)
    present[index] = grid.present
    values = {}
    for name, column in grid.values.items():
        wide = np.full((len(symbols), grid.slots), 0.0 if name == "volume" else np.nan)
        wide[index] = column
        values[name] = wide
    grid.symbols, grid.present, grid.values = symbols, present, values
    return grid
