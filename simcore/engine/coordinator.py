"""Session coordinator: the session lifecycle, historical data and indicators, and streaming.

Per trading day (the seed's SESSION_COORDINATOR_LOOP):

1. initialisation — the clock goes to the open; trailing historical bars are reloaded for every
   ``historical.data`` entry (plus what indicators need: the augmentation); every historical
   indicator is recomputed with Polars; historical quality is assigned; the stream queues are
   loaded with up to ``prefetch_days`` sessions through the data source's ``start_bars`` /
   ``start_quotes``; the session is activated;
2. streaming — the clock advances to the next timestamp that has data (the end of the next base
   slot with a bar for any symbol) and every symbol's bar of that timestamp is released as one
   event; on exhaustion the clock advances to the close; the session ends exactly when
   time >= close, and a time past the close is a critical error;
3. end of session — deactivate, and back to 1 for the next trading day.

Component logic only: a runtime (``simcore.runtime.sim``) decides when each step runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from simcore.config.models import HistoricalData, SessionConfig
from simcore.config.vocabulary import INTERVAL_LENGTH, interval_sort_key
from simcore.engine.bars import COLUMNS, StreamedBars
from simcore.engine.events import StreamNotification
from simcore.engine.history import indicators as historical
from simcore.engine.history.windows import HistoryBlock
from simcore.engine.metrics import PerformanceMetrics
from simcore.engine.session_data import SessionData
from simcore.engine.streams import Mark, StreamPlan, mark_streams
from simcore.errors import ClockError, DataError, NotAvailableError
from simcore.live.intake import Correction, LiveStream, LiveTicks
from simcore.providers import LiveItem
from simcore.store.schema import ohlcv_aggregations
from simcore.time import TimeManager, TradingSession

STORED_INTERVALS = ("1s", "1m", "1d")
# A backtest reads the store in blocks of sessions: at least prefetch_days, and more while a
# block holds at most this many bars (one read serves a year of daily bars for 500 symbols,
# where a read per session would cost more than the session). Each session still sees exactly
# its own window: a read ahead changes the number of reads, never what a session sees.
READ_AHEAD_BARS = 2_000_000
SESSION_SECONDS = 23_400  # a regular session, for sizing reads (early closes only read less)


@dataclass(frozen=True)
class HistoryNeed:
    """One trailing window to load: symbols, interval, trailing days; ``added_for`` names the
    indicator that required it when the coordinator added it (the augmentation)."""

    symbols: tuple[str, ...]
    interval: str
    trailing_days: int
    added_for: str | None = None


class SessionCoordinator:
    def __init__(
        self,
        config: SessionConfig,
        time_manager: TimeManager,
        source,
        session_data: SessionData,
        metrics: PerformanceMetrics,
        *,
        live_sessions: int = 1,
        live_grace_ns: int = 2_000_000_000,
    ):
        self.config = config
        self.live_mode = config.mode == "live"
        self.live_sessions = live_sessions  # live: how many sessions to run
        self.live_grace_ns = live_grace_ns  # live: how long a slot waits for late bars
        self.live_streams: dict[str, LiveStream] = {}
        # raw prices: the splits and dividends taking effect at the current session's start
        self.corporate_actions: list[tuple[str, str, float]] = []
        self.live_ticks: LiveTicks | None = None
        self.tm = time_manager
        self.source = source
        self.session_data = session_data
        self.metrics = metrics
        self.symbols = tuple(config.session_data_config.symbols)
        self.plan: StreamPlan | None = None
        self.history_needs: list[HistoryNeed] = []
        self.days: list[date] = []
        self.session: TradingSession | None = None
        self._close_ns = 0  # the session's close, UTC ns
        self.active = False
        self._queue: dict[date, dict[str, object]] = {}  # prefetched sessions' bar grids
        self._quote_queue: dict[date, object] = {}  # prefetched sessions' quotes
        self._history_blocks: dict[tuple, HistoryBlock] = {}
        self._position: dict[date, int] = {}  # a session's index in self.days
        self._loads: list[tuple[tuple[str, int], tuple[str, ...]]] | None = None
        self._daily_stored = False
        self._indices: dict[tuple[str, ...], np.ndarray] = {}
        self._held: dict[str, set[str]] = {}  # symbol -> what the source held at the start
        self.read_ahead_bars = READ_AHEAD_BARS
        # (session, indicator, values per symbol: a value or a row of minutes), for outputs
        self.indicator_values: list[tuple[date, str, np.ndarray]] = []
        # regular-session bars the store held that fell outside their session's slots (a store
        # whose extended flags disagree with the calendar); counted and reported, not streamed
        self.bars_outside_session = 0

    # ------------------------------------------------------------------ start / stop
    def start(self) -> None:
        """The seed's start(): stop first, mark streams, plan history, resolve the dates."""
        self.stop()
        data_cfg = self.config.session_data_config
        # what the source holds, asked once per symbol and run (each answer lists the store)
        self._held = {s: self.source.available(s) for s in self.symbols}
        missing = [s for s in self.symbols if not self._held[s]]
        if missing:
            where = getattr(self.source, "description", "the data source")
            raise DataError(
                f"{where} has no data at all for: {', '.join(missing)} "
                f"({getattr(self.source, 'remedy', 'check the symbols')})"
            )
        # live marking asks what the provider streams; a backtest, what the store holds
        offered = getattr(self.source, "streamable", None) if self.live_mode else None
        self.plan = mark_streams(
            self.symbols,
            data_cfg.streams,
            self.config.mode,
            {s: offered(s) for s in self.symbols} if offered else self._held,
        )
        self.session_data.bar_intervals = frozenset(
            d.stream
            for d in self.plan.decisions
            if d.mark is not Mark.IGNORED and d.stream not in ("quotes", "ticks")
        )
        bases = {b for b in self.plan.base.values() if b}
        if len(bases) > 1:
            by_base = ", ".join(f"{s}: {b}" for s, b in self.plan.base.items() if b)
            raise NotAvailableError(
                f"the symbols stream different base intervals ({by_base}); one session with "
                "mixed bases is not supported yet: split the symbols into sessions by the data "
                "they have"
            )
        self.history_needs = self._plan_history()
        self._loads = None
        # daily indicators can come from the 1d history block only when every symbol's
        # daily bars are stored (historical.daily_bars aggregates 1m bars for the others)
        self._daily_stored = all("1d" in self._held[s] for s in self.symbols)
        if self.live_mode:
            self.days = self._upcoming_sessions()
            self._position = {d: i for i, d in enumerate(self.days)}
            return
        bt = self.config.backtest_config
        assert bt is not None
        start, end = self.tm.get_session_boundary_times(bt.start_date, bt.end_date)
        self.days = self.tm.trading_days(start.date(), end.date())
        self._position = {d: i for i, d in enumerate(self.days)}

    def _holds(self, symbol: str) -> set[str]:
        """What the source holds for ``symbol``: as at the start in a backtest; asked again
        live, where gap fills add to the store while the run goes on."""
        return self.source.available(symbol) if self.live_mode else self._held[symbol]

    def _upcoming_sessions(self) -> list[date]:
        """Live: today's session if it has not closed yet, else the next ones."""
        now = self.tm.get_current_time()
        day = self.tm.get_first_trading_date(self.tm.session_date_of(now))
        if now >= self.tm.get_trading_session(day).regular_close:
            day = self.tm.get_next_trading_date(day)
        days = [day]
        while len(days) < self.live_sessions:
            days.append(self.tm.get_next_trading_date(days[-1]))
        return days

    def stop(self) -> None:
        """Stop streams, reset the backtest dates, clear the queues and session_data."""
        self.active = False
        self._queue.clear()
        self._quote_queue.clear()
        self._history_blocks.clear()
        self.session = None
        self.tm.reset_backtest_time()
        self.session_data.clear()

    def _plan_history(self) -> list[HistoryNeed]:
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

    # ------------------------------------------------------------------ initialisation phase
    def begin_session(self, day: date) -> TradingSession:
        """Everything before the session's first bar; returns the session."""
        started = self.metrics.clock()
        session = self.tm.get_trading_session(day)
        if session is None:
            raise ClockError(f"{day} is not a trading day")
        self.tm.invalidate_caches()
        if not self.live_mode:  # live: the clock is the clock
            self.tm.advance_to_ns(self.tm.to_utc_ns(session.regular_open))
        self.session = session
        self._close_ns = self.tm.to_utc_ns(session.regular_close)
        self.session_data.clear_session()
        actions = getattr(self.source, "corporate_actions", None)
        self.corporate_actions = (
            actions(self.symbols, self.tm.get_previous_trading_date(day), day) if actions else []
        )
        self._load_history(day)
        self._compute_indicators(day)
        self._load_queues(day)
        self.metrics.record_load(self.metrics.clock() - started)
        self.active = True
        return session

    def _load_history(self, day: date) -> None:
        """Clear-and-reload (the seed's option B) of every trailing window, once per interval
        and depth: entries asking for the same interval share one load of the deepest window.
        Every symbol of a load at once: its windows, and their quality."""
        enable_quality = self.config.session_data_config.historical.enable_quality
        self.session_data.clear_history()
        for (interval, trailing), symbols in self._history_loads():
            days = self.tm.trailing_trading_days(day, trailing)
            windows = self._history_block(interval, trailing, symbols, day).windows(days)
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

    def _history_loads(self) -> list[tuple[tuple[str, int], tuple[str, ...]]]:
        """((interval, trailing days), symbols) of each load: a symbol's deepest window per
        interval. Fixed for the run (planned once, in the order loads are made)."""
        if self._loads is None:
            depth: dict[tuple[str, str], int] = {}
            for need in self.history_needs:
                for symbol in need.symbols:
                    key = (symbol, need.interval)
                    depth[key] = max(depth.get(key, 0), need.trailing_days)
            loads: dict[tuple[str, int], list[str]] = {}
            for (symbol, interval), days in depth.items():
                loads.setdefault((interval, days), []).append(symbol)
            self._loads = [(key, tuple(symbols)) for key, symbols in sorted(loads.items())]
        return self._loads

    def _history_block(
        self, interval: str, trailing: int, symbols: tuple[str, ...], day: date
    ) -> HistoryBlock:
        """History is read in blocks: one read serves this session and the following ones of
        its read-ahead (the union of their trailing windows); each session then takes exactly
        its own days from it — nothing from the session itself or after it."""
        key = (interval, trailing, symbols)
        block = self._history_blocks.get(key)
        if block is None or day not in block.sessions:
            sessions = self._read_ahead(day, interval, len(symbols), trailing)
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
            frame = self._history_frame(HistoryNeed(symbols, interval, trailing), union)
            block = HistoryBlock.from_frame(frame, symbols, frozenset(sessions))
            self._history_blocks[key] = block
        return block

    def _read_ahead(self, day: date, interval: str, symbols: int, trailing: int = 0) -> list[date]:
        """The sessions read together with ``day``: at least prefetch_days, and as many more as
        keep the read within ``read_ahead_bars`` (trailing days of history included). Live
        sessions read one at a time: the store grows while they run (gap fills)."""
        position = self._position[day]
        count = 1
        if not self.live_mode:
            per_session = symbols * max(1, SESSION_SECONDS // _interval_seconds(interval))
            fits = self.read_ahead_bars // max(1, per_session) - trailing
            count = max(self._prefetch_days(), fits)
        return self.days[position : position + count]

    def _prefetch_days(self) -> int:
        bt = self.config.backtest_config
        return bt.prefetch_days if bt and not self.live_mode else 1

    def _history_frame(self, need: HistoryNeed, days: list[date]) -> pl.DataFrame:
        symbols = list(need.symbols)
        if not days:
            return _empty_bars()
        if need.interval in STORED_INTERVALS and any(
            need.interval in self._holds(s) for s in symbols
        ):
            return self.source.history(symbols, need.interval, days).collect()
        if need.interval == "1d":  # no stored daily bars: aggregate the 1m history per day
            daily = historical.daily_bars(self.source, symbols, days, self.tm).collect()
            labels = [self.tm.daily_bar_label_ns(d) for d in daily["day"]]
            stamps = pl.Series("timestamp", labels, dtype=pl.Int64).cast(pl.Datetime("ns", "UTC"))
            return daily.with_columns(stamps)
        return self._derive_history(symbols, need.interval, days)

    def _derive_history(self, symbols: list[str], interval: str, days: list[date]) -> pl.DataFrame:
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

    def _compute_indicators(self, day: date) -> None:
        """Every historical indicator for every symbol: daily ones from the history block
        already read for this session where it holds them, else with their own query."""
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
                for (interval, trailing), symbols in self._history_loads()
                if interval == "1d" and trailing >= needed and symbols == self.symbols
            ),
            None,
        )
        if load is None:
            return None
        days = historical.window_days(spec, day, self.tm)
        if spec.skip_early_close:
            days = [d for d in days if not self.tm.is_early_close(d)]
        block = self._history_block("1d", load[0], load[1], day)
        return historical.daily_values(spec, block.frame_of(days), self.symbols)

    def _load_queues(self, day: date) -> None:
        """Prefetch: when today's session is not queued, load it and the following sessions of
        its read-ahead in one read (quotes: prefetch_days of them). Live: the streams start
        empty."""
        if self.live_mode:
            self._start_live(day)
            return
        if day not in self._queue:
            bases = self.plan.bases
            batch = self._read_ahead(day, bases[0], len(self.symbols)) if bases else [day]
            loaded: dict[date, dict[str, object]] = {d: {} for d in batch}
            for base in bases:
                symbols = [s for s in self.symbols if self.plan.base[s] == base]
                for d, grid in self.source.start_bars(symbols, base, batch).items():
                    loaded[d][base] = _widen(grid, self.symbols)
                    self.bars_outside_session += grid.outside_session
            self._queue.update(loaded)
        quote_symbols = self.plan.symbols_streaming("quotes")
        if quote_symbols and day not in self._quote_queue:
            position = self._position[day]
            batch = self.days[position : position + self._prefetch_days()]
            self._quote_queue.update(self.source.start_quotes(quote_symbols, batch))
        for base, grid in self._queue.pop(day).items():
            self.session_data.attach_streamed(base, StreamedBars(grid))
        if day in self._quote_queue:
            self.session_data.attach_quotes(self._quote_queue.pop(day))

    # ------------------------------------------------------------------ streaming phase
    def events(self, stops: np.ndarray | None = None) -> Iterator[StreamNotification]:
        """The session's events in time order: one per timestamp that has data for any symbol.

        ``stops`` (sorted UTC ns) are the only times a consumer needs to observe, e.g. the ends
        of the windows a strategy subscribed to. A timestamp is then an event only if a stop
        lies between the previous timestamp (exclusive) and it (inclusive) — exactly the
        timestamps at which something would have been delivered — and the timestamps in
        between are released with it: nobody could have seen the clock there, so every output
        is the same, with far fewer hand-offs. None: every timestamp is an event.
        """
        assert self.session is not None
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

    def release(self, note: StreamNotification) -> StreamNotification:
        """Advance the clock to the event and stream its bars (all its slots) into session_data."""
        if note.ns > self._close_ns:
            raise ClockError(
                f"critical: streaming time {self.tm.from_utc_ns(note.ns)} is past the close"
            )
        self.tm.advance_to_ns(note.ns)
        for base, slots in note.released.items():
            self.metrics.bars_streamed += self.session_data.reveal_block(base, slots)
        return note

    def finish_session(self) -> StreamNotification:
        """Data exhausted: advance to the close; end of session is exactly time >= close.
        Live: the clock has passed the close by itself (and may be past it: that is no error)."""
        close_ns = self.tm.to_utc_ns(self.session.regular_close)
        if self.live_mode:
            return StreamNotification(close_ns, {}, end_of_session=True)
        now = self.tm.current_time_ns()
        if now > close_ns:
            raise ClockError(f"critical: time {self.tm.get_current_time()} passed the close")
        if now < close_ns:
            self.tm.advance_to_ns(close_ns)
        assert self.tm.current_time_ns() >= close_ns
        return StreamNotification(close_ns, {}, end_of_session=True)

    # ------------------------------------------------------------------ live streaming phase
    def _start_live(self, day: date) -> None:
        self.live_streams = {}
        for base in self.plan.bases:
            grid = self.source.empty_session_bars(self.symbols, base, day)
            self.session_data.attach_streamed(base, StreamedBars(grid))
            self.live_streams[base] = LiveStream(
                base, grid, self.tm.current_time_ns, self.live_grace_ns
            )
        self.live_ticks = LiveTicks(self.symbols)
        self.session_data.attach_quotes(self.live_ticks.quotes)

    def accept_live(self, item: LiveItem) -> tuple[str, int, int, bool] | None:
        """An arriving message: a bar into its slot, a quote or trade onto its series. Returns
        a correction to hand down (a bar written after its slot was released)."""
        if item.kind in ("quote", "trade"):
            self.live_ticks.add(item)
            return None
        for base, stream in self.live_streams.items():
            outcome = stream.accept(item)
            if isinstance(outcome, Correction):
                s, slot = (
                    stream.index[item.symbol],
                    (item.time_ns - stream.grid.open_ns) // stream.grid.slot_ns,
                )
                return (base, s, int(slot), outcome.old is None)
            return None
        return None

    def due_live(self, now_ns: int) -> StreamNotification | None:
        """The slots due now, released into session_data (None when nothing is due)."""
        released: dict[str, np.ndarray] = {}
        ns = 0
        for base, stream in self.live_streams.items():
            slots = stream.due_slots(now_ns)
            if slots.size:
                note = stream.release(slots)
                ns = max(ns, note.ns)
                self.metrics.bars_streamed += self.session_data.reveal_block(base, slots)
                released[base] = slots
        return StreamNotification(ns, released) if released else None

    def live_released_ns(self) -> int:
        """The end of the last slot released so far (the open before the first)."""
        ends = [int(s.end_ns[s.released - 1]) for s in self.live_streams.values() if s.released]
        return max(ends) if ends else self.tm.to_utc_ns(self.session.regular_open)

    def next_live_due_ns(self) -> int | None:
        times = [t for t in (s.next_due_ns() for s in self.live_streams.values()) if t]
        return min(times) if times else None

    def live_finished(self) -> bool:
        return all(s.finished for s in self.live_streams.values())

    def end_session(self) -> None:
        self.active = False


def _interval_seconds(interval: str) -> int:
    """Length in seconds ("1d": a regular session, one bar)."""
    return int(interval_sort_key(interval).total_seconds()) if interval != "1d" else SESSION_SECONDS


def _empty_bars() -> pl.DataFrame:
    schema = {"symbol": pl.String, "day": pl.Date, "timestamp": pl.Datetime("ns", "UTC")}
    return pl.DataFrame(schema=schema | dict.fromkeys(COLUMNS[1:], pl.Float64))


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
