"""NautilusTrader: BacktestEngine, 1-MINUTE-LAST-EXTERNAL bars, 5- and 15-MINUTE-LAST-INTERNAL
aggregation (time_bars_build_with_no_updates=False so no bars are built over nights and
weekends), SimpleMovingAverage(20) on the 5m bars, crosses counted as in the others."""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import DataEngineConfig, LoggingConfig, StrategyConfig
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
from benchmarks.workload import minute_bars


class Config(StrategyConfig, frozen=True):
    symbols: tuple[str, ...] = ()


class CrossCounter(Strategy):
    def __init__(self, config: Config):
        super().__init__(config)
        self.crosses = 0
        self.sma: dict[str, SimpleMovingAverage] = {}
        self.side: dict[str, bool] = {}
        self.seen = {5: 0, 15: 0}

    def on_start(self):
        for symbol in self.config.symbols:
            bt5 = BarType.from_str(f"{symbol}.XNAS-5-MINUTE-LAST-INTERNAL@1-MINUTE-EXTERNAL")
            bt15 = BarType.from_str(f"{symbol}.XNAS-15-MINUTE-LAST-INTERNAL@1-MINUTE-EXTERNAL")
            self.sma[str(bt5.standard())] = SimpleMovingAverage(20)
            self.register_indicator_for_bars(bt5, self.sma[str(bt5.standard())])
            self.subscribe_bars(bt5)
            self.subscribe_bars(bt15)

    def on_bar(self, bar: Bar):
        key = str(bar.bar_type)
        sma = self.sma.get(key)
        if sma is None:
            self.seen[15] += 1
            return
        self.seen[5] += 1
        if not sma.initialized:
            return
        side = float(bar.close) > sma.value
        previous = self.side.get(key)
        if previous is not None and previous != side:
            self.crosses += 1
        self.side[key] = side


def engine_with_bars(
    frame: pl.DataFrame, bar_spec: str, data_engine: DataEngineConfig | None = None
) -> tuple[BacktestEngine, list[str]]:
    """A BacktestEngine on XNAS with one equity per symbol of ``frame`` (symbol, timestamp at
    the bar's close, OHLCV) and its bars as ``<symbol>.XNAS-<bar_spec>``; the symbols in order."""
    engine = BacktestEngine(
        BacktestEngineConfig(
            logging=LoggingConfig(log_level="ERROR"), data_engine=data_engine or DataEngineConfig()
        )
    )
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
        bars = BarDataWrangler(BarType.from_str(f"{symbol}.XNAS-{bar_spec}"), instrument).process(
            df.set_index("timestamp")
        )
        engine.add_data(bars)
    return engine, names


def run(store: Path, count: int) -> dict:
    started = time.perf_counter()
    frame = minute_bars(store, count)
    closes = frame.with_columns(  # Nautilus stamps bars at their close
        pl.col("timestamp") + pl.duration(minutes=1)
    )
    engine, names = engine_with_bars(
        closes,
        "1-MINUTE-LAST-EXTERNAL",
        DataEngineConfig(time_bars_build_with_no_updates=False),
    )
    strategy = CrossCounter(Config(symbols=tuple(names)))
    engine.add_strategy(strategy)
    engine.run()
    seconds = time.perf_counter() - started
    result = {
        "bars": frame.height,
        "bars_5m": strategy.seen[5],
        "bars_15m": strategy.seen[15],
        "crosses": strategy.crosses,
        "seconds": seconds,
    }
    engine.dispose()
    return result


if __name__ == "__main__":
    cli(run)
