"""The live runtime: the thread runtime with a feed instead of a prefetched session.

Same four threads, same links; a busy consumer is an overrun. What
differs is where the coordinator's events come from and one duty of the quality manager:

* the **session coordinator** thread waits for the session (saying so), runs its
  initialisation (history and indicators from the provider through the store), then takes
  what the feed delivers — bars into the session grid, quotes and trades onto their series — and
  releases each slot when it falls due (``simcore.live.intake``) and the pipeline has handled
  the previous release (a release that waits for a busy strategy is an overrun: nothing new
  is revealed under a strategy's callback, so a journal replays a session exactly). A bar written after its slot
  was released goes down the pipeline as a correction. When several slots in a row bring no bar
  for any symbol, the feed is taken for mute (connected, answering pings, sending nothing: a
  failure Alpaca's users report) and is reconnected; gap filling recovers the minutes;
* the **data quality manager** thread also fills gaps in the background: every
  ``retry_interval_seconds`` it asks the provider's history API for the missing bars that are
  due and hands what it gets to the coordinator (``simcore.engine.gap_fill``). Nothing waits on it.

On a stop (Ctrl-C, SIGTERM, an error) every thread ends; ``drain`` then brings whatever the
feed had delivered into the session, so that nothing received is lost from the outputs.
"""

from __future__ import annotations

import queue
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from simcore.engine.events import StreamNotification
from simcore.live.intake import LiveIntake
from simcore.live.journal import WRITTEN
from simcore.live.keeper import JournalKeeper
from simcore.providers import GapSource, LiveFeed, LiveItem
from simcore.runtime.steps import Pipeline
from simcore.runtime.threads import (
    STOP,
    FlushRequest,
    Overrun,
    RunStopped,
    Stopping,
    ThreadLink,
    ThreadRuntime,
)
from simcore.time import LiveClock
from simcore.trading.broker import AccountBroker


@dataclass
class LiveFigures:
    """What the status line shows and the outputs keep (wall-clock facts of the session)."""

    waiting_for: str = ""
    releases: int = 0
    release_delay_ms: list[float] = field(default_factory=list)  # slot end + grace -> release
    reconnects: list[tuple[int, str]] = field(default_factory=list)  # (session ns, why)
    fill_requests: int = 0
    fill_errors: int = 0
    day_start_equity: float | None = None  # the account when the session began (day P&L)


class LiveRuntime(ThreadRuntime):
    def __init__(
        self,
        pipeline: Pipeline,
        feed: LiveFeed,
        clock: LiveClock,
        gap_source: GapSource | None = None,
        *,
        lead_seconds: float = 60.0,
        mute_slots: int = 3,
        retry_interval_ns: int = 60_000_000_000,
        refresh: Callable[[date], None] | None = None,
        refresh_seconds: float = 0.0,
        journal_dir: Path | None = None,
        resume: list[dict] | None = None,
        stop_after_replay: bool = False,
    ):
        super().__init__(pipeline, speed=clock.speed)
        # each session's journal, and a resumed session's replay (simcore.live.keeper)
        self.keeper = JournalKeeper(journal_dir, resume, clock)
        # a resumed session written, not continued: the feed is never started, nothing is
        # released beyond the journal, and an order the broker never had is not sent
        self.stop_after_replay = stop_after_replay and resume is not None
        self._replayed_to: int | None = None  # the last release the journal had
        intake = pipeline.coordinator.feed
        if not isinstance(intake, LiveIntake):
            raise TypeError("the live runtime drives a LiveIntake (the coordinator's live feed)")
        self.intake = intake
        # the results so far, written every refresh_seconds of wall time (0: only at the end)
        self.refresh, self.refresh_seconds = refresh, refresh_seconds
        self.refreshes = 0
        self.feed = feed
        self.live_clock = clock
        self.gap_source = gap_source
        self.lead_ns = int(lead_seconds * 1e9)
        self.mute_slots = mute_slots
        self.retry_interval_ns = retry_interval_ns
        self.figures = LiveFigures()
        self.control.on_halt(lambda: feed.inbox.put(STOP))

    # interpreter thread switch interval during a live session: a bar whose thread waits for
    # the GIL waits at most this long (CPython's default is 5 ms, the whole latency budget)
    SWITCH_INTERVAL = 0.0005

    def run(self) -> None:
        previous = sys.getswitchinterval()
        sys.setswitchinterval(min(previous, self.SWITCH_INTERVAL))
        try:
            super().run()
        finally:
            sys.setswitchinterval(previous)

    # ------------------------------------------------------------------ coordinator
    def _coordinator(self, out: ThreadLink, to_quality: queue.SimpleQueue[object]) -> None:
        self._workers["data_processor"].start()
        self._workers["data_quality_manager"].start()
        c, p, tm = self.pipeline.coordinator, self.pipeline, self.pipeline.coordinator.tm
        broker = p.engine.trader.broker if p.engine.trader is not None else None
        # a broker of the outside world: its account is loaded (reconciled) before anything
        if not isinstance(broker, AccountBroker):
            broker = None
        self.keeper.open(c.days[0], broker)  # the broker's first dealings are the session's
        if broker is not None:
            if self.stop_after_replay:  # a broker that resumes (simcore.live.keeper.open)
                broker.resuming = "stop"
            broker.start()
        # connected from the start: the first bars of a session must not come before the socket;
        # the feed carries what the marking STREAMED (the base bar interval, quotes, ticks)
        if not self.stop_after_replay:
            self.feed.start(c.symbols, c.plan.live_channels())
        try:
            for day in c.days:
                trading = tm.get_trading_session(day)
                open_ns = tm.to_utc_ns(trading.regular_open)
                self._wait_for(
                    open_ns - self.lead_ns,
                    f"the session of {day} (opens {trading.regular_open:%H:%M %Z})",
                )
                self.keeper.open(day, broker)
                session = p.begin_session(day)
                self.keeper.did(p.engine)  # what on_session_start did
                self.figures.day_start_equity = self._account()[0]
                self._wait_connected(open_ns)
                self._wait_for(open_ns, f"the open at {trading.regular_open:%H:%M %Z}")
                self.figures.waiting_for = ""
                if self.keeper.resume is not None:
                    self._replay(out, broker)
                    if self.stop_after_replay:
                        raise RunStopped("stopped after the replay of its journal (--stop)")
                self._stream(out, to_quality, day)
                self._end_session(out, to_quality, day, session)
                self.keeper.did(p.engine)  # what the close did
                self.keeper.close("close")
        finally:
            self.keeper.sync()
            self.feed.stop()
            if broker is not None:
                broker.stop()

    def _wait_connected(self, until_ns: int) -> None:
        """Give the feed until the open to connect (a later start costs gap fills, no data)."""
        while (
            not self.stop_after_replay
            and not self.feed.connected
            and self.live_clock.now_ns() < until_ns
        ):
            self.figures.waiting_for = "the market-data stream to connect"
            if self.control.stop.wait(0.01):
                raise Stopping

    def _wait_for(self, ns: int, what: str) -> None:
        if self.live_clock.now_ns() < ns and not self.stop_after_replay:
            self.figures.waiting_for = what
            if not self.live_clock.sleep_until(ns, self.control.stop):
                raise Stopping

    def _stream(self, out: ThreadLink, to_quality: queue.SimpleQueue[object], day: date) -> None:
        intake, clock = self.intake, self.live_clock
        silent = 0
        refreshed_at = time.perf_counter()
        # slots that ended before now were missed before the stream could bring them (a session
        # joined late): gaps to fill, not a sign of a mute feed
        streaming_since = clock.now_ns()
        while (due := intake.next_due_ns()) is not None:
            corrections = self._take(clock.wall_seconds_until(due), out)
            self._quiet(out, clock.now_ns())
            now = clock.now_ns()
            if corrections:  # stamped with the last release: they must not reveal anything new
                out.deliver(
                    StreamNotification(intake.released_ns(), {}, corrections=corrections), now
                )
                self._quiet(out, now)
            note = intake.due(now)
            if corrections or note is not None:
                self.keeper.tick(now, released=note is not None)
            if note is None:
                continue
            self.figures.releases += 1
            self.figures.release_delay_ms.append(max(0.0, (now - note.ns) / 1e6 / clock.speed))
            out.deliver(note, note.ns)
            if self.refresh and time.perf_counter() - refreshed_at >= self.refresh_seconds > 0:
                self._refresh(out, to_quality, day)
                refreshed_at = time.perf_counter()
            if note.ns <= streaming_since:
                continue
            silent = silent + len(next(iter(note.released.values()))) if self._empty(note) else 0
            if silent >= self.mute_slots:
                if self.feed.connected:  # not connected: alpaca-py is reconnecting already
                    self.figures.reconnects.append(
                        (now, f"no bar for any symbol in {silent} minutes")
                    )
                    self.feed.reconnect("mute")
                silent = 0

    def _quiet(self, out: ThreadLink, now_ns: int) -> None:
        """Wait until the pipeline has handled everything released so far: nothing new is
        revealed while the strategy is in a callback, so what it sees depends on what arrived
        and when it was released, never on the threads' timing — and a journal replays it
        exactly. A release that had to wait is an overrun (its delay is in the figures)."""
        if out.flag.is_set():
            return
        started = time.perf_counter()
        out.wait_done()
        lag_ms = (time.perf_counter() - started) * 1e3
        self.overruns.append(Overrun(now_ns, out.name, out.blame(), lag_ms))

    def _refresh(self, out: ThreadLink, to_quality: queue.SimpleQueue[object], day: date) -> None:
        """Write the results so far, with the pipeline quiet: the processor and the analysis
        engine have taken every release, the quality manager every notification (the feed
        only fills the inbox meanwhile; what arrives waits for the next release)."""
        out.wait_done()
        self._flush(to_quality)
        self.refresh(day)
        self.refreshes += 1

    def _empty(self, note: StreamNotification) -> bool:
        grids = self.intake.streams
        return not any(grids[b].grid.present[:, slots].any() for b, slots in note.released.items())

    def _take(self, timeout: float, out: ThreadLink) -> list[tuple[str, int, int, bool]]:
        """Wait up to ``timeout`` wall seconds for the feed, then take all it has delivered —
        once the pipeline has handled the last release: a bar written into the session grid
        while the processor reads it would make what it derives depend on the threads' timing."""
        corrections = []
        try:
            item = self.feed.inbox.get(timeout=max(timeout, 0.0)) if timeout > 0 else None
        except queue.Empty:
            return corrections
        out.wait_done()
        while True:
            if item is STOP:
                raise Stopping
            if item is not None:
                self.keeper.item(item)
                correction = self.intake.accept(item)
                if correction is not None:
                    corrections.append(correction)
            try:
                item = self.feed.inbox.get_nowait()
            except queue.Empty:
                return corrections

    def drain(self) -> int:
        """After a stop: bring what the feed delivered into the session and release every slot
        whose end has passed (its bars are complete). Returns the bars so released."""
        if not self.intake.streams or self.pipeline.coordinator.session is None:
            return 0
        while True:
            try:
                item = self.feed.inbox.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, LiveItem):
                self.keeper.item(item)
                self.intake.accept(item)
        # what ended by now; once a resumed session's replay stopped it, by its last release
        until = self._replayed_to if self.stop_after_replay else None
        released = self.intake.release_ended(until or self.live_clock.now_ns())
        self.keeper.tick(self.live_clock.now_ns(), released=False, drain=True)
        return released

    # ------------------------------------------------------------------ journal
    def _replay(self, out: ThreadLink, broker) -> None:
        """A resumed session: what its journal says the session took in, released as it was,
        with the broker's answers played back from the tape; then the broker asked for what
        happened to its working orders while the session was down."""
        records = self.keeper.begin_replay()
        self.figures.waiting_for = "the replay of the journal"
        intake, corrections = self.intake, []
        try:
            for record in records:
                kind = record["k"]
                if kind == "item":
                    item = LiveItem(
                        record["kind"], record["symbol"], record["t"], tuple(record["v"])
                    )
                    correction = intake.accept(item)
                    if correction is not None:
                        corrections.append(correction)
                elif kind == "tick" and not record.get("drain"):  # a drain came after a stop
                    now = self._replayed_to = record["now"]
                    out.wait_done()
                    if corrections:
                        note = StreamNotification(intake.released_ns(), {}, corrections=corrections)
                        out.deliver(note, now)
                        corrections = []
                        out.wait_done()
                    note = intake.due(now)
                    if note is not None:
                        out.deliver(note, note.ns)
                        out.wait_done()  # handled before the next items go into the grid
            out.wait_done()
        finally:
            self.keeper.end_replay(self.live_clock.now_ns())
        engine = self.pipeline.engine
        self.keeper.did(engine)  # what the replay did that the journal had not kept (a kill's)
        if broker is not None:
            broker.reconcile_orders()  # fills and cancels while the session was down
            broker.resuming = False
            self.keeper.did(engine)
        self.keeper.sync()
        self.figures.waiting_for = ""

    def close_journal(self, why: str = "stopped") -> None:
        """After a stop (Ctrl-C, an error) and the drain: what the engine did last, the end."""
        self.keeper.did(self.pipeline.engine)
        self.keeper.close(WRITTEN if self.stop_after_replay else why)

    def _analysis(self, inbox: ThreadLink) -> None:
        """The thread runtime's analysis loop, journaling what each update made happen."""
        engine, keeper = self.pipeline.engine, self.keeper
        while True:
            update = inbox.receive()
            keeper.handed(update)
            engine.handle(update)  # type: ignore[arg-type]
            keeper.did(engine)
            inbox.signal_ready()

    # ------------------------------------------------------------------ quality manager
    def _quality(self, inbox: queue.SimpleQueue[object]) -> None:
        quality, clock = self.pipeline.quality, self.live_clock
        filler = quality.filler
        while True:
            due = filler.next_due_ns() if filler is not None and self.gap_source else None
            timeout = None if due is None else max(0.0, clock.wall_seconds_until(due))
            try:
                note = inbox.get(timeout=timeout) if timeout is None or timeout > 0 else None
            except queue.Empty:
                note = None
            while note is not None:  # everything that arrived first: fills may have landed
                if note is STOP:
                    return
                if isinstance(note, FlushRequest):
                    note.done.set()
                else:
                    quality.handle(note)  # type: ignore[arg-type]
                try:
                    note = inbox.get_nowait()
                except queue.Empty:
                    note = None
            if filler is not None and self.gap_source is not None:
                self._fill(filler)

    def _fill(self, filler) -> None:
        now = self.live_clock.now_ns()
        symbols = self.pipeline.coordinator.symbols
        for request in filler.due(now):
            self.figures.fill_requests += 1
            try:
                items = self.gap_source.fetch(
                    symbols[request.symbol], request.interval, request.start_ns, request.end_ns
                )
            except Exception:  # the provider failed this time: retried later, counted
                self.figures.fill_errors += 1
                filler.attempted(request, False, self.live_clock.now_ns())
                continue
            for item in items:
                self.feed.inbox.put(item)
            filler.attempted(request, True, self.live_clock.now_ns())

    # ------------------------------------------------------------------ status
    def _account(self) -> tuple[float | None, int, int]:
        """Equity, open positions and working orders, read from another thread for the status
        line: a read that meets the engine mid-change is skipped (None), never an error."""
        trader = self.pipeline.engine.trader
        if trader is None:
            return None, 0, 0
        try:
            equity = trader.equity()
            return equity, len(trader.portfolio.open_positions()), len(trader.book.working())
        except RuntimeError:  # a dict changed size under the iteration: next time
            return None, 0, 0

    def status(self) -> dict[str, object]:
        c, q = self.pipeline.coordinator, self.pipeline.quality
        streams = list(self.intake.streams.values())
        counts = [s.counts for s in streams]
        quality = [
            q.session_data.get_quality(sym, s.interval) for s in streams for sym in c.symbols
        ]
        quality = [v for v in quality if v is not None]
        delays = self.figures.release_delay_ms[-20:]
        return {
            "now": c.tm.get_current_time(),
            "waiting_for": self.figures.waiting_for,
            "bars": sum(k.bars for k in counts),
            "corrections": sum(len(k.corrections) for k in counts),
            "quality_min": min(quality) if quality else None,
            "gaps_open": q.filler.open_count() if q.filler else 0,
            "gaps_filled": q.filler.filled_count() if q.filler else 0,
            "overruns": len(self.overruns),
            "release_delay_ms": sorted(delays)[len(delays) // 2] if delays else None,
            "reconnects": len(self.figures.reconnects),
            **self._account_status(),
        }

    def _account_status(self) -> dict[str, object]:
        equity, positions, orders = self._account()
        start = self.figures.day_start_equity
        day_pnl = equity - start if equity is not None and start is not None else None
        return {"equity": equity, "day_pnl": day_pnl, "positions": positions, "open_orders": orders}
