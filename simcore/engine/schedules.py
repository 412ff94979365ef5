"""Scheduled callbacks: strategy code that runs at a time of the session, not on a bar.

``ctx.schedule(callback, before_close=5)`` runs ``callback(ctx)`` five minutes before each
session's close (an early close too); ``after_open=30`` half an hour after the open; ``at="10:15"``
at that wall-clock time of the exchange. ``every_session=False`` runs it once, in the first
session that reaches its time.

When it runs: at the first timestamp the pipeline releases at or after its time, once every
bar up to that timestamp is visible and the strategy has had its bar callbacks for it (a
minute-aligned time on minute bars: exactly then). The callback reads and trades like
``on_bar``: an order it places fills no earlier than the next bar. A schedule whose time is
outside a session's regular hours (``at="15:50"`` on a 13:00 early close) does not run that
session, and the run's warnings say so. Schedules due at the same moment run in the order they
were made. A schedule made in ``on_start`` or ``on_session_start`` runs from that session; one
made later (in ``on_bar``) from the next: a data-driven run works out at a session's start the
timestamps it must release on their own, so that a schedule runs at the same virtual time
data-driven and replayed, and live at the same session time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import numpy as np

from simcore.time import TimeManager, TradingSession

NEVER = math.inf


class ScheduleError(ValueError):
    """A schedule that cannot be made: which argument is wrong, and why."""


@dataclass
class Schedule:
    """One scheduled callback; ``ctx.schedule`` returns it (``cancel()`` stops it)."""

    name: str
    callback: Callable
    at: time | None = None
    after_open: timedelta | None = None
    before_close: timedelta | None = None
    every_session: bool = True
    runs: int = 0
    canceled: bool = False

    def cancel(self) -> None:
        """No further runs (a run already under way completes)."""
        self.canceled = True

    def when(self, session: TradingSession, time_manager: TimeManager) -> int | None:
        """Its time in ``session`` (UTC ns), or None when that is outside the regular hours."""
        if self.at is not None:
            moment = time_manager.localize(datetime.combine(session.date, self.at))
        elif self.after_open is not None:
            moment = session.regular_open + self.after_open
        else:
            moment = session.regular_close - self.before_close
        if not session.regular_open <= moment <= session.regular_close:
            return None
        return time_manager.to_utc_ns(moment)

    def describe(self) -> str:
        if self.at is not None:
            return f"at {self.at:%H:%M:%S}".removesuffix(":00")
        if self.after_open is not None:
            return f"{_minutes(self.after_open)} after the open"
        return f"{_minutes(self.before_close)} before the close"


@dataclass
class Scheduler:
    """The strategy's schedules and which fall due in the current session."""

    time_manager: TimeManager
    schedules: list[Schedule] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # schedules a session could not run
    next_due: float = NEVER  # the earliest time due this session (UTC ns), for a cheap check
    _today: list[tuple[int, int, Schedule]] = field(default_factory=list)
    _session: TradingSession | None = None
    _planning: bool = False  # from the session's start until its first release

    def add(
        self,
        callback: Callable,
        at: str | time | None,
        after_open: float | timedelta | None,
        before_close: float | timedelta | None,
        every_session: bool,
        name: str | None,
    ) -> Schedule:
        """A new schedule: due from this session when made before its first release (in
        ``on_start`` or ``on_session_start``), else from the next one (a data-driven run knows
        the times it must release when the session starts)."""
        if not callable(callback):
            raise ScheduleError(f"schedule: callback must be callable, got {callback!r}")
        given = [k for k, v in (("at", at), ("after_open", after_open),
                                ("before_close", before_close)) if v is not None]  # fmt: skip
        if len(given) != 1:
            raise ScheduleError(
                "schedule: give exactly one of at, after_open or before_close"
                + (f" (got {', '.join(given)})" if given else "")
            )
        schedule = Schedule(
            name or getattr(callback, "__name__", "callback"),
            callback,
            at=_time_of_day(at) if at is not None else None,
            after_open=_offset("after_open", after_open) if after_open is not None else None,
            before_close=_offset("before_close", before_close) if before_close is not None else None,
            every_session=every_session,
        )  # fmt: skip
        self.schedules.append(schedule)
        if self._planning:
            self._plan(schedule, len(self.schedules) - 1)
        return schedule

    def begin_session(self, session: TradingSession) -> None:
        """Work out when each schedule falls due in ``session``."""
        self._session, self._today, self._planning = session, [], True
        self.schedules = [s for s in self.schedules if not s.canceled]
        for order, schedule in enumerate(self.schedules):
            self._plan(schedule, order)

    def close_planning(self) -> None:
        """The session's releases begin: schedules made from now on wait for the next one."""
        self._planning = False

    def times(self) -> np.ndarray:
        """Today's due times (UTC ns, sorted): a data-driven run releases each on its own."""
        return np.array(sorted({due for due, _, _ in self._today}), dtype=np.int64)

    def _plan(self, schedule: Schedule, order: int) -> None:
        if schedule.canceled or (not schedule.every_session and schedule.runs):
            return
        due = schedule.when(self._session, self.time_manager)
        if due is None:
            self.notes.append(
                f"schedule {schedule.name!r} ({schedule.describe()}) did not run on "
                f"{self._session.date}: the session ran {self._session.regular_open:%H:%M} to "
                f"{self._session.regular_close:%H:%M}"
            )
            return
        self._today.append((due, order, schedule))
        self._today.sort(key=lambda entry: (entry[0], entry[1]))
        self.next_due = self._today[0][0]

    def due(self, now_ns: int) -> list[Schedule]:
        """The schedules due at or before ``now_ns``, in order; each is taken off today's list."""
        if now_ns < self.next_due:
            return []
        ready = []
        while self._today and self._today[0][0] <= now_ns:
            ready.append(self._today.pop(0)[2])
        self.next_due = self._today[0][0] if self._today else NEVER
        return [s for s in ready if not s.canceled]

    def end_session(self) -> None:
        self._today, self.next_due, self._session, self._planning = [], NEVER, None, False


def _time_of_day(value: str | time) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise ScheduleError(f"schedule: at must be a time of day such as '15:50', got {value!r}")


def _offset(name: str, value: float | timedelta) -> timedelta:
    if isinstance(value, timedelta):
        offset = value
    elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        offset = timedelta(minutes=value)
    else:
        raise ScheduleError(f"schedule: {name} is minutes (a number) or a timedelta, got {value!r}")
    if offset < timedelta(0):
        raise ScheduleError(f"schedule: {name} must not be negative, got {value!r}")
    return offset


def _minutes(offset: timedelta) -> str:
    minutes = offset.total_seconds() / 60
    return f"{minutes:g} minute" + ("" if minutes == 1 else "s")
