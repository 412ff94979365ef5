"""simcore: a real data-driven backtest (data_api local) through the whole pipeline."""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl

from benchmarks.engines import cli
from benchmarks.workload import session_config, symbols
from simcore.app.backtest import run_backtest
from simcore.config import SessionConfig
from simcore.store.parquet import ParquetStore
from simcore.strategies.sma_cross import SmaCrossCounter


def config(count: int) -> SessionConfig:
    return session_config(symbols(count), name=f"benchmark W{count}")


def run(store: Path, count: int, strategy_class: type[SmaCrossCounter] = SmaCrossCounter) -> dict:
    started = time.perf_counter()
    strategy = strategy_class()
    strategy.emit_signals = False
    result = run_backtest(config(count), ParquetStore(store), strategy)
    seconds = time.perf_counter() - started
    bars = result.tables["bars"]
    per = dict(bars.group_by("interval").len().iter_rows())
    return {
        "bars": per.get("1m", 0),
        "bars_5m": per.get("5m", 0),
        "bars_15m": per.get("15m", 0),
        "crosses": strategy.crosses,
        "seconds": seconds,
        "streamed": int(bars.filter(pl.col("source") == "STREAMED").height),
        "fills": result.summary["fills"],
    }


if __name__ == "__main__":
    cli(run)
