"""The data-driven runtime: the four components as SimPy processes on a virtual clock.

One ``simpy.Environment`` whose time is the TimeManager's virtual time in UTC nanoseconds. The
coordinator process sleeps until the next timestamp that has data, releases it, and hands a
notification to the processor through a one-shot subscription; the processor hands what became
available to the analysis engine the same way, and the quality manager to the side (nobody
waits on it). All work of one timestamp happens at one virtual instant, in a fixed order, so a
run is deterministic. A consumer that never signals ready stalls the simulation; that is
reported as a SubscriptionTimeout naming the link, not as a hang.

Sync points are per stream kind rather than per symbol: one event carries every symbol's bars
of a timestamp, so one subscription per link covers them (the design's selective subscriptions:
the processor link exists for the streamed base intervals, the analysis link only for what the
strategy subscribed to).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator

import simpy

from simcore.engine.metrics import PerformanceMetrics, RunningStats
from simcore.engine.sync import StreamSubscription, SubscriptionTimeout
from simcore.errors import SimcoreError
from simcore.runtime.steps import Pipeline


class SimFlag:
    """A ready flag a SimPy process can wait on."""

    def __init__(self, env: simpy.Environment):
        self._env = env
        self._set = True
        self._waiter: simpy.Event | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        if self._waiter is not None and not self._waiter.triggered:
            self._waiter.succeed()

    def clear(self) -> None:
        self._set = False

    def wait(self) -> Generator[simpy.Event, None, None]:
        if not self._set:
            self._waiter = self._env.event()
            yield self._waiter
            self._waiter = None


class Mailbox:
    """A one-consumer notification queue: ``put`` never blocks; ``get`` is a SimPy event. One
    event per hand-off (a simpy.Store costs a put and a get request each time)."""

    def __init__(self, env: simpy.Environment):
        self._env = env
        self._items: deque[object] = deque()
        self._waiter: simpy.Event | None = None

    def put(self, item: object) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            waiter.succeed(item)
        else:
            self._items.append(item)

    def get(self) -> simpy.Event:
        event = self._env.event()
        if self._items:
            event.succeed(self._items.popleft())
        else:
            self._waiter = event
        return event


class Link:
    """Producer -> consumer: a notification store plus the one-shot subscription that gates it.
    Times the consumer from delivery to its ready signal (the design's metrics 1 and 2)."""

    def __init__(
        self, env: simpy.Environment, subscription_key: tuple[str, str, str], stats: RunningStats
    ):
        self.flag = SimFlag(env)
        self.subscription = StreamSubscription(*subscription_key, ready=self.flag)
        self.queue = Mailbox(env)
        self.stats = stats
        self.waiting = False
        self._delivered_at = 0.0

    def deliver(self, item: object) -> Generator[simpy.Event, None, None]:
        self.waiting = True
        yield from self.flag.wait()
        self.waiting = False
        taken = self.subscription.take_if_ready()
        assert taken
        self._delivered_at = PerformanceMetrics.clock()
        self.queue.put(item)

    def wait_done(self) -> Generator[simpy.Event, None, None]:
        self.waiting = True
        yield from self.flag.wait()
        self.waiting = False

    def signal_ready(self) -> None:
        self.stats.add(PerformanceMetrics.clock() - self._delivered_at)
        self.subscription.signal_ready()


class SimRuntime:
    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        self.coordinator = pipeline.coordinator
        self.processor = pipeline.processor
        self.quality = pipeline.quality
        self.engine = pipeline.engine
        self.metrics = pipeline.metrics
        self.env: simpy.Environment | None = None

    def run(self) -> None:
        days = self.coordinator.days_to_run
        if not days:
            return
        first_open = self.coordinator.tm.get_trading_session(days[0]).regular_open
        env = self.env = simpy.Environment(initial_time=self.coordinator.tm.to_utc_ns(first_open))
        p = self.pipeline
        to_processor = Link(env, ("*", "bars", p.sync_intervals), self.metrics.data_processor)
        to_analysis = Link(env, ("*", "bars", p.subscriptions), self.metrics.analysis_engine)
        to_quality = Mailbox(env)
        self.processor.listened = self.engine.subscriptions
        failed = env.event()
        # the design's launch order: analysis engine, then the coordinator, which starts the
        # processor and the quality manager
        env.process(self._guard("analysis engine", self._analysis(to_analysis), failed))
        main = env.process(
            self._guard("session coordinator", self._coordinator(to_processor), failed)
        )
        env.process(
            self._guard(
                "data processor", self._processor(to_processor, to_analysis, to_quality), failed
            )
        )
        env.process(self._guard("data quality manager", self._quality(to_quality), failed))
        try:
            env.run(until=env.any_of([main, failed]))
        except RuntimeError as exc:
            if "No scheduled events left" not in str(exc):
                raise
            stuck = [
                name
                for name, link in (
                    ("data processor", to_processor),
                    ("analysis engine", to_analysis),
                )
                if link.waiting
            ]
            raise SubscriptionTimeout(
                f"the pipeline stalled waiting for the {' and '.join(stuck) or 'components'} to signal ready"
            ) from None
        if failed.triggered:
            component, exc = failed.value
            if not isinstance(exc, SimcoreError):
                exc.add_note(f"(raised in simcore's {component})")
            raise exc

    @staticmethod
    def _guard(name: str, body: Generator, failed: simpy.Event) -> Generator:
        """Run a component's process; an exception stops the whole run and is re-raised as it
        was by ``run`` (SimPy would re-create it from its args, losing its type's fields)."""
        try:
            return (yield from body)
        except Exception as exc:
            if not failed.triggered:
                failed.succeed((name, exc))

    # ------------------------------------------------------------------ processes
    def _coordinator(self, out: Link):
        env, c, p = self.env, self.coordinator, self.pipeline
        for day in c.days_to_run:
            session = p.begin_session(day)
            yield env.timeout(c.tm.current_time_ns() - env.now)
            for event in c.feed.events(p.stop_times()):
                yield env.timeout(event.ns - env.now)
                yield from out.wait_done()
                yield from out.deliver(c.release(event))
            # the last data must be handled at its own time before the clock moves to the close
            yield from out.wait_done()
            end = c.finish_session()
            yield env.timeout(end.ns - env.now)
            yield from out.deliver(end)
            yield from out.wait_done()
            p.end_session(day, session)

    def _processor(self, inbox: Link, out: Link, quality: Mailbox):
        while True:
            note = yield inbox.queue.get()
            update = self.processor.handle(note)
            quality.put(note)
            if self.engine.wants(update):
                yield from out.deliver(update)
                yield from out.wait_done()
            inbox.signal_ready()

    def _quality(self, inbox: Mailbox):
        while True:
            note = yield inbox.get()
            self.quality.handle(note)

    def _analysis(self, inbox: Link):
        while True:
            update = yield inbox.queue.get()
            self.engine.handle(update)
            inbox.signal_ready()
