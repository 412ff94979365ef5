"""NautilusTrader: BacktestEngine, 1-DAY-LAST-EXTERNAL bars stamped at 16:00 New York (the
close), SimpleMovingAverage(20) registered for them, crosses counted as in the others."""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig, StrategyConfig
from nautilus_trader.indicators.averages import SimpleMovingAverage
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.enums import AccountType, OmsType
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money
from nautilus_trader.persistence.wranglers import BarDataWrangler
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.trading.strategy import Strategy

from benchmarks.engines import cli
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
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR")))
    engine.add_venue(
        Venue("XNAS"),
        oms_type=OmsType.NETTING,
        account_type=AccountType.CASH,
        base_currency=USD,
        starting_balances=[Money(1_000_000, USD)],
    )
    names = []
    for (symbol,), part in frame.group_by("symbol", maintain_order=True):
        names.append(symbol)
        instrument = TestInstrumentProvider.equity(symbol=symbol, venue="XNAS")
        engine.add_instrument(instrument)
        df = part.select("timestamp", "open", "high", "low", "close", "volume").to_pandas()
        bars = BarDataWrangler(
            BarType.from_str(f"{symbol}.XNAS-1-DAY-LAST-EXTERNAL"), instrument
        ).process(df.set_index("timestamp"))
        engine.add_data(bars)
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
