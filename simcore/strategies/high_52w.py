"""52-week-high momentum: a 15m close through the trailing 52-week high, with rising SMA.

Uses the historical indicator ``high_52w`` (trailing_max of the daily high over 52 weeks before
the session) and a real-time SMA(8) of the 15m close. Signals a buy the first time in a session
that a 15m bar closes above the 52-week high while the SMA is rising, and buys as much as
``max_per_trade`` allows; a sell when a 15m close falls below the 52-week low, closing what it
holds. Positions are kept across sessions.
"""

from __future__ import annotations

import math

from simcore.engine.analysis import HistoricalNeed, Strategy, StrategyContext
from simcore.engine.bars import Bar
from simcore.engine.indicators import IndicatorRequest
from simcore.time import TradingSession


class High52wMomentum(Strategy):
    subscriptions = ("15m",)
    indicators = (IndicatorRequest("sma8", "15m", "sma", period=8),)
    historical_indicators = (
        HistoricalNeed("high_52w", granularity="daily", type="trailing_max"),
        HistoricalNeed("low_52w", granularity="daily", type="trailing_min"),
    )

    def on_start(self, ctx: StrategyContext) -> None:
        self.previous_sma: dict[str, float] = {}

    def on_session_start(self, ctx: StrategyContext, session: TradingSession) -> None:
        self.done: set[str] = set()

    def on_bar(self, ctx: StrategyContext, symbol: str, interval: str, bar: Bar) -> None:
        sma = ctx.indicator(symbol, "15m", "sma8")
        rising = not math.isnan(sma) and sma > self.previous_sma.get(symbol, math.inf)
        self.previous_sma[symbol] = sma
        if symbol in self.done:
            return
        high, low = ctx.historical(symbol, "high_52w"), ctx.historical(symbol, "low_52w")
        if bar.close > high and rising:
            self.done.add(symbol)
            ctx.signal(
                symbol,
                "buy",
                "close above 52-week high",
                close=bar.close,
                high_52w=high,
                sma8=round(sma, 4),
            )
            if not ctx.position(symbol).quantity:
                shares = int(ctx.limits.max_per_trade // bar.close)
                if shares:
                    ctx.buy(symbol, shares, tif="gtc")
        elif bar.close < low:
            self.done.add(symbol)
            ctx.signal(symbol, "sell", "close below 52-week low", close=bar.close, low_52w=low)
            if ctx.position(symbol).quantity:
                ctx.flatten(symbol)
