"""Relative-volume breakout: unusual volume for the time of day, confirmed by a new session high.

Uses the historical indicator ``avg_volume_intraday`` (trailing_average, minute granularity):
an array indexed by minute of the session, so the "normal" volume of this minute is one O(1)
lookup. A 1m bar whose volume is ``threshold`` times that normal, and whose close is above every
earlier 5m high of the session, signals a buy — once per symbol per session — and buys as much
as ``max_per_trade`` allows (whole shares). A schedule closes every position ``exit_minutes``
before the close (an early close too), and no new entry is made after it. The risk limits
refuse what they must; nothing is sized around them.
"""

from __future__ import annotations

import math

from simcore.engine.analysis import HistoricalNeed, Strategy, StrategyContext
from simcore.engine.bars import Bar
from simcore.engine.indicators import IndicatorRequest
from simcore.time import TradingSession


class RelativeVolumeBreakout(Strategy):
    subscriptions = ("1m",)
    reads = ("5m",)
    indicators = (IndicatorRequest("vwap", "1m", "vwap"),)
    historical_indicators = (
        HistoricalNeed("avg_volume_intraday", granularity="minute", type="trailing_average"),
    )
    threshold = 2.5

    exit_minutes = 5

    def on_start(self, ctx: StrategyContext) -> None:
        ctx.schedule(self.close_out, before_close=self.exit_minutes, name="close out")

    def on_session_start(self, ctx: StrategyContext, session: TradingSession) -> None:
        self.signalled: set[str] = set()
        self.closed_out = False

    def close_out(self, ctx: StrategyContext) -> None:
        """Flat before the close, in symbol order; no entry after this."""
        self.closed_out = True
        for symbol in ctx.symbols:
            if ctx.position(symbol).quantity:
                ctx.flatten(symbol)

    def on_bar(self, ctx: StrategyContext, symbol: str, interval: str, bar: Bar) -> None:
        if self.closed_out or symbol in self.signalled:
            return
        minute = ctx.minute_index(bar.timestamp)
        normal = ctx.historical(symbol, "avg_volume_intraday")
        if minute >= len(normal) or not normal[minute] > 0:
            return
        ratio = bar.volume / normal[minute]
        highs = ctx.bars(symbol, "5m").high
        if ratio >= self.threshold and len(highs) and bar.close > highs.max():
            vwap = ctx.indicator(symbol, "1m", "vwap")
            if not math.isnan(vwap) and bar.close > vwap:
                self.signalled.add(symbol)
                ctx.signal(
                    symbol,
                    "buy",
                    "relative volume breakout",
                    close=bar.close,
                    relative_volume=round(ratio, 4),
                    session_high_5m=float(highs.max()),
                    vwap=round(vwap, 4),
                )
                shares = int(ctx.limits.max_per_trade // bar.close)
                if shares:
                    ctx.buy(symbol, shares)
