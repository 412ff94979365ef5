"""Counts crosses of the 5m close through its SMA(20): the benchmark task, as a strategy.

A cross is a bar whose side (close above the SMA, or not) differs from the previous 5m bar's,
both with a full SMA; a close equal to the SMA counts as not above, as in the peer engines'
harness. Each cross is also a signal, so the count is in the outputs.
"""

from __future__ import annotations

import math

from simcore.analysis import Strategy, StrategyContext
from simcore.indicators.realtime import IndicatorRequest
from simcore.session_data import Bar


class SmaCrossCounter(Strategy):
    subscriptions = ("5m",)
    indicators = (IndicatorRequest("sma20", "5m", "sma", period=20),)
    emit_signals = True

    def on_start(self, ctx: StrategyContext) -> None:
        self.last_side: dict[str, bool] = {}
        self.crosses = 0

    def on_bar(self, ctx: StrategyContext, symbol: str, interval: str, bar: Bar) -> None:
        sma = ctx.indicator(symbol, "5m", "sma20")
        if math.isnan(sma):
            return
        above = bar.close > sma
        previous = self.last_side.get(symbol)
        self.last_side[symbol] = above
        if previous is not None and above != previous:
            self.crosses += 1
            if self.emit_signals:
                side = "buy" if above else "sell"
                ctx.signal(
                    symbol, side, "close crossed SMA(20)", close=bar.close, sma20=round(sma, 6)
                )
