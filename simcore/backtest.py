"""One data-driven backtest from a config: load, run, record, write. Used by ``simcore backtest``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from adapters.local.store import ParquetStore
from adapters.sources import AlpacaEndpoints, data_source
from simcore.analysis import Strategy
from simcore.config import SessionConfig
from simcore.errors import UserError
from simcore.metrics import PerformanceMetrics
from simcore.outputs import BacktestRecorder, build_tables, prepare_out_dir, write_outputs
from simcore.strategy_loading import load_strategy
from simcore.system import SystemManager


@dataclass
class BacktestResult:
    tables: dict[str, pl.DataFrame]
    manifest: dict[str, object] | None
    metrics: PerformanceMetrics
    summary: dict[str, object]
    runtime: object = None  # the SimRuntime or ThreadRuntime that ran it (for inspection)


def resolve_strategy(config: SessionConfig, override: str | None) -> Strategy:
    spec = override or config.metadata.strategy
    if not spec:
        raise UserError(
            "no strategy: set metadata.strategy in the config or pass --strategy module:Class"
        )
    return load_strategy(spec)


def run_backtest(
    config: SessionConfig,
    store: ParquetStore,
    strategy: Strategy,
    out_dir: Path | None = None,
    on_session_end: Callable[[date], None] | None = None,
    runtime: str | None = None,
    endpoints: AlpacaEndpoints | None = None,
) -> BacktestResult:
    """Run a backtest and return (and write, with ``out_dir``) its results.

    ``runtime`` is ``"sim"`` or ``"threads"`` for a data-driven run (SimPy by default);
    ``speed_multiplier > 0`` always runs on the wall-clock threads. When the run fails (a
    strategy error, a component's exception), what it produced up to the failure is still
    written, with ``summary.status`` saying it failed and why, and the error is re-raised.
    """
    if out_dir is not None:
        prepare_out_dir(out_dir)
    system = SystemManager(config)
    source = data_source(config, store, system.get_time_manager(), endpoints)
    recorder = BacktestRecorder()
    recorded: set[date] = set()

    def session_ended(day: date) -> None:
        c = system.components
        recorder.record_session(day, c.session_data, c.coordinator.plan, c.quality)
        recorded.add(day)
        if on_session_end is not None:
            on_session_end(day)

    failure: BaseException | None = None
    try:
        with store.reading(config.session_data_config.symbols):
            system.start(strategy, source, session_ended, runtime)
    except BaseException as exc:
        failure = exc
        if system.components is None or not system.components.coordinator.days:
            system.stop()
            raise
        _record_unfinished_session(system, recorder, recorded)
    try:
        result = _results(config, strategy, system, recorder, failure)
    finally:
        system.stop()
    fetched = getattr(source, "report", None)
    if fetched is not None:  # what came from the provider this run: a fact of the run, not of
        result.metrics.fetched = fetched.as_dict()  # the data, so in metrics.json
    if out_dir is not None:
        result.manifest = write_outputs(
            out_dir, result.tables, result.summary, result.metrics.as_dict()
        )
    if failure is not None:
        if out_dir is not None:
            failure.add_note(f"what the run produced up to the failure is in {out_dir}")
        raise failure
    return result


def _record_unfinished_session(system: SystemManager, recorder, recorded: set[date]) -> None:
    """The session a failure interrupted: its bars and quality so far (what was delivered)."""
    c = system.components
    session = c.coordinator.session
    if session is not None and session.date not in recorded:
        recorder.record_session(session.date, c.session_data, c.coordinator.plan, c.quality)


def _results(config, strategy, system: SystemManager, recorder, failure) -> BacktestResult:
    c = system.components
    runtime = c.runtime
    tables = build_tables(recorder, c.coordinator, c.engine, getattr(runtime, "overruns", None))
    summary = {
        "session_name": config.session_name,
        "trading_days": [d.isoformat() for d in c.coordinator.days],
        "symbols": list(config.session_data_config.symbols),
        "bars_streamed": int(tables["bars"].filter(pl.col("source") == "STREAMED").height),
        "bars_generated": int(tables["bars"].filter(pl.col("source") == "GENERATED").height),
        "signals": tables["signals"].height,
        "bars_outside_session": c.coordinator.bars_outside_session,
        "strategy": f"{type(strategy).__module__}:{type(strategy).__name__}",
        "status": "complete" if failure is None else "failed",
    }
    if failure is not None:
        summary["error"] = (
            f"{type(failure).__name__}: {str(failure).splitlines()[0] if str(failure) else ''}"
        )
    return BacktestResult(tables, None, c.metrics, summary, runtime)
