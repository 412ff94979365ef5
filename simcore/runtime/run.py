"""Running a session config to its results, for backtests and live sessions alike.

Start the system, record each session as it ends, and collect the results — also of a run that
failed (a strategy error, a component's exception) or was interrupted (Ctrl-C): what it
produced up to then is recorded and written, with ``summary.status`` saying how it ended, and
the exception is re-raised for the caller to report (a run stopped on purpose, ``RunStopped``,
returns).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from simcore.engine.analysis import Strategy
from simcore.engine.coordinator import FeedFactory
from simcore.engine.metrics import PerformanceMetrics
from simcore.engine.requirements import strategy_name
from simcore.results.checks import run_warnings
from simcore.results.recording import BacktestRecorder, copies_streamed_bars
from simcore.results.returns import benchmark_closes, benchmark_statistics, returns_table
from simcore.results.statistics import Statistics, statistics
from simcore.results.tables import build_tables, store_files_frame
from simcore.results.trading_tables import trading_tables
from simcore.results.writing import PartedTable, prepare_out_dir, write_outputs
from simcore.runtime.checkpoint import CarriedState, CheckpointError, Checkpoints, fingerprint
from simcore.runtime.checkpoint import environment as checkpoint_environment
from simcore.runtime.system import SystemManager
from simcore.runtime.threads import RunStopped
from simcore.store.parquet import ParquetStore

SPILL_FOLDER = ".bars-parts"  # a run's bars, a session a file, until bars.parquet is written


@dataclass
class RunResult:
    """What a run produced. ``tables["bars"]`` and ``tables["signals"]`` are LazyFrames over
    the written files when the run recorded the derived bars only (``bars_recorded``
    derived, with an ``out_dir``): they were written a session at a time as it went and never
    held whole. Every other table is a DataFrame."""

    tables: dict[str, pl.DataFrame]
    manifest: dict[str, object] | None
    metrics: PerformanceMetrics
    summary: dict[str, object]
    runtime: object = None  # the runtime that ran it (for inspection)
    statistics: Statistics | None = None


@dataclass
class RunHooks:
    """What a kind of run adds: work when a session ends or the run stops early, more tables."""

    session_ended: Callable[[date, SystemManager], None] | None = None
    stopped_early: Callable[[SystemManager], None] | None = None  # before the last recording
    tables: Callable[[SystemManager], dict[str, pl.DataFrame]] | None = None
    metrics: Callable[[SystemManager], dict[str, object]] | None = None
    # after the results are written mid-run (a live session's refresh): the report
    written: Callable[[Path], None] | None = None
    # set by run_session: write what the run has so far (status "running"), mid-session
    write_interim: Callable[[date], None] | None = None
    extra: dict[str, object] = field(default_factory=dict)


def run_session(
    system: SystemManager,
    store: ParquetStore,
    strategy: Strategy,
    source,
    out_dir: Path | None = None,
    on_session_end: Callable[[date], None] | None = None,
    runtime=None,
    hooks: RunHooks | None = None,
    broker_factory=None,
    feed: FeedFactory | None = None,
    sessions: int = 1,
    resume: bool = False,
    live_day: date | None = None,
) -> RunResult:
    """Run ``system``'s session config and record it; with ``out_dir``, write the results.

    A data-driven backtest with an ``out_dir`` checkpoints between sessions (unless
    ``backtest_config.checkpoints`` is false); ``resume`` continues the run whose checkpoint
    is in ``out_dir`` instead of starting over (``simcore.runtime.checkpoint``).
    """
    config = system.config
    hooks = hooks or RunHooks()
    if out_dir is not None:
        prepare_out_dir(out_dir)
    checkpoints = _checkpoints(config, strategy, out_dir, runtime, resume)
    recorder = BacktestRecorder(
        spill_dir=out_dir / SPILL_FOLDER if out_dir is not None else None,
        spill_copies=checkpoints is not None,
    )
    recorded: set[date] = set()
    resumed_after = checkpoints.last_day() if resume else None

    def carried(environment: dict[str, object]) -> CarriedState:
        """The checkpointed state, read into this run's environment; its recorder is this
        run's, with the parts it names (a later session's parts are written again)."""
        nonlocal recorder
        state = checkpoints.read(environment)
        recorder = state.recorder
        recorder.resume_in(out_dir / SPILL_FOLDER)
        recorded.add(state.day)
        return state

    def checkpoint(day: date) -> None:
        if not checkpoints.due():
            return
        c = system.components
        state = CarriedState(
            day,
            c.engine,
            recorder,
            c.metrics,
            {(i, n): ind for i, pairs in c.processor.indicators.items() for n, ind in pairs},
            c.coordinator.warmup.indicator_values,
            c.processor.bars_generated,
            c.coordinator.feed.bars_outside_session,
        )
        environment = checkpoint_environment(c.session_data, c.coordinator.tm, source)
        checkpoints.write(state, environment, recorder.parts)

    def record(into: BacktestRecorder, day: date) -> None:
        c = system.components
        if not recorded and into is recorder:  # before the first session's bars: decided once
            recorder.copy_streamed = _copies_streamed_bars(config, c.coordinator)
        into.record_session(day, c.session_data, c.coordinator.plan, c.quality)
        into.record_account(day, c.engine.trader, c.session_data)
        into.record_signals(c.engine.ctx.signals)

    def session_ended(day: date) -> None:
        record(recorder, day)
        recorded.add(day)
        if checkpoints is not None:
            checkpoint(day)
        if hooks.session_ended is not None:
            hooks.session_ended(day, system)
        if on_session_end is not None:
            on_session_end(day)

    def write_interim(day: date) -> None:
        """The results so far, the current session's included, written whole (the final
        write replaces them). The runtime calls it with the pipeline quiet."""
        if out_dir is None:
            return
        snapshot = recorder.copy()
        record(snapshot, day)
        interim = _results(system, strategy, snapshot, None, hooks, "running", source)
        metrics = interim.metrics.as_dict()
        if hooks.metrics is not None:
            metrics |= hooks.metrics(system)
        write_outputs(out_dir, interim.tables, interim.summary, metrics)
        if hooks.written is not None:
            hooks.written(out_dir)

    hooks.write_interim = write_interim
    failure: BaseException | None = None
    try:
        with store.reading(config.session_data_config.symbols):
            system.start(
                strategy,
                source,
                session_ended,
                runtime,
                feed,
                broker_factory,
                sessions,
                carried if resumed_after is not None else None,
                live_day,
            )
    except BaseException as exc:
        failure = exc
        if system.components is None or not system.components.coordinator.days:
            system.stop()
            raise
        if hooks.stopped_early is not None:
            hooks.stopped_early(system)
        c = system.components
        session = c.coordinator.session
        if session is not None and session.date not in recorded:
            record(recorder, session.date)
            if hooks.session_ended is not None:
                hooks.session_ended(session.date, system)
    try:
        result = _results(system, strategy, recorder, failure, hooks, source=source)
    finally:
        system.stop()
    fetched = getattr(source, "report", None)
    if fetched is not None:  # what came from the provider this run: a fact of the run, not of
        result.metrics.fetched = fetched.as_dict()  # the data, so in metrics.json
    if out_dir is not None:
        metrics = result.metrics.as_dict()
        if hooks.metrics is not None:
            metrics |= hooks.metrics(system)
        if checkpoints is not None:
            metrics["checkpoints"] = checkpoints.figures()
        result.manifest = write_outputs(out_dir, result.tables, result.summary, metrics)
        for name, table in result.tables.items():
            if isinstance(table, PartedTable):  # written as the run went: read from there on,
                written = pl.scan_parquet(out_dir / f"{name}.parquet")  # whole when the run
                result.tables[name] = written.collect() if recorder.copy_streamed else written
        if result.summary["status"] != "interrupted":  # an interrupted run may resume; a
            recorder.remove_parts()  # failed one would fail again (killed between the two:
            if checkpoints is not None:  # --resume finds it complete)
                checkpoints.remove()
    if failure is not None and not isinstance(failure, RunStopped):
        if out_dir is not None:
            failure.add_note(f"what the run produced up to then is in {out_dir}")
        raise failure
    return result


def _checkpoints(config, strategy, out_dir, runtime, resume: bool) -> Checkpoints | None:
    """Where this run's checkpoints go: a data-driven backtest writing to ``out_dir``, unless
    ``backtest_config.checkpoints`` is false. A run that does not resume starts without the
    checkpoint of an earlier run in the same folder."""
    bt = config.backtest_config
    can = (
        out_dir is not None
        and config.mode == "backtest"
        and bt.speed_multiplier == 0
        and not callable(runtime)
    )
    if resume and not can:
        raise CheckpointError(
            "--resume continues a data-driven backtest (speed_multiplier 0) written to an "
            "--out folder; a replay against the clock or a live session starts over"
        )
    if resume and not bt.checkpoints:
        raise CheckpointError(
            "--resume: backtest_config.checkpoints is false, so the run wrote no checkpoint"
        )
    if not can or not bt.checkpoints:
        return None
    checkpoints = Checkpoints(out_dir, fingerprint(config, strategy))
    if not resume:
        checkpoints.start_over()
    return checkpoints


def _results(
    system: SystemManager,
    strategy: Strategy,
    recorder,
    failure,
    hooks: RunHooks,
    status: str | None = None,
    source=None,
) -> RunResult:
    config, c = system.config, system.components
    runtime = c.runtime
    tables = build_tables(recorder, c.coordinator, c.engine, getattr(runtime, "overruns", None))
    trader = c.engine.trader
    tables |= trading_tables(trader, recorder.positions, recorder.streamed_marks())
    if hooks.tables is not None:
        tables |= hooks.tables(system)
    if not recorder.copy_streamed and source is not None:  # where the streamed bars are
        tables["store_files"] = _store_files(source, config, c.coordinator)
    start = trader.config.max_buying_power
    symbol = config.session_data_config.benchmark
    closes = _benchmark_closes(source, symbol, c.coordinator) if symbol else None
    tables["returns"] = returns_table(tables["equity"], start, closes)
    stats = statistics(
        tables["equity"], tables["fills"], start, tables["corporate_actions"], tables["returns"]
    )
    status = status or "complete"
    if isinstance(failure, KeyboardInterrupt):
        status = "interrupted"
    elif isinstance(failure, RunStopped):
        status = "stopped"
    elif failure is not None:
        status = "failed"
    summary = {
        "session_name": config.session_name,
        "trading_days": [d.isoformat() for d in c.coordinator.days],
        "symbols": list(config.session_data_config.symbols),
        "bars_streamed": recorder.bar_count("STREAMED"),
        "bars_generated": recorder.bar_count("GENERATED"),
        "bars_recorded": "all" if recorder.copy_streamed else "derived",
        "signals": tables["signals"].height,
        "bars_outside_session": c.coordinator.feed.bars_outside_session,
        "strategy": strategy_name(strategy),
        "subscriptions": list(strategy.subscriptions),
        "parameters": dict(strategy.parameter_values),
        "timezone": c.coordinator.tm.timezone,
        "status": status,
        "price_adjustment": config.session_data_config.price_adjustment,
        "broker": getattr(trader.broker, "name", "paper"),
        "orders": tables["orders"].height,
        "fills": tables["fills"].height,
        "rejections": tables["rejections"].height,
        "statistics": stats.as_dict(),
        "warnings": run_warnings(
            config,
            c.coordinator.tm,
            c.coordinator.days,
            tables,
            c.coordinator.feed.bars_outside_session,
            _extended_bars(source, c.coordinator),
            recorder.streamed_symbols(),
        ),
    }
    summary["warnings"] += c.engine.ctx.scheduler.notes  # schedules a session could not run
    if symbol:
        summary["benchmark"] = benchmark_statistics(tables["returns"], symbol).as_dict()
        if not closes:
            summary["warnings"].append(
                f"the benchmark {symbol} has no bars in the store for these sessions: the run "
                "is compared with nothing (`simcore data info` lists what the store holds)"
            )
    if failure is not None and status == "failed":
        first_line = str(failure).splitlines()[0] if str(failure) else ""
        summary["error"] = f"{type(failure).__name__}: {first_line}"
    return RunResult(tables, None, c.metrics, summary, runtime, stats)


def _copies_streamed_bars(config, coordinator) -> bool:
    """``backtest_config.record_bars`` applied to this run (a live session copies them all:
    its bars are nowhere else)."""
    if coordinator.live_mode or config.backtest_config is None:
        return True
    bases = coordinator.plan.bases if coordinator.plan is not None else ()
    return copies_streamed_bars(
        config.backtest_config.record_bars,
        len(coordinator.symbols),
        len(coordinator.days),
        bases[0] if bases else None,
    )


def _store_files(source, config, coordinator) -> pl.DataFrame:
    """The store's files that hold the run's streamed bars (and the factor files that adjust
    them), with their SHA-256: ``bars.parquet`` names its input instead of copying it."""
    bases = coordinator.plan.bases if coordinator.plan is not None else ()
    if not coordinator.days or not bases:
        return store_files_frame(source.store, None, (), None, None)
    start, end = coordinator.tm.get_session_boundary_times(
        coordinator.days[0], coordinator.days[-1]
    )
    adjusted = config.session_data_config.price_adjustment != "raw"
    return store_files_frame(
        source.store, bases[0], coordinator.symbols, start, end, factors=adjusted
    )


def _extended_bars(source, coordinator) -> dict[str, int]:
    """Bars of the run's days that the store holds outside regular hours (not streamed), per
    symbol: a backtest's warnings name them."""
    bases = coordinator.plan.bases if coordinator.plan is not None else ()
    if coordinator.live_mode or not coordinator.days or not bases:
        return {}
    count = getattr(source, "extended_bars", None)
    if count is None:
        return {}
    with source.store.reading(coordinator.symbols):  # a damaged file: named, with what to do
        return count(coordinator.symbols, bases[0], coordinator.days[0], coordinator.days[-1])


def _benchmark_closes(source, symbol: str, coordinator) -> dict:
    """The benchmark's closes over the run's sessions, through its data source."""
    if source is None or not coordinator.days:
        return {}
    with source.store.reading([symbol]):
        return benchmark_closes(source, symbol, coordinator.days, coordinator.tm)
