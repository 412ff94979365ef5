"""Counts crosses of the 5m close through its SMA(20): the benchmark task, as a strategy.

A cross is a bar where the sign of (close - SMA) differs from the previous 5m bar's, both with a
full SMA. Each cross is also a signal, so the count is in the outputs.
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
        self.last_sign: dict[str, float] = {}
        self.crosses = 0

    def on_bar(self, ctx: StrategyContext, symbol: str, interval: str, bar: Bar) -> None:
        sma = ctx.indicator(symbol, "5m", "sma20")
        if math.isnan(sma):
            return
        sign = math.copysign(1.0, bar.close - sma) if bar.close != sma else 0.0
        previous = self.last_sign.get(symbol)
        self.last_sign[symbol] = sign
        if previous is not None and sign != previous:
            self.crosses += 1
            if self.emit_signals:
                side = "buy" if sign > 0 else "sell"
                ctx.signal(
                    symbol, side, "close crossed SMA(20)", close=bar.close, sma20=round(sma, 6)
                )
