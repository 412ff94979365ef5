"""simcore: a real data-driven backtest (data_api local) through the whole pipeline."""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl

from adapters.local.store import ParquetStore
from benchmarks.engines import cli
from benchmarks.workload import END, START, symbols
from simcore.backtest import run_backtest
from simcore.config import SessionConfig
from simcore.strategies.sma_cross import SmaCrossCounter


def config(count: int) -> SessionConfig:
    return SessionConfig.model_validate(
        {
            "session_name": f"benchmark W{count}",
            "backtest_config": {
                "start_date": START.isoformat(),
                "end_date": END.isoformat(),
                "speed_multiplier": 0.0,
                "prefetch_days": 20,
            },
            "session_data_config": {
                "symbols": symbols(count),
                "streams": ["1m", "5m", "15m"],
                "historical": {
                    "data": [{"trailing_days": 10, "intervals": ["1d"], "apply_to": "all"}]
                },
            },
            "trading_config": {
                "max_buying_power": 1e6,
                "max_per_trade": 1e4,
                "max_per_symbol": 1e5,
                "max_open_positions": 10,
            },
            "api_config": {"data_api": "local", "trade_api": "paper"},
        }
    )


def run(store: Path, count: int) -> dict:
    started = time.perf_counter()
    strategy = SmaCrossCounter()
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
    }


if __name__ == "__main__":
    cli(run)
