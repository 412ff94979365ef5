"""One data-driven backtest from a config: load, run, record, write. Used by ``simcore backtest``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from adapters.local.source import LocalDataSource
from adapters.local.store import ParquetStore
from simcore.analysis import Strategy
from simcore.config import SessionConfig
from simcore.errors import NotAvailableError, UserError
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
) -> BacktestResult:
    if config.api_config.data_api != "local":
        raise NotAvailableError(
            f"api_config.data_api is {config.api_config.data_api!r}: backtests read the local store "
            "in this version; set it to 'local'"
        )
    if out_dir is not None:
        prepare_out_dir(out_dir)
    system = SystemManager(config)
    source = LocalDataSource(store, system.get_time_manager())
    recorder = BacktestRecorder()

    def session_ended(day: date) -> None:
        c = system.components
        recorder.record_session(day, c.session_data, c.coordinator.plan, c.quality)
        if on_session_end is not None:
            on_session_end(day)

    try:
        with store.reading(config.session_data_config.symbols):
            components = system.start(strategy, source, session_ended)
        tables = build_tables(recorder, components.coordinator, components.engine)
        summary = {
            "session_name": config.session_name,
            "trading_days": [d.isoformat() for d in components.coordinator.days],
            "symbols": list(config.session_data_config.symbols),
            "bars_streamed": int(tables["bars"].filter(pl.col("source") == "STREAMED").height),
            "bars_generated": int(tables["bars"].filter(pl.col("source") == "GENERATED").height),
            "signals": tables["signals"].height,
            "bars_outside_session": components.coordinator.bars_outside_session,
            "strategy": f"{type(strategy).__module__}:{type(strategy).__name__}",
        }
    finally:
        system.stop()
    manifest = None
    if out_dir is not None:
        manifest = write_outputs(out_dir, tables, summary, components.metrics.as_dict())
    return BacktestResult(tables, manifest, components.metrics, summary)
