"""What every runtime does around a session, whatever decides *when* it happens.

A runtime (SimPy on a virtual clock, or wall-clock threads) only schedules; the order of the
components' steps at a session's start and end is the design's, and it lives here once so the
runtimes cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from simcore.engine.analysis import AnalysisEngine
from simcore.engine.coordinator import SessionCoordinator
from simcore.engine.metrics import PerformanceMetrics
from simcore.engine.processor import DataProcessor
from simcore.engine.quality import DataQualityManager
from simcore.time import TradingSession


@dataclass
class Pipeline:
    """The four components of a session and the metrics they share."""

    coordinator: SessionCoordinator
    processor: DataProcessor
    quality: DataQualityManager
    engine: AnalysisEngine
    metrics: PerformanceMetrics
    on_session_end: Callable[[date], None] | None = None
    _activated_at: float = 0.0
    _deactivated_at: float | None = None

    @property
    def sync_intervals(self) -> str:
        """The coordinator -> processor sync point: the streamed base intervals."""
        return ",".join(sorted({b for b in self.coordinator.plan.base.values() if b}))

    @property
    def subscriptions(self) -> str:
        """The processor -> analysis engine sync point: what the strategy subscribed to."""
        return ",".join(sorted(self.engine.subscriptions))

    def stop_times(self) -> np.ndarray | None:
        """The times a data-driven run must release on their own this session: the ends of
        the windows the strategy subscribed to and its schedules' times (None: every one)."""
        stops = self.processor.stop_times(self.engine.subscriptions)
        scheduled = self.engine.ctx.scheduler.times()
        if stops is None or not scheduled.size:
            return stops
        return np.union1d(stops, scheduled)

    def begin_session(self, day: date) -> TradingSession:
        """Initialisation phase, in the design's order: the coordinator (history, indicators,
        queues), then the processor's windows, the quality manager, and the strategy."""
        session = self.coordinator.begin_session(day)
        self.processor.begin_session(day)
        self.quality.begin_session()
        self.engine.begin_session(session, self.coordinator.corporate_actions)
        self.engine.ctx.scheduler.close_planning()  # a schedule made later: from the next session
        m = self.metrics
        self._activated_at = m.clock()
        if self._deactivated_at is not None:
            m.session_gap.add(self._activated_at - self._deactivated_at)
        return session

    def end_session(self, day: date, session: TradingSession) -> None:
        """End-of-session phase: the strategy's callback, deactivation, the session's record."""
        self.engine.end_session(session)
        self.coordinator.end_session()
        m = self.metrics
        m.session_market_hours.add(session.duration.total_seconds() / 3600)
        if self.on_session_end is not None:
            self.on_session_end(day)
        self._deactivated_at = m.clock()
        m.session_duration.add(self._deactivated_at - self._activated_at)
        m.sessions.append(
            {
                "date": day.isoformat(),
                "wall_seconds": self._deactivated_at - self._activated_at,
                "market_hours": session.duration.total_seconds() / 3600,
            }
        )
        m.trading_days += 1
