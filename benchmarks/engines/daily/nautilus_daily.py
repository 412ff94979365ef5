"""NautilusTrader: BacktestEngine, 1-DAY-LAST-EXTERNAL bars stamped at 16:00 New York (the
close), SimpleMovingAverage(20) registered for them, crosses counted as in the others."""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl
from nautilus_trader.config import StrategyConfig
from nautilus_trader.indicators.averages import SimpleMovingAverage
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.trading.strategy import Strategy

from benchmarks.engines import cli
from benchmarks.engines.nautilus_engine import engine_with_bars
from benchmarks.workload import daily_bars


class Config(StrategyConfig, frozen=True):
    symbols: tuple[str, ...] = ()


class CrossCounter(Strategy):
    def __init__(self, config: Config):
        super().__init__(config)
        self.crosses = 0
        self.sma: dict[str, SimpleMovingAverage] = {}
        self.side: dict[str, bool] = {}

    def on_start(self):
        for symbol in self.config.symbols:
            bar_type = BarType.from_str(f"{symbol}.XNAS-1-DAY-LAST-EXTERNAL")
            self.sma[str(bar_type)] = SimpleMovingAverage(20)
            self.register_indicator_for_bars(bar_type, self.sma[str(bar_type)])
            self.subscribe_bars(bar_type)

    def on_bar(self, bar: Bar):
        key = str(bar.bar_type)
        sma = self.sma[key]
        if not sma.initialized:
            return
        side = float(bar.close) > sma.value
        previous = self.side.get(key)
        if previous is not None and previous != side:
            self.crosses += 1
        self.side[key] = side


def run(store: Path, count: int) -> dict:
    started = time.perf_counter()
    frame = daily_bars(store, count).with_columns(
        pl.col("day")
        .cast(pl.Datetime("ns"))
        .dt.offset_by("16h")
        .dt.replace_time_zone("America/New_York")
        .dt.convert_time_zone("UTC")
        .alias("timestamp")
    )
    engine, names = engine_with_bars(frame, "1-DAY-LAST-EXTERNAL")
    strategy = CrossCounter(Config(symbols=tuple(names)))
    engine.add_strategy(strategy)
    loop_started = time.perf_counter()
    engine.run()
    loop = time.perf_counter() - loop_started
    result = {"bars": frame.height, "crosses": strategy.crosses, "loop_seconds": round(loop, 2)}
    result["seconds"] = time.perf_counter() - started
    engine.dispose()
    return result


if __name__ == "__main__":
    cli(run)
