"""session_data: the single store between the data pipeline and the analysis engine.

The design's contract — append by reference in O(1), indexed O(1) reads, no copies, nothing from
the future — is met column-wise (DESIGN-NOTES): per symbol and interval the bar containers of
``simcore.engine.bars`` hold NumPy columns and cursors, and readers get zero-copy views. A slot (a
streamed minute or a derived window) becomes visible only when the clock has reached its end;
revealing or appending one earlier is refused as look-ahead.

Historical bars (loaded before the session) and session bars are kept apart, so the coordinator
can reload history before every session without touching what the session produced.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simcore.engine.bars import (
    COLUMNS,
    Bar,
    BarSeries,
    BarView,
    DerivedBars,
    RevealedBars,
    StreamedBars,
)
from simcore.engine.history_windows import HistoryWindows
from simcore.errors import ClockError


class SessionData:
    """Everything the analysis engine may read, and nothing from the future.

    Per symbol and interval: historical bars (reloaded before every session), the session's
    streamed base bars (``StreamedBars``), derived bars (``BarSeries``, appended only once
    complete), quotes (visible up to the current time), historical indicators (scalars, or
    arrays indexed by minute of the session for O(1) lookup), real-time indicators and quality.
    ``now_ns`` is the TimeManager's clock in UTC nanoseconds.
    """

    def __init__(self, now_ns: Callable[[], int], symbols: tuple[str, ...] = ()):
        self._now_ns = now_ns
        self.symbols: tuple[str, ...] = tuple(symbols)
        self.index: dict[str, int] = {s: i for i, s in enumerate(symbols)}
        self._streamed: dict[str, StreamedBars] = {}
        self._derived: dict[str, DerivedBars | RevealedBars] = {}
        # interval -> each symbol's trailing window: which HistoryWindows (-1: none) and where
        self._history: dict[str, _IntervalHistory] = {}
        self._indicators: dict[tuple[str, str], object] = {}
        self._indicator_arrays: dict[str, np.ndarray] = {}  # name -> per symbol (row)
        self._realtime: dict[tuple[str, str], object] = {}
        self._quality: dict[str, np.ndarray] = {}  # interval -> percent per symbol
        self._historical_quality: dict[str, np.ndarray] = {}  # interval -> percent (NaN: none)
        self._quotes = None  # simcore.store.source.SessionQuotes of the session
        # the bar intervals the session streams or generates (set by the coordinator once it
        # has marked the streams): reading any other is a mistake, not an empty series
        self.bar_intervals: frozenset[str] | None = None

    def _symbol_index(self, symbol: str) -> int:
        try:
            return self.index[symbol]
        except KeyError:
            raise KeyError(f"{symbol} is not a symbol of this session") from None

    # ------------------------------------------------------------------ streamed bars and quotes
    def attach_streamed(self, interval: str, streamed: StreamedBars) -> None:
        self._streamed[interval] = streamed

    def streamed(self, interval: str) -> StreamedBars | None:
        return self._streamed.get(interval)

    def reveal(self, interval: str, slot: int) -> np.ndarray:
        """Make one slot of an interval's bars visible; refused (look-ahead) before its end."""
        bars = self._streamed.get(interval) or self._derived[interval]
        self._check_complete(interval, int(bars.end_ns[slot]))
        return bars.reveal(slot)

    def reveal_block(self, interval: str, slots: np.ndarray) -> int:
        """Make several slots of a streamed interval visible at once (the last must be complete)."""
        bars = self._streamed[interval]
        self._check_complete(interval, int(bars.end_ns[slots[-1]]))
        return bars.reveal_block(slots)

    def _check_complete(self, interval: str, end_ns: int) -> None:
        if end_ns > self._now_ns():
            raise ClockError(
                f"{interval} bars ending at {end_ns} revealed before their end "
                f"(now {self._now_ns()}): that would be look-ahead"
            )

    def attach_quotes(self, quotes) -> None:
        self._quotes = quotes

    def get_quotes(self, symbol: str) -> dict[str, np.ndarray]:
        """The session's quotes of ``symbol`` stamped at or before now (zero-copy slices)."""
        if self._quotes is None or symbol not in self._quotes.timestamp:
            return {}
        stamps = self._quotes.timestamp[symbol]
        n = int(np.searchsorted(stamps, self._now_ns(), side="right"))
        out = {"timestamp": stamps[:n]}
        out.update({name: column[:n] for name, column in self._quotes.values[symbol].items()})
        return out

    # ------------------------------------------------------------------ derived bars
    def attach_derived(self, interval: str, derived: DerivedBars | RevealedBars) -> None:
        self._derived[interval] = derived

    def derived(self, interval: str) -> DerivedBars | RevealedBars | None:
        return self._derived.get(interval)

    def append_bars(
        self,
        interval: str,
        symbols: np.ndarray,
        label_ns: int,
        end_ns: int,
        values: dict[str, np.ndarray],
    ) -> None:
        """Append one complete window's bars for ``symbols``; ``end_ns`` is when it completed."""
        if end_ns > self._now_ns():
            raise ClockError(
                f"{interval} bars ending at {end_ns} appended before their end "
                f"(now {self._now_ns()}): that would be look-ahead"
            )
        derived = self._derived.get(interval)
        if derived is None:
            derived = self._derived[interval] = DerivedBars(len(self.symbols))
        derived.append(symbols, label_ns, values)

    def append_bar(self, symbol: str, interval: str, bar: Bar, end_ns: int) -> None:
        """Append one complete bar (the single-symbol form of append_bars)."""
        values = {name: np.array([getattr(bar, name)]) for name in COLUMNS[1:]}
        self.append_bars(
            interval, np.array([self._symbol_index(symbol)]), bar.timestamp, end_ns, values
        )

    def get_bars(self, symbol: str, interval: str) -> BarView:
        """The session's bars so far, streamed or derived (zero-copy view; empty if none)."""
        streamed = self._streamed.get(interval)
        if streamed is not None:
            return streamed.view(self._symbol_index(symbol))
        derived = self._derived.get(interval)
        if derived is not None:
            return derived.view(self._symbol_index(symbol))
        if self.bar_intervals is not None and interval not in self.bar_intervals:
            raise KeyError(
                f"{interval} bars are not a stream of this session (its bar intervals: "
                f"{', '.join(sorted(self.bar_intervals)) or 'none'}); add {interval!r} to "
                "session_data_config.streams and to the strategy's subscriptions or reads"
            )
        return BarSeries(1).view()

    def last_bar(self, symbol_index: int, interval: str) -> Bar:
        """The newest bar of a symbol (by index) and interval, without building a view."""
        streamed = self._streamed.get(interval)
        return (streamed or self._derived[interval]).last_bar(symbol_index)

    def last_close(self, symbol: str) -> float | None:
        """The close of the newest streamed base bar of ``symbol``; before the session's first,
        the newest historical close (the previous session's); None when there is neither."""
        s = self._symbol_index(symbol)
        for streamed in self._streamed.values():
            k = int(streamed.last_slot[s])
            if k >= 0:
                return float(streamed.values["close"][s, k])
        newest, close = None, None
        for history in self._history.values():
            view = history.view(s)
            if view is not None and len(view) and (newest is None or view.timestamp[-1] > newest):
                newest, close = view.timestamp[-1], float(view.close[-1])
        return close

    def last_closes(self) -> np.ndarray:
        """``last_close`` of every symbol at once (NaN where there is none)."""
        n = len(self.symbols)
        closes = np.full(n, np.nan)
        found = np.zeros(n, dtype=bool)
        for streamed in self._streamed.values():
            k = streamed.last_slot
            take = (k >= 0) & ~found
            rows = np.flatnonzero(take)
            closes[rows] = streamed.values["close"][rows, k[rows]]
            found |= take
        if found.all():
            return closes
        newest = np.full(n, np.iinfo(np.int64).min)
        for history in self._history.values():
            for windows, symbols, positions in history.sets():
                has, stamp = windows.last("timestamp")
                _, close = windows.last("close")
                better = has[positions] & ~found[symbols] & (stamp[positions] > newest[symbols])
                newest[symbols[better]] = stamp[positions][better]
                closes[symbols[better]] = close[positions][better]
        return closes

    def last_values(
        self, interval: str, symbols: np.ndarray, fields: tuple[str, ...] = COLUMNS
    ) -> dict[str, np.ndarray]:
        """The newest bar of each of ``symbols`` (indices) as arrays: the batch form of last_bar."""
        source = self._streamed.get(interval) or self._derived[interval]
        if isinstance(source, RevealedBars):
            return source.last_values(symbols, fields)
        bars = [source.last_bar(int(s)) for s in symbols]
        return {name: np.array([getattr(b, name) for b in bars]) for name in fields}

    # ------------------------------------------------------------------ history
    def set_historical_windows(
        self, interval: str, symbols: np.ndarray, windows: HistoryWindows
    ) -> None:
        """Replace the trailing history of ``symbols`` (indices; ``windows.symbols`` in the same
        order) for ``interval`` (reloaded before each session); the columns are kept by
        reference, and a symbol's bars are sliced only when read."""
        history = self._history.get(interval)
        if history is None:
            history = self._history[interval] = _IntervalHistory(len(self.symbols))
        history.set(symbols, windows)

    def set_historical_bars(
        self, symbol: str, interval: str, columns: dict[str, np.ndarray]
    ) -> None:
        """Replace the trailing history of one symbol and interval (kept by reference)."""
        windows = HistoryWindows.of_columns(symbol, columns)
        self.set_historical_windows(interval, np.array([self._symbol_index(symbol)]), windows)

    def clear_history(self) -> None:
        """Drop every trailing window and its quality (before the next session's reload)."""
        self._history.clear()
        self._historical_quality.clear()

    def get_historical_bars(self, symbol: str, interval: str) -> BarView:
        history = self._history.get(interval)
        view = history.view(self._symbol_index(symbol)) if history else None
        return view if view is not None else BarSeries(1).view()

    def historical_keys(self) -> list[tuple[str, str]]:
        """(symbol, interval) of every trailing window loaded, sorted."""
        return sorted(
            (self.symbols[s], interval)
            for interval, history in self._history.items()
            for s in np.flatnonzero(history.which >= 0).tolist()
        )

    # ------------------------------------------------------------------ indicators and quality
    def set_historical_indicator(self, symbol: str, name: str, value: object) -> None:
        self._indicators[(symbol, name)] = value

    def set_historical_indicators(self, name: str, values: np.ndarray) -> None:
        """One indicator for every symbol at once: a value per symbol, or (minute granularity)
        a row per symbol indexed by minute of the session."""
        self._indicator_arrays[name] = values

    def get_historical_indicator(self, symbol: str, name: str) -> object:
        """A scalar, or for minute granularity an array indexed by minute of the session."""
        values = self._indicator_arrays.get(name)
        if values is not None and symbol in self.index:
            value = values[self.index[symbol]]
            return float(value) if values.ndim == 1 else value
        try:
            return self._indicators[(symbol, name)]
        except KeyError:
            raise KeyError(f"no historical indicator {name!r} for {symbol}") from None

    def register_indicator(self, interval: str, name: str, indicator: object) -> None:
        self._realtime[(interval, name)] = indicator

    def get_indicator(self, symbol: str, interval: str, name: str) -> float:
        """Current value of a real-time indicator for a symbol (NaN until it is warm)."""
        try:
            indicator = self._realtime[(interval, name)]
        except KeyError:
            raise KeyError(f"no real-time indicator {name!r} on {interval}") from None
        return indicator.value(self._symbol_index(symbol))  # type: ignore[attr-defined]

    def indicator_values(self, interval: str, name: str) -> np.ndarray:
        """Current values of a real-time indicator for all symbols (a read-only view)."""
        try:
            indicator = self._realtime[(interval, name)]
        except KeyError:
            raise KeyError(f"no real-time indicator {name!r} on {interval}") from None
        view = indicator.current.view()  # type: ignore[attr-defined]
        view.flags.writeable = False
        return view

    def set_quality(self, interval: str, percent: np.ndarray) -> None:
        """Publish the quality of ``interval`` for every symbol (an array shared, not copied,
        by the derived intervals that are pointed at it)."""
        self._quality[interval] = percent

    def share_quality(self, derived: str, base: str) -> None:
        """``derived`` reports the quality of ``base``: the same array, so it follows changes."""
        self._quality[derived] = self._quality[base]

    def quality_of(self, interval: str) -> np.ndarray | None:
        """The quality of ``interval`` for every symbol (None when not published)."""
        return self._quality.get(interval)

    def get_quality(self, symbol: str, interval: str) -> float | None:
        percent = self._quality.get(interval)
        return None if percent is None else float(percent[self._symbol_index(symbol)])

    def set_historical_quality(self, symbol: str, interval: str, percent: float) -> None:
        self.set_historical_qualities(
            interval, np.array([self._symbol_index(symbol)]), np.array([percent])
        )

    def set_historical_qualities(
        self, interval: str, symbols: np.ndarray, percents: np.ndarray
    ) -> None:
        """The quality of ``symbols``' (indices) trailing windows of ``interval``."""
        if percents.size and not ((percents >= 0.0) & (percents <= 100.0)).all():
            raise ValueError(f"quality must be a percentage, got {percents.min(), percents.max()}")
        held = self._historical_quality.get(interval)
        if held is None:
            held = self._historical_quality[interval] = np.full(len(self.symbols), np.nan)
        held[symbols] = percents

    def get_historical_quality(self, symbol: str, interval: str) -> float | None:
        held = self._historical_quality.get(interval)
        value = np.nan if held is None else held[self._symbol_index(symbol)]
        return None if np.isnan(value) else float(value)

    def historical_qualities(self) -> dict[str, np.ndarray]:
        """interval -> the quality of each symbol's trailing window (NaN where none)."""
        return self._historical_quality

    # ------------------------------------------------------------------ lifecycle
    def clear_session(self) -> None:
        """Drop the session's bars, quotes and quality (end of session); history stays."""
        self._streamed.clear()
        self._derived.clear()
        self._quality.clear()
        self._quotes = None

    def clear(self) -> None:
        """Drop everything (the coordinator's stop())."""
        self.clear_session()
        self._history.clear()
        self._indicators.clear()
        self._indicator_arrays.clear()
        self._realtime.clear()
        self._historical_quality.clear()
        self.bar_intervals = None


class _IntervalHistory:
    """Each symbol's trailing window of one interval: the HistoryWindows holding it (``which``,
    -1 for none) and its position there (``position``)."""

    def __init__(self, symbols: int):
        self.which = np.full(symbols, -1, dtype=np.int64)
        self.position = np.zeros(symbols, dtype=np.int64)
        self.windows: list[HistoryWindows] = []

    def set(self, symbols: np.ndarray, windows: HistoryWindows) -> None:
        self.windows.append(windows)
        self.which[symbols] = len(self.windows) - 1
        self.position[symbols] = np.arange(len(symbols))
        used = np.unique(self.which[self.which >= 0])
        if used.size < len(self.windows):  # drop the windows no symbol points at any more
            renumber = np.full(len(self.windows), -1)
            renumber[used] = np.arange(used.size)
            self.windows = [self.windows[u] for u in used.tolist()]
            self.which = np.where(self.which >= 0, renumber[self.which], -1)

    def view(self, symbol: int) -> BarView | None:
        number = int(self.which[symbol])
        return None if number < 0 else self.windows[number].view(int(self.position[symbol]))

    def sets(self) -> list[tuple[HistoryWindows, np.ndarray, np.ndarray]]:
        """(windows, the symbols it holds now, their positions in it), in the order set."""
        out = []
        for number, windows in enumerate(self.windows):
            symbols = np.flatnonzero(self.which == number)
            if symbols.size:
                out.append((windows, symbols, self.position[symbols]))
        return out
