"""Which bars a backtest will read, per interval and symbols: what ``simcore data fetch``
brings from a provider up front (the run itself fetches the same lazily, read by read)."""

from __future__ import annotations

from datetime import date

from simcore.config import SessionConfig
from simcore.engine.backtest_feed import BacktestFeed
from simcore.engine.coordinator import SessionCoordinator
from simcore.engine.metrics import PerformanceMetrics
from simcore.engine.session_data import SessionData
from simcore.time import TimeManager

PROVIDED = ("1m", "1d")  # what providers serve; other intervals are derived from 1m


def fetch_plan(
    config: SessionConfig, tm: TimeManager, source
) -> dict[tuple[str, tuple[str, ...]], set[date]]:
    symbols = tuple(config.session_data_config.symbols)
    session_data = SessionData(tm.current_time_ns, symbols)
    feed = BacktestFeed(source, session_data)
    coordinator = SessionCoordinator(config, tm, source, session_data, PerformanceMetrics(), feed)
    coordinator.start()  # the stream marking, the history plan and the session days
    plan: dict[tuple[str, tuple[str, ...]], set[date]] = {}
    for base in sorted({b for b in coordinator.plan.base.values() if b}):
        streaming = tuple(s for s in symbols if coordinator.plan.base[s] == base)
        plan.setdefault((base if base in PROVIDED else "1m", streaming), set()).update(
            coordinator.days
        )
    for need in coordinator.history_needs:
        interval = need.interval if need.interval in PROVIDED else "1m"
        days = plan.setdefault((interval, need.symbols), set())
        for day in coordinator.days:
            days.update(tm.trailing_trading_days(day, need.trailing_days))
    return plan
