"""Performance instrumentation (the design's section 6), kept apart from deterministic outputs.

Everything here is wall-clock (``time.perf_counter``) and differs from run to run; it goes to
``metrics.json`` and the printed report, never into the golden outputs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field


@dataclass
class RunningStats:
    """min / max / mean / count without keeping the samples."""

    count: int = 0
    total: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        if value < self.minimum:
            self.minimum = value
        if value > self.maximum:
            self.maximum = value

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def as_dict(self) -> dict[str, float]:
        if not self.count:
            return {"count": 0, "min": 0.0, "max": 0.0, "avg": 0.0}
        return {"count": self.count, "min": self.minimum, "max": self.maximum, "avg": self.mean}


def percentiles(values: list[float]) -> dict[str, float]:
    """count, p50, p99 and max of a sample (0 when empty), for wall-clock latencies."""
    if not values:
        return {"count": 0, "p50": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]

    return {"count": len(ordered), "p50": at(0.5), "p99": at(0.99), "max": ordered[-1]}


@dataclass
class PerformanceMetrics:
    analysis_engine: RunningStats = field(default_factory=RunningStats)  # seconds per cycle
    data_processor: RunningStats = field(default_factory=RunningStats)  # seconds per item
    initial_load: float | None = None  # seconds
    subsequent_load: RunningStats = field(default_factory=RunningStats)
    session_gap: RunningStats = field(default_factory=RunningStats)  # seconds, inactive->active
    session_duration: RunningStats = field(default_factory=RunningStats)  # wall seconds active
    session_market_hours: RunningStats = field(default_factory=RunningStats)  # virtual hours
    backtest_started: float | None = None
    backtest_ended: float | None = None
    trading_days: int = 0
    bars_streamed: int = 0
    bars_generated: int = 0
    clock_driven: dict[str, object] | None = None  # speed, release lags, overrun counts
    fetched: dict[str, int] | None = None  # what a provider-backed run fetched
    kind: str = "Backtest"  # "Live" for a live session: the report's summary heading
    sessions: list[dict[str, object]] = field(default_factory=list)  # per session: its timings
    resumed_after: str | None = None  # a resumed backtest: the session its checkpoint followed

    def record_clock_driven(self, speed: float, lags_ms: list[float], overruns: list) -> None:
        """A wall-clock run's figures: how late each release came, and the overruns per link."""
        per_link: dict[str, int] = {}
        for overrun in overruns:
            per_link[overrun.link] = per_link.get(overrun.link, 0) + 1
        self.clock_driven = {
            "speed_multiplier": speed,
            "release_lag_ms": percentiles(lags_ms),
            "overruns": per_link,
            "overrun_lag_ms": percentiles([o.lag_ms for o in overruns]),
        }

    @staticmethod
    def clock() -> float:
        return time.perf_counter()

    def record_load(self, seconds: float) -> None:
        if self.initial_load is None:
            self.initial_load = seconds
        else:
            self.subsequent_load.add(seconds)

    @property
    def total_time(self) -> float:
        if self.backtest_started is None or self.backtest_ended is None:
            return 0.0
        return self.backtest_ended - self.backtest_started

    def as_dict(self) -> dict[str, object]:
        days = self.trading_days
        return {
            "analysis_engine_seconds": self.analysis_engine.as_dict(),
            "data_processor_seconds": self.data_processor.as_dict(),
            "data_loading_seconds": {
                "initial": self.initial_load or 0.0,
                "subsequent": self.subsequent_load.as_dict(),
            },
            "session_lifecycle": {
                "sessions": self.session_duration.count,
                "gap_seconds": self.session_gap.as_dict(),
                "duration_wall_seconds": self.session_duration.as_dict(),
                "duration_market_hours": self.session_market_hours.as_dict(),
            },
            "backtest": {
                "total_seconds": self.total_time,
                "trading_days": days,
                "avg_seconds_per_day": self.total_time / days if days else 0.0,
                "bars_streamed": self.bars_streamed,
                "bars_generated": self.bars_generated,
                "bars_per_second": self.bars_streamed / self.total_time if self.total_time else 0.0,
            },
            "sessions": self.sessions,
            **({"clock_driven": self.clock_driven} if self.clock_driven else {}),
            **({"fetched": self.fetched} if self.fetched else {}),
            # timings then count from the resume; the sessions before it ran in the first run
            **({"resumed_after": self.resumed_after} if self.resumed_after else {}),
            "report": self.report(),
        }

    def report(self) -> str:
        """The design's report format."""

        def ms(stats: RunningStats) -> str:
            return (
                f"Min: {stats.minimum * 1e3:.2f} ms | Max: {stats.maximum * 1e3:.2f} ms | "
                f"Avg: {stats.mean * 1e3:.2f} ms"
                if stats.count
                else "Min: - | Max: - | Avg: -"
            )

        def sec(stats: RunningStats) -> str:
            return (
                f"Avg: {stats.mean:.2f} s | Min: {stats.minimum:.2f} s | Max: {stats.maximum:.2f} s"
                if stats.count
                else "Avg: - | Min: - | Max: -"
            )

        hours = self.session_market_hours
        days = self.trading_days
        rate = self.bars_streamed / self.total_time if self.total_time else 0.0
        lines = [
            "Performance Metrics Summary:",
            "=" * 50,
            "Analysis Engine:",
            f"  - Cycles: {self.analysis_engine.count:,}",
            f"  - {ms(self.analysis_engine)}",
            "",
            "Data Processor:",
            f"  - Items: {self.data_processor.count:,}",
            f"  - {ms(self.data_processor)}",
            "",
            "Data Loading (All Symbols):",
            f"  - Initial Load: {self.initial_load or 0.0:.2f} s",
            f"  - Subsequent Load: {sec(self.subsequent_load)}",
            "",
            "Session Lifecycle:",
            f"  - Sessions: {self.session_duration.count}",
            f"  - {sec(self.session_gap).replace('Avg:', 'Avg Gap:', 1)}",
            (
                f"  - Avg Duration: {hours.mean:.2f} hrs | Min: {hours.minimum:.2f} hrs | "
                f"Max: {hours.maximum:.2f} hrs (market time)"
                if hours.count
                else "  - Avg Duration: -"
            ),
            f"  - Avg Wall Time Active: {self.session_duration.mean:.3f} s",
            "",
            f"{self.kind} Summary:",
            f"  - Total Time: {self.total_time:.2f} s",
            f"  - Trading Days: {days}",
            f"  - Avg per Day: {self.total_time / days if days else 0.0:.2f} s",
            f"  - Bars: {self.bars_streamed:,} streamed, {self.bars_generated:,} generated "
            f"({rate:,.0f} streamed bars/s)",
            *self._clock_driven_lines(),
            "=" * 50,
        ]
        return "\n".join(lines)

    def _clock_driven_lines(self) -> list[str]:
        if not self.clock_driven:
            return []
        lag = self.clock_driven["release_lag_ms"]
        overruns = self.clock_driven["overruns"]
        return [
            "",
            f"Clock-Driven Replay ({self.clock_driven['speed_multiplier']:g}x):",
            f"  - Release lag: p50 {lag['p50']:.2f} ms | p99 {lag['p99']:.2f} ms | "
            f"max {lag['max']:.2f} ms ({lag['count']:,} releases)",
            "  - Overruns: "
            + (", ".join(f"{link} {n:,}" for link, n in overruns.items()) or "none"),
        ]
