"""One backtest from a config: its data source, its run, its results. Used by ``simcore backtest``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from adapters.local.store import ParquetStore
from adapters.sources import AlpacaEndpoints, data_source
from simcore.analysis import Strategy
from simcore.config import SessionConfig
from simcore.errors import UserError
from simcore.outputs import prepare_out_dir
from simcore.session_run import RunResult, run_session
from simcore.strategy_loading import load_strategy
from simcore.system import SystemManager

BacktestResult = RunResult  # the name callers know


def resolve_strategy(config: SessionConfig, override: str | None) -> Strategy:
    spec = override or config.metadata.strategy
    if not spec:
        raise UserError(
            "no strategy: set metadata.strategy in the config or pass --strategy module:Class"
        )
    return load_strategy(spec, config.metadata.parameters)


def run_backtest(
    config: SessionConfig,
    store: ParquetStore,
    strategy: Strategy,
    out_dir: Path | None = None,
    on_session_end: Callable[[date], None] | None = None,
    runtime: str | None = None,
    endpoints: AlpacaEndpoints | None = None,
) -> RunResult:
    """Run a backtest and return (and write, with ``out_dir``) its results.

    ``runtime`` is ``"sim"`` or ``"threads"`` for a data-driven run (SimPy by default);
    ``speed_multiplier > 0`` always runs on the wall-clock threads. When the run fails (a
    strategy error, a component's exception), what it produced up to the failure is still
    written, with ``summary.status`` saying it failed and why, and the error is re-raised.
    """
    if config.mode != "backtest":
        raise UserError(f"{config.session_name!r} is a live session: run it with `simcore live`")
    if out_dir is not None:
        prepare_out_dir(out_dir)
    system = SystemManager(config)
    source = data_source(config, store, system.get_time_manager(), endpoints)
    return run_session(system, store, strategy, source, out_dir, on_session_end, runtime)
