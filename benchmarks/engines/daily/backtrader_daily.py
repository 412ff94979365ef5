"""backtrader: a daily feed per symbol, bt.indicators.SMA(20) of the close, crosses counted as
in the others."""

from __future__ import annotations

import time
from pathlib import Path

import backtrader as bt
import polars as pl

from benchmarks.engines import cli
from benchmarks.workload import daily_bars


class CrossCounter(bt.Strategy):
    def __init__(self):
        self.sma = [bt.indicators.SMA(d.close, period=20) for d in self.datas]
        self.seen = [0] * len(self.datas)
        self.side: list[bool | None] = [None] * len(self.datas)
        self.crosses = 0

    def next(self):
        for i, d in enumerate(self.datas):
            if len(d) == self.seen[i]:
                continue
            self.seen[i] = len(d)
            if len(d) < 20:
                continue
            side = d.close[0] > self.sma[i][0]
            if self.side[i] is not None and side != self.side[i]:
                self.crosses += 1
            self.side[i] = side


def run(store: Path, count: int) -> dict:
    started = time.perf_counter()
    frame = daily_bars(store, count).with_columns(pl.col("day").cast(pl.Datetime("us")))
    cerebro = bt.Cerebro(stdstats=False)
    for _, part in frame.group_by("symbol", maintain_order=True):
        df = part.drop("symbol").to_pandas().set_index("day")
        cerebro.adddata(bt.feeds.PandasData(dataname=df, timeframe=bt.TimeFrame.Days))
    cerebro.addstrategy(CrossCounter)
    strategy = cerebro.run(runonce=False)[0]
    return {
        "bars": frame.height,
        "crosses": strategy.crosses,
        "seconds": time.perf_counter() - started,
    }


if __name__ == "__main__":
    cli(run)
