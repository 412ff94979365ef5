"""simcore: a real data-driven backtest of the daily session, 20 trailing days of 1d history
reloaded before every session, SmaCrossCounter on 1d bars."""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.engines import cli
from benchmarks.workload import daily_config, symbols
from simcore.app.backtest import run_backtest
from simcore.engine.indicators import IndicatorRequest
from simcore.store.parquet import ParquetStore
from simcore.strategies.sma_cross import SmaCrossCounter


class DailyCrossCounter(SmaCrossCounter):
    subscriptions = ("1d",)
    indicators = (IndicatorRequest("sma20", "1d", "sma", period=20),)
    emit_signals = False


def run(store: Path, count: int) -> dict:
    started = time.perf_counter()
    strategy = DailyCrossCounter()
    result = run_backtest(daily_config(symbols(count)), ParquetStore(store), strategy)
    return {
        "bars": result.summary["bars_streamed"],
        "crosses": strategy.crosses,
        "seconds": time.perf_counter() - started,
    }


if __name__ == "__main__":
    cli(run)
