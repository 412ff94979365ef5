"""Buy and hold: on the first bar it sees, one order per symbol for an equal share of equity
(all of it for a single symbol), then nothing. The baseline every strategy is measured against.

Whole shares at the last close, filled at the next bar's open: a gap up can leave the account a
little short of cash (the paper account is a margin account up to ``max_buying_power``).
"""

from __future__ import annotations

from simcore.engine.analysis import Strategy, StrategyContext
from simcore.engine.bars import Bar


class BuyAndHold(Strategy):
    subscriptions = ("1m",)

    def on_start(self, ctx: StrategyContext) -> None:
        self.bought: set[str] = set()

    def on_bar(self, ctx: StrategyContext, symbol: str, interval: str, bar: Bar) -> None:
        if symbol not in self.bought:
            self.bought.add(symbol)
            ctx.order_target_percent(symbol, 1.0 / len(ctx.symbols))
