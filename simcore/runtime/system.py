"""SystemManager: owns the config and the TimeManager, and launches a session.

The design's system API is the only way to change the market of a running system: changing
``exchange_group`` or ``asset_class`` here re-derives the timezone and calendar in the
TimeManager; nobody sets a timezone directly.

Launch sequence (the design's): ``start()`` → the analysis engine → the session coordinator,
whose ``start()`` stops any previous state and marks the streams → the data processor and the
data quality manager → the coordinator's loop, run here by the SimPy runtime. ``stop()`` stops
the streams, resets the backtest dates and clears the queues and session_data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from simcore.config import SessionConfig
from simcore.engine import requirements
from simcore.engine.analysis import AnalysisEngine, Strategy
from simcore.engine.backtest_feed import BacktestFeed
from simcore.engine.coordinator import FeedFactory, SessionCoordinator
from simcore.engine.gap_fill import GapFiller
from simcore.engine.metrics import PerformanceMetrics
from simcore.engine.processor import DataProcessor
from simcore.engine.quality import DataQualityManager
from simcore.engine.requirements import StrategyMismatch, strategy_name
from simcore.engine.session_data import SessionData
from simcore.errors import UserError
from simcore.runtime import checkpoint
from simcore.runtime.checkpoint import CarriedState
from simcore.runtime.sim import SimRuntime
from simcore.runtime.steps import Pipeline
from simcore.runtime.threads import ThreadRuntime
from simcore.time import LiveClock, TimeManager, market_for
from simcore.trading.trader import Trader


@dataclass
class Components:
    session_data: SessionData
    engine: AnalysisEngine
    coordinator: SessionCoordinator
    processor: DataProcessor
    quality: DataQualityManager
    metrics: PerformanceMetrics
    runtime: SimRuntime | ThreadRuntime | None = None


class SystemManager:
    def __init__(self, config: SessionConfig, clock: LiveClock | None = None):
        """``clock``: a live session's clock (the real one by default, or a rehearsal clock)."""
        self._config = config
        self._time_manager = TimeManager(
            config.exchange_group, config.asset_class, config.mode, clock=clock
        )
        self.components: Components | None = None

    @property
    def config(self) -> SessionConfig:
        return self._config

    def get_time_manager(self) -> TimeManager:
        return self._time_manager

    @property
    def timezone(self) -> str:
        """The system timezone, derived from exchange_group + asset_class (read-only)."""
        return self._time_manager.timezone

    @property
    def exchange_group(self) -> str:
        return self._config.exchange_group

    @property
    def asset_class(self) -> str:
        return self._config.asset_class

    def set_exchange_group(self, exchange_group: str) -> None:
        self._set_market(exchange_group, self.asset_class)

    def set_asset_class(self, asset_class: str) -> None:
        self._set_market(self.exchange_group, asset_class)

    def set_market(self, exchange_group: str, asset_class: str) -> None:
        """Change both at once (needed when only the pair is valid, e.g. to CRYPTO/CRYPTO)."""
        self._set_market(exchange_group, asset_class)

    def _set_market(self, exchange_group: str, asset_class: str) -> None:
        market_for(exchange_group, asset_class)  # a clear ValueError for an invalid pair
        self._config = self._config.model_copy(
            update={"exchange_group": exchange_group, "asset_class": asset_class}
        )
        self._time_manager.set_market(exchange_group, asset_class)

    # ------------------------------------------------------------------ lifecycle
    def start(
        self,
        strategy: Strategy,
        source,
        on_session_end: Callable[[date], None] | None = None,
        runtime: str | Callable[[Pipeline], object] | None = None,
        feed: FeedFactory | None = None,
        broker_factory: Callable | None = None,
        sessions: int = 1,
        resume: Callable[[dict[str, object]], CarriedState] | None = None,
        live_day: date | None = None,
    ) -> Components:
        """Build the components in the design's launch order and run the session loop.

        ``runtime``: ``"sim"`` (SimPy, the default at speed 0) or ``"threads"`` (wall-clock
        threads; always used when ``speed_multiplier > 0``) for a backtest; for a live session,
        a factory that builds the live runtime around the pipeline (``simcore.live.session``
        does). ``feed`` builds where the session's bars come from: the store's prefetched
        queue by default, the intake of a provider's feed in a live session (``sessions`` of
        them). The components are kept in ``self.components`` before the run starts, so that a
        caller can record what a failed or interrupted run produced.

        ``resume``: a backtest that continues from a checkpoint (``simcore.runtime.checkpoint``)
        is given the run's environment and returns the state carried into the next session;
        the sessions up to the checkpoint's are not run again, nor is ``on_start``.
        ``live_day``: the session a resumed live run continues (its journal's), even when the
        clock has passed its close.
        """
        config = self._config
        live = config.mode == "live"
        if live and not callable(runtime):
            raise UserError(
                "a live session runs with `simcore live` (a backtest needs mode 'backtest')"
            )
        speed = 0.0 if live else config.backtest_config.speed_multiplier
        if not live and runtime not in (None, "sim", "threads"):
            raise UserError(f"runtime must be 'sim' or 'threads', not {runtime!r}")
        if speed > 0 and runtime == "sim":
            raise UserError(
                f"backtest_config.speed_multiplier is {speed:g}: a clock-driven replay runs on "
                "the wall-clock threads, not on SimPy"
            )
        requirements.check_config_fits(config, strategy, repr(config.session_name))
        tm = self._time_manager
        data_cfg = config.session_data_config
        session_data = SessionData(tm.current_time_ns, tuple(data_cfg.symbols))
        carried = None
        if resume is not None:
            carried = resume(checkpoint.environment(session_data, tm, source))
            metrics, engine = carried.metrics, carried.engine
            metrics.resumed_after = carried.day.isoformat()
            trader = engine.trader
        else:
            metrics = PerformanceMetrics(kind="Live" if live else "Backtest")
            trader = Trader(
                config.trading_config,
                tuple(data_cfg.symbols),
                tm.current_time_ns,
                session_data.last_close,
                broker_factory,
                session_data.last_closes,
            )
            engine = AnalysisEngine(session_data, tm, strategy, trader)
        metrics.backtest_started = metrics.clock()
        # where the session's bars come from: the store's prefetched queue, unless the caller
        # brings its own (a live session: the intake of its provider's feed)
        chosen_feed = (feed or BacktestFeed)(source, session_data, metrics)
        coordinator = SessionCoordinator(
            config,
            tm,
            source,
            session_data,
            metrics,
            chosen_feed,
            live_sessions=sessions,
            live_day=live_day,
        )
        coordinator.start()
        problems = requirements.marking_problems(coordinator.plan, data_cfg.symbols, strategy)
        if problems:
            raise StrategyMismatch(strategy_name(strategy), repr(config.session_name), problems)
        processor = DataProcessor(
            session_data, coordinator.plan, tm, data_cfg.bar_alignment, tuple(strategy.indicators)
        )
        if live:  # every release reaches the engine: how often it polls the broker never
            processor.orders_working = lambda: True  # depends on the threads' timing (a
        else:  # resumed session replays its journal's dealings in the same order)
            processor.orders_working = lambda: trader.book.any_working
        if carried is not None:
            _carry_over(carried, coordinator, chosen_feed, processor)
        gaps = data_cfg.gap_filler
        filler = GapFiller(gaps.max_retries, gaps.retry_interval_seconds * 10**9) if live else None
        quality = DataQualityManager(
            session_data, coordinator.plan, gaps.enable_session_quality, filler
        )
        pipeline = Pipeline(coordinator, processor, quality, engine, metrics, on_session_end)
        if callable(runtime):
            chosen = runtime(pipeline)
        elif speed > 0 or runtime == "threads":
            chosen = ThreadRuntime(pipeline, speed)
        else:
            chosen = SimRuntime(pipeline)
        self.components = Components(
            session_data, engine, coordinator, processor, quality, metrics, chosen
        )
        try:
            if carried is None:  # a resumed run's strategy started in the run it continues
                engine.start()
            chosen.run()
        finally:
            metrics.bars_generated = processor.bars_generated
            metrics.backtest_ended = metrics.clock()
            if isinstance(chosen, ThreadRuntime) and not live:
                metrics.record_clock_driven(speed, chosen.release_lags_ms, chosen.overruns)
        return self.components

    def stop(self) -> None:
        """Stop the runtime's threads (if any), then the coordinator: streams, dates, queues."""
        if self.components is not None:
            runtime = self.components.runtime
            if isinstance(runtime, ThreadRuntime):
                runtime.stop()
            self.components.coordinator.stop()


def _carry_over(carried: CarriedState, coordinator, feed, processor: DataProcessor) -> None:
    """Give a resumed run's fresh components what the checkpointed run had carried: the
    session to continue after, its counters, and the real-time indicators' state (updated in
    place: session_data holds the same indicator objects)."""
    coordinator.resumed_after = carried.day
    coordinator.warmup.indicator_values = carried.historical_indicators
    feed.bars_outside_session = carried.bars_outside_session
    processor.bars_generated = carried.bars_generated
    for interval, indicators in processor.indicators.items():
        for name, indicator in indicators:
            indicator.__dict__.update(carried.indicators[(interval, name)].__dict__)
