"""Counts crosses of the 5m close through its SMA(20): the benchmark task, as a strategy.

A cross is a bar whose side (close above the SMA, or not) differs from the previous 5m bar's,
both with a full SMA; a close equal to the SMA counts as not above, as in the peer engines'
harness. Each cross is also a signal, so the count is in the outputs.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from simcore.engine.analysis import Strategy, StrategyContext
from simcore.engine.bars import Bar
from simcore.engine.indicators import IndicatorRequest
from simcore.engine.parameters import Parameter


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
        sma = ctx.indicator_values(interval, "sma20")[symbols]
        close = ctx.last_bars(interval, symbols, ("close",))["close"]
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
        sma = ctx.indicator(symbol, interval, "sma20")
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


class SmaCrossover(Strategy):
    """A parameter sweep's example: long ``shares`` while the fast SMA of the ``interval`` close
    is above the slow one, flat below (a market order at each cross; the first cross only once
    both SMAs are full)."""

    parameters: ClassVar[dict[str, Parameter]] = {
        "fast": Parameter(int, 10, "bars of the fast SMA"),
        "slow": Parameter(int, 50, "bars of the slow SMA"),
        "shares": Parameter(int, 10, "position size while fast > slow"),
        "interval": Parameter(str, "1m", "bar interval of both SMAs (subscribed)"),
    }
    fast, slow, shares, interval = 10, 50, 10, "1m"

    @property
    def subscriptions(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.interval,)

    @property
    def indicators(self) -> tuple[IndicatorRequest, ...]:  # type: ignore[override]
        return (
            IndicatorRequest("fast", self.interval, "sma", period=self.fast),
            IndicatorRequest("slow", self.interval, "sma", period=self.slow),
        )

    def on_start(self, ctx: StrategyContext) -> None:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be shorter than slow ({self.slow})")
        self.above = np.full(len(ctx.symbols), -1, dtype=np.int8)  # -1 unknown

    def on_bars(self, ctx: StrategyContext, interval: str, symbols: np.ndarray) -> None:
        fast = ctx.indicator_values(interval, "fast")[symbols]
        slow = ctx.indicator_values(interval, "slow")[symbols]
        warm = ~(np.isnan(fast) | np.isnan(slow))
        above = (fast > slow).astype(np.int8)
        crossed = warm & (self.above[symbols] >= 0) & (above != self.above[symbols])
        self.above[symbols[warm]] = above[warm]
        for j in np.flatnonzero(crossed).tolist():
            symbol = ctx.symbols[symbols[j]]
            target = self.shares if above[j] else 0
            held = ctx.position(symbol).quantity
            if target != held:
                ctx.order(symbol, target - held)
