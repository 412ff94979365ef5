"""Counts crosses of the 5m close through its SMA(20): the benchmark task, as a strategy.

A cross is a bar whose side (close above the SMA, or not) differs from the previous 5m bar's,
both with a full SMA; a close equal to the SMA counts as not above, as in the peer engines'
harness. Each cross is also a signal, so the count is in the outputs.
"""

from __future__ import annotations

import math

import numpy as np

from simcore.analysis import Strategy, StrategyContext
from simcore.bars import Bar
from simcore.indicators.realtime import IndicatorRequest


class SmaCrossCounter(Strategy):
    subscriptions = ("5m",)
    indicators = (IndicatorRequest("sma20", "5m", "sma", period=20),)
    emit_signals = True

    def on_start(self, ctx: StrategyContext) -> None:
        self.last_side: dict[str, bool] = {}
        self.side = np.full(len(ctx.symbols), -1, dtype=np.int8)  # -1 unknown, 0 below, 1 above
        self.crosses = 0

    def on_bars(self, ctx: StrategyContext, interval: str, symbols: np.ndarray) -> None:
        """The same rule over all symbols of a timestamp at once (what on_bar does per bar)."""
        sma = ctx.indicator_values("5m", "sma20")[symbols]
        close = ctx.last_bars("5m", symbols, ("close",))["close"]
        warm = ~np.isnan(sma)
        above = (close > sma).astype(np.int8)
        previous = self.side[symbols]
        crossed = warm & (previous >= 0) & (above != previous)
        self.side[symbols[warm]] = above[warm]
        self.crosses += int(crossed.sum())
        if self.emit_signals:
            for j in np.flatnonzero(crossed).tolist():
                side = "buy" if above[j] else "sell"
                ctx.signal(
                    ctx.symbols[symbols[j]],
                    side,
                    "close crossed SMA(20)",
                    close=float(close[j]),
                    sma20=round(float(sma[j]), 6),
                )

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


class SmaCrossTrader(SmaCrossCounter):
    """The benchmark task, trading: long ``shares`` while the 5m close is above its SMA(20),
    flat below (a market order at each cross). Measures what the broker costs."""

    shares = 10
    emit_signals = False

    def on_bars(self, ctx: StrategyContext, interval: str, symbols: np.ndarray) -> None:
        before = self.side[symbols].copy()
        super().on_bars(ctx, interval, symbols)
        after = self.side[symbols]
        for j in np.flatnonzero((before >= 0) & (after != before)).tolist():
            symbol = ctx.symbols[symbols[j]]
            target = self.shares if after[j] == 1 else 0
            held = ctx.position(symbol).quantity
            if target != held:
                ctx.order(symbol, target - held)
