"""simcore with brackets: SmaCrossTrader entering each long with a bracket (a take-profit 1%
above the close, a stop-loss 1% below) and leaving on the next cross, canceling the legs: what
the contingent-order path costs beside ``simcore_orders``' market orders."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.engines import cli
from benchmarks.engines.simcore_engine import run as run_simcore
from simcore.strategies.sma_cross import SmaCrossTrader


class SmaCrossBracketTrader(SmaCrossTrader):
    width = 0.01  # the legs' distance from the entry's close, as a fraction of it

    def on_bars(self, ctx, interval: str, symbols: np.ndarray) -> None:
        before = self.side[symbols].copy()
        super(SmaCrossTrader, self).on_bars(ctx, interval, symbols)  # the crosses, no orders
        after = self.side[symbols]
        closes = None  # fetched at the first entry
        for j in np.flatnonzero((before >= 0) & (after != before)).tolist():
            symbol = ctx.symbols[symbols[j]]
            held = ctx.position(symbol).quantity
            if after[j] == 1 and not held:
                if closes is None:
                    closes = ctx.last_bars(interval, symbols, ("close",))["close"]
                close = float(closes[j])
                ctx.buy(symbol, self.shares, take_profit=round(close * (1 + self.width), 2),
                        stop_loss=round(close * (1 - self.width), 2))  # fmt: skip
            elif after[j] != 1 and held:  # out, with its legs canceled
                ctx.flatten(symbol)


def run(store: Path, count: int) -> dict:
    return run_simcore(store, count, SmaCrossBracketTrader)


if __name__ == "__main__":
    cli(run)
