"""backtrader: a 1m feed per symbol, resampledata to 5m and 15m, bt.indicators.SMA(20) of the
5m close, crosses counted as in the others (side of close vs SMA flips between 5m bars)."""

from __future__ import annotations

import time
from pathlib import Path

import backtrader as bt
import polars as pl

from benchmarks.engines import cli
from benchmarks.workload import minute_bars


class CrossCounter(bt.Strategy):
    def __init__(self):
        self.count = len(self.datas) // 3
        self.sma = [
            bt.indicators.SMA(self.datas[3 * i + 1].close, period=20) for i in range(self.count)
        ]
        self.seen5 = [0] * self.count
        self.seen15 = [0] * self.count
        self.side: list[bool | None] = [None] * self.count
        self.crosses = 0

    def next(self):
        for i in range(self.count):
            d5, d15 = self.datas[3 * i + 1], self.datas[3 * i + 2]
            if len(d15) != self.seen15[i]:
                self.seen15[i] = len(d15)
            if len(d5) == self.seen5[i]:
                continue
            self.seen5[i] = len(d5)
            if len(self.sma[i]) < 1 or len(d5) < 20:
                continue
            side = d5.close[0] > self.sma[i][0]
            if self.side[i] is not None and side != self.side[i]:
                self.crosses += 1
            self.side[i] = side


def run(store: Path, count: int) -> dict:
    started = time.perf_counter()
    # backtrader wants naive local times and stamps intraday bars at their end (close time)
    frame = minute_bars(store, count).with_columns(
        (pl.col("timestamp") + pl.duration(minutes=1))
        .dt.convert_time_zone("America/New_York")
        .dt.replace_time_zone(None)
    )
    cerebro = bt.Cerebro(stdstats=False)
    for _, part in frame.group_by("symbol", maintain_order=True):
        df = part.drop("symbol").to_pandas().set_index("timestamp")
        feed = bt.feeds.PandasData(dataname=df, timeframe=bt.TimeFrame.Minutes, compression=1)
        cerebro.adddata(feed)
        cerebro.resampledata(feed, timeframe=bt.TimeFrame.Minutes, compression=5)
        cerebro.resampledata(feed, timeframe=bt.TimeFrame.Minutes, compression=15)
    cerebro.addstrategy(CrossCounter)
    strategy = cerebro.run(runonce=False)[0]
    seconds = time.perf_counter() - started
    return {
        "bars": frame.height,
        "bars_5m": sum(strategy.seen5),
        "bars_15m": sum(strategy.seen15),
        "crosses": strategy.crosses,
        "seconds": seconds,
    }


if __name__ == "__main__":
    cli(run)
