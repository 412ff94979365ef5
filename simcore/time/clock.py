"""The clock of a live session: the real wall clock, or a rehearsal clock.

A rehearsal clock starts at a chosen instant and runs at a chosen rate (``--clock-start
2025-07-01T09:29:50-04:00 --clock-speed 60``), so a live session — and the Alpaca emulator
that feeds it — can run any hour of any day through the very same code path as a real one.
Both read the monotonic ``perf_counter`` between two readings, so a wall-clock adjustment (NTP)
never moves a session's time backwards.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class LiveClock:
    """UTC nanoseconds now: ``start`` (default: the real time) plus elapsed wall time x speed."""

    def __init__(
        self, start: datetime | None = None, speed: float = 1.0, started_at: float | None = None
    ):
        """``started_at``: the wall time (Unix seconds) at which the clock read ``start``
        (default: now). Two processes given the same start, speed and ``started_at`` read the
        same time: an emulator and the session it feeds, or a rehearsal resumed after a kill."""
        if speed <= 0:
            raise ValueError("a live clock's speed must be > 0")
        if start is not None and start.tzinfo is None:
            raise ValueError(f"the clock's start {start} must be timezone-aware")
        self.speed = float(speed)
        self._anchor_wall = time.perf_counter()
        self._anchor_ns = (
            time.time_ns()
            if start is None
            else (start - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000
        )
        self.rehearsal = start is not None or speed != 1.0
        self.started_at = time.time()  # the wall time of the anchor (Unix seconds)
        if start is not None and started_at is not None:
            self._anchor_ns += int((self.started_at - started_at) * self.speed * 1e9)

    def describe(self) -> dict[str, object]:
        """What rebuilds this clock in another process (``LiveClock.of``)."""
        return {
            "rehearsal": self.rehearsal,
            "anchor_ns": self._anchor_ns,
            "started_at": self.started_at,
            "speed": self.speed,
        }

    @classmethod
    def of(cls, described: dict) -> LiveClock:
        """The clock ``describe`` described: the real one, or the same rehearsal clock."""
        if not described.get("rehearsal"):
            return cls()
        start = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
            microseconds=described["anchor_ns"] // 1000
        )
        return cls(start, described["speed"], described["started_at"])

    def now_ns(self) -> int:
        return self._anchor_ns + int((time.perf_counter() - self._anchor_wall) * self.speed * 1e9)

    def wall_seconds_until(self, ns: int) -> float:
        """Wall seconds until the clock reads ``ns`` (negative when it is past)."""
        return (ns - self.now_ns()) / 1e9 / self.speed

    def sleep_until(self, ns: int, stop: threading.Event | None = None) -> bool:
        """Sleep until the clock reads ``ns``; False when ``stop`` was set first."""
        while (wait := self.wall_seconds_until(ns)) > 0:
            if stop is None:
                time.sleep(wait)
            elif stop.wait(wait):
                return False
        return True
