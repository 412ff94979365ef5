"""Session coordinator: the session lifecycle, and the clock while streaming.

Per trading day (the design's SESSION_COORDINATOR_LOOP):

1. initialisation (``begin_session``) — the clock goes to the open; the history warm-up
   reloads every trailing window and recomputes every historical indicator
   (``simcore.engine.history.warmup``); the feed attaches the session's bars: a backtest's
   prefetched queue (``simcore.engine.backtest_feed``) or a live session's empty grid, filled
   as bars arrive (``simcore.live.intake``); the session is activated;
2. streaming — the runtime asks the feed for the session's events and the coordinator releases
   each (``release``): the clock advances to it and its bars (all symbols' at once) become
   visible in session_data; on exhaustion the clock advances to the close; the session ends
   exactly when time >= close, and a time past the close is a critical error;
3. end of session — deactivate, and back to 1 for the next trading day.

``start`` marks the streams (STREAMED / GENERATED / IGNORED), plans the history and resolves
the run's trading days. Component logic only: a runtime decides when each step runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Protocol

from simcore.config import SessionConfig
from simcore.engine.events import StreamNotification
from simcore.engine.history.warmup import HistoryNeed, HistoryWarmup
from simcore.engine.metrics import PerformanceMetrics
from simcore.engine.session_data import SessionData
from simcore.engine.session_days import SessionDays
from simcore.engine.streams import Mark, StreamPlan, mark_streams
from simcore.errors import ClockError, DataError, NotAvailableError
from simcore.time import TimeManager, TradingSession


class SessionFeed(Protocol):
    """Where a session's streamed bars come from: a backtest's prefetched queue or a live
    session's intake. The coordinator starts it with the run's marking and days, and opens it
    before every session; the runtime that fits it drives its streaming."""

    bars_outside_session: int  # regular-session bars outside their session's slots (counted)

    def start(self, plan: StreamPlan, days: SessionDays) -> None: ...
    def open_session(self, day: date) -> None: ...
    def stop(self) -> None: ...


# (data source, session_data, metrics) -> the feed of a run
FeedFactory = Callable[[object, SessionData, PerformanceMetrics], SessionFeed]


class SessionCoordinator:
    def __init__(
        self,
        config: SessionConfig,
        time_manager: TimeManager,
        source,
        session_data: SessionData,
        metrics: PerformanceMetrics,
        feed: SessionFeed,
        *,
        live_sessions: int = 1,
        live_day: date | None = None,
    ):
        self.config = config
        self.live_mode = config.mode == "live"
        self.live_sessions = live_sessions  # live: how many sessions to run
        self.live_day = live_day  # live: the session a resumed run continues, whatever the clock
        # raw prices: the splits and dividends taking effect at the current session's start
        self.corporate_actions: list[tuple[str, str, float]] = []
        self.tm = time_manager
        self.source = source
        self.session_data = session_data
        self.metrics = metrics
        self.feed = feed
        self.symbols = tuple(config.session_data_config.symbols)
        self.warmup = HistoryWarmup(config, time_manager, source, session_data, self._holds)
        self.plan: StreamPlan | None = None
        self.days: list[date] = []
        # a resumed backtest: the sessions up to this one ran before (simcore.runtime.checkpoint)
        self.resumed_after: date | None = None
        self.session: TradingSession | None = None
        self._close_ns = 0  # the session's close, UTC ns
        self.active = False
        self._held: dict[str, set[str]] = {}  # symbol -> what the source held at the start

    @property
    def history_needs(self) -> list[HistoryNeed]:
        return self.warmup.needs

    # ------------------------------------------------------------------ start / stop
    def start(self) -> None:
        """The design's start(): stop first, mark streams, plan history, resolve the dates."""
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
        if self.live_mode:
            self.days = [self.live_day] if self.live_day else self._upcoming_sessions()
        else:
            bt = self.config.backtest_config
            assert bt is not None
            start, end = self.tm.get_session_boundary_times(bt.start_date, bt.end_date)
            self.days = self.tm.trading_days(start.date(), end.date())
        bt = self.config.backtest_config
        days = SessionDays(self.days, bt.prefetch_days if bt else 1, self.live_mode)
        self.warmup.plan(days)
        self.feed.start(self.plan, days)

    @property
    def days_to_run(self) -> list[date]:
        """The sessions this run streams: every day, or those after a resumed checkpoint's."""
        if self.resumed_after is None:
            return self.days
        return [d for d in self.days if d > self.resumed_after]

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
        self.feed.stop()
        self.warmup.clear()
        self.session = None
        self.tm.reset_backtest_time()
        self.session_data.clear()

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
        self.warmup.load(day)
        self.feed.open_session(day)
        self.metrics.record_load(self.metrics.clock() - started)
        self.active = True
        return session

    # ------------------------------------------------------------------ streaming phase
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

    def end_session(self) -> None:
        self.active = False
