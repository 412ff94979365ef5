"""The wall-clock runtime: the four components as the design's named threads.

``session_coordinator``, ``data_processor``, ``data_quality_manager`` and ``analysis_engine``
run as threads, started in the design's launch order (the analysis engine, then the coordinator,
which starts the processor and the quality manager before entering its loop). They are linked
by the design's one-shot ``StreamSubscription``s on threading primitives, with the design's two
behaviours:

* **data-driven** (speed 0): a producer waits until its consumer is ready, exactly as under
  SimPy, so the outputs are byte-identical to the SimPy runtime's. A consumer that does not
  signal within ``consumer_timeout`` is a SubscriptionTimeout naming the stalled link.
* **clock-driven** (speed > 0) and live: the producer never waits. A consumer still busy when
  the next data falls due is an overrun: recorded (virtual time, link, who was busy, lag) and
  the data is delivered anyway. The processor does not gate the stream (the design allows it in a
  clock-driven backtest; it is not done here, so a replay measures what live would see).

Only the design's sync points synchronise: the streamed base intervals (coordinator → processor)
and the strategy's subscriptions (processor → analysis engine). The processor reports ready
only once the analysis engine has finished the update it handed over, so with no overrun the
sequence of work is the data-driven one. The quality manager is never waited on during a
session; at a session's end the coordinator lets it finish the session's last notifications
before the session is recorded (its figures are part of the outputs).

An exception in any thread stops every thread; ``run`` re-raises it, naming the component.
``stop()`` (or Ctrl-C in the thread that called ``run``) stops and joins every thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from simcore.engine.events import StreamNotification
from simcore.engine.metrics import PerformanceMetrics, RunningStats
from simcore.engine.sync import OverrunError, StreamSubscription, SubscriptionTimeout
from simcore.errors import SimcoreError
from simcore.runtime.steps import Pipeline

THREAD_NAMES = ("analysis_engine", "session_coordinator", "data_processor", "data_quality_manager")
STOP = object()  # wakes a thread waiting on its queue when the run stops


class Stopping(Exception):
    """The run is stopping (a component failed, or stop() was called): unwind quietly."""


class RunStopped(Exception):
    """A run stopped on purpose before its end (a killed live session resumed only to write
    its results): what it produced is written with status ``stopped``, and it returns."""


@dataclass(frozen=True, slots=True)
class Overrun:
    """A consumer still busy when the next data fell due (clock-driven and live only)."""

    time_ns: int  # virtual time of the delivery
    link: str  # "coordinator->processor" or "processor->analysis"
    busy: str  # the component that was still working
    lag_ms: float  # wall milliseconds it had been busy on the previous delivery


@dataclass
class RunControl:
    """The run's shared stop signal and its first failure."""

    stop: threading.Event = field(default_factory=threading.Event)
    failure: tuple[str, BaseException] | None = None
    _wakers: list[Callable[[], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def on_halt(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` when the run halts: it wakes a thread blocked on something of its own
        (a queue, a socket's inbox) so that it sees the stop."""
        self._wakers.append(wake)

    def fail(self, component: str, exc: BaseException) -> None:
        with self._lock:
            if self.failure is None:
                self.failure = (component, exc)
        self.halt()

    def halt(self) -> None:
        self.stop.set()
        for wake in self._wakers:
            wake()

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of wall time, or less when the run stops (then Stopping)."""
        if self.stop.wait(max(seconds, 0.0)):
            raise Stopping


class ThreadFlag:
    """The ready flag of a subscription between threads.

    It counts deliveries not yet acknowledged, so that an overrun (a delivery made while the
    consumer was busy) is still counted when the consumer catches up: ready means "nothing
    outstanding". ``clear`` is a delivery, ``set`` an acknowledgement.
    """

    def __init__(self) -> None:
        self._outstanding = 0
        self._changed = threading.Condition()

    def is_set(self) -> bool:
        return self._outstanding == 0

    def clear(self) -> None:
        with self._changed:
            self._outstanding += 1

    def set(self) -> None:
        with self._changed:
            self._outstanding = max(0, self._outstanding - 1)
            self._changed.notify_all()

    def release_all(self) -> None:
        with self._changed:
            self._outstanding = 0
            self._changed.notify_all()

    def wait(self, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(self.is_set, timeout)


class ThreadLink:
    """Producer -> consumer: a queue of notifications gated by a one-shot subscription."""

    def __init__(
        self,
        name: str,
        consumer: str,
        key: tuple[str, str, str],
        stats: RunningStats,
        control: RunControl,
        *,
        blocking: bool,
        timeout: float,
        overruns: list[Overrun],
    ):
        self.name, self.consumer = name, consumer
        self.flag = ThreadFlag()
        self.subscription = StreamSubscription(*key, ready=self.flag)
        self.queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.stats = stats
        self.control = control
        self.blocking = blocking
        self.timeout = timeout
        self.overruns = overruns
        # who is really busy when the consumer is not ready: the processor may itself be
        # waiting for the analysis engine (set by the runtime for that link)
        self.blame: Callable[[], str] = lambda: consumer
        self._delivered_at = 0.0
        control.on_halt(self._wake)

    def _wake(self) -> None:
        self.queue.put(STOP)
        self.flag.release_all()

    def wait_done(self) -> None:
        """Wait until the consumer has acknowledged every delivery (or the run stops)."""
        waited = 0.0
        while not self.flag.wait(0.25):
            if self.control.stop.is_set():
                raise Stopping
            waited += 0.25
            if waited >= self.timeout:
                raise SubscriptionTimeout(
                    f"the {self.blame()} did not signal ready within {self.timeout:g} s "
                    f"({self.name}); the pipeline cannot go on"
                )
        if self.control.stop.is_set():
            raise Stopping

    def deliver(self, item: object, time_ns: int) -> None:
        """Hand ``item`` to the consumer: wait for it (data-driven), or record an overrun."""
        if self.blocking:
            self.wait_done()
            taken = self.subscription.take_if_ready()
            assert taken
        else:
            try:
                self.subscription.take_or_overrun()
            except OverrunError:
                lag = (PerformanceMetrics.clock() - self._delivered_at) * 1e3
                self.overruns.append(Overrun(time_ns, self.name, self.blame(), lag))
                self.flag.clear()  # the delivery still counts as outstanding
        self._delivered_at = PerformanceMetrics.clock()
        self.queue.put(item)

    def receive(self) -> object:
        item = self.queue.get()
        if item is STOP:
            raise Stopping
        return item

    def signal_ready(self) -> None:
        self.stats.add(PerformanceMetrics.clock() - self._delivered_at)
        self.subscription.signal_ready()


class FlushRequest:
    """Passed down the quality manager's queue: set once everything before it is handled."""

    def __init__(self) -> None:
        self.done = threading.Event()


class ThreadRuntime:
    """Runs a pipeline on four wall-clock threads, data-driven (speed 0) or clock-driven."""

    # data-driven: how long a producer waits for a consumer before the run is declared stalled
    # (generous: a strategy may legitimately think for seconds; a dead one is caught at once)
    CONSUMER_TIMEOUT = 60.0

    def __init__(
        self,
        pipeline: Pipeline,
        speed: float = 0.0,
        *,
        consumer_timeout: float | None = None,
        clock: Callable[[], float] = PerformanceMetrics.clock,
    ):
        if speed < 0:
            raise ValueError("speed must be 0 (data-driven) or more (clock-driven)")
        self.pipeline = pipeline
        self.speed = speed
        self.consumer_timeout = consumer_timeout or self.CONSUMER_TIMEOUT
        self.clock = clock
        self.control = RunControl()
        self.overruns: list[Overrun] = []
        self.release_lags_ms: list[float] = []  # clock-driven: wall delay past each due time
        self.session_starts: list[tuple[int, float]] = []  # (open ns, wall clock at the open)
        self.threads: list[threading.Thread] = []
        self.tick: Callable[[], None] | None = None  # called in the caller's thread while it waits

    @property
    def clock_driven(self) -> bool:
        return self.speed > 0

    # ------------------------------------------------------------------ lifecycle
    def run(self) -> None:
        """Start the threads in the design's order, wait for the coordinator's loop to finish,
        stop and join everything; re-raise the first component failure."""
        p = self.pipeline
        if not p.coordinator.days_to_run:
            return
        link = dict(
            control=self.control,
            blocking=not self.clock_driven,
            timeout=self.consumer_timeout,
            overruns=self.overruns,
        )
        to_processor = ThreadLink(
            "coordinator->processor",
            "data processor",
            ("*", "bars", p.sync_intervals),
            p.metrics.data_processor,
            **link,
        )
        to_analysis = ThreadLink(
            "processor->analysis",
            "analysis engine",
            ("*", "bars", p.subscriptions),
            p.metrics.analysis_engine,
            **link,
        )
        to_processor.blame = lambda: (
            to_analysis.consumer if not to_analysis.flag.is_set() else to_processor.consumer
        )
        to_quality: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.control.on_halt(lambda: to_quality.put(STOP))
        p.processor.listened = p.engine.subscriptions
        bodies = {
            "analysis_engine": lambda: self._analysis(to_analysis),
            "session_coordinator": lambda: self._coordinator(to_processor, to_quality),
            "data_processor": lambda: self._processor(to_processor, to_analysis, to_quality),
            "data_quality_manager": lambda: self._quality(to_quality),
        }
        self.threads = [
            threading.Thread(target=self._guard, args=(name, bodies[name]), name=name, daemon=True)
            for name in THREAD_NAMES
        ]
        self._workers = {t.name: t for t in self.threads}
        self._workers["analysis_engine"].start()  # the design's launch order; the coordinator
        self._workers["session_coordinator"].start()  # starts the processor and quality manager
        try:
            while self._workers["session_coordinator"].is_alive():
                self._workers["session_coordinator"].join(0.2)
                if self.tick is not None:
                    self.tick()
        except BaseException:  # Ctrl-C in the caller's thread: stop everything, then re-raise
            self.stop()
            raise
        self.stop()
        if self.control.failure is not None:
            component, exc = self.control.failure
            if not isinstance(exc, SimcoreError):
                exc.add_note(f"(raised in simcore's {component})")
            raise exc

    def stop(self) -> None:
        """Stop every thread and wait for each to end."""
        self.control.halt()
        for thread in self.threads:
            if thread.is_alive() and thread is not threading.current_thread():
                thread.join()

    def _guard(self, name: str, body: Callable[[], None]) -> None:
        try:
            body()
        except Stopping:
            pass
        except BaseException as exc:
            self.control.fail(name.replace("_", " "), exc)

    # ------------------------------------------------------------------ threads
    def _coordinator(self, out: ThreadLink, to_quality: queue.SimpleQueue[object]) -> None:
        self._workers["data_processor"].start()
        self._workers["data_quality_manager"].start()
        c, p, tm = self.pipeline.coordinator, self.pipeline, self.pipeline.coordinator.tm
        for day in c.days_to_run:
            session = p.begin_session(day)
            open_ns = tm.current_time_ns()
            started = self.clock()
            self.session_starts.append((open_ns, started))
            # a replay releases every timestamp when its time comes; data-driven runs may
            # release the timestamps nobody observes together (same outputs, fewer hand-offs)
            stops = None if self.clock_driven else p.stop_times()
            for event in c.feed.events(stops):
                if self.clock_driven:
                    self._wait_until(started, open_ns, event.ns)
                else:
                    out.wait_done()
                out.deliver(c.release(event), event.ns)
            close_ns = tm.to_utc_ns(session.regular_close)
            if self.clock_driven:
                self._wait_until(started, open_ns, close_ns)
            self._end_session(out, to_quality, day, session)

    def _end_session(self, out: ThreadLink, to_quality, day, session) -> None:
        """The close: no data falls due after it, so the end of the session waits for the work
        before it (the last bars often end at the close itself), for the quality manager to
        finish the session's figures, and then records the session."""
        c = self.pipeline.coordinator
        out.wait_done()
        end = c.finish_session()
        out.deliver(end, end.ns)
        out.wait_done()
        self._flush(to_quality)
        self.pipeline.end_session(day, session)

    def _wait_until(self, started: float, open_ns: int, ns: int) -> None:
        """Clock-driven: sleep until the wall clock reaches the release time of ``ns``."""
        due = started + (ns - open_ns) / 1e9 / self.speed
        while (
            now := self.clock()
        ) < due:  # a timed wait may wake a hair early: never release early
            self.control.sleep(due - now)
        self.release_lags_ms.append((now - due) * 1e3)

    def _flush(self, to_quality: queue.SimpleQueue[object]) -> None:
        flush = FlushRequest()
        to_quality.put(flush)
        while not flush.done.wait(0.25):
            if self.control.stop.is_set():
                raise Stopping

    def _processor(
        self, inbox: ThreadLink, out: ThreadLink, to_quality: queue.SimpleQueue[object]
    ) -> None:
        processor, engine = self.pipeline.processor, self.pipeline.engine
        while True:
            note = inbox.receive()
            assert isinstance(note, StreamNotification)
            update = processor.handle(note)
            to_quality.put(note)
            if engine.wants(update):
                out.deliver(update, note.ns)
                out.wait_done()
            inbox.signal_ready()

    def _quality(self, inbox: queue.SimpleQueue[object]) -> None:
        quality = self.pipeline.quality
        while True:
            note = inbox.get()
            if note is STOP:
                return
            if isinstance(note, FlushRequest):
                note.done.set()
                continue
            quality.handle(note)  # type: ignore[arg-type]

    def _analysis(self, inbox: ThreadLink) -> None:
        engine = self.pipeline.engine
        while True:
            update = inbox.receive()
            engine.handle(update)  # type: ignore[arg-type]
            inbox.signal_ready()
