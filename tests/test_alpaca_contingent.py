"""Contingent orders through Alpaca: a bracket, a replace of its stop-loss (Alpaca's replace
request, retried after a 500 without replacing twice), an OCO pair and a trailing stop, sent by
alpaca-py to the emulator's account; the fills are those of the data-driven backtest of the
same strategy, and the engine's account is Alpaca's."""

from __future__ import annotations

import pytest

from adapters.alpaca.emulator.trading import TradingFaults
from simcore.app.backtest import run_backtest
from simcore.engine.analysis import Strategy
from simcore.trading.orders import OrderStatus
from tests.alpaca_support import et, ns
from tests.test_alpaca_trading import (
    EVENT_COLUMNS,
    FILL_COLUMNS,
    agrees_with_alpaca,
    assert_same,
    backtest_config,
    through_alpaca,
)

FROM = ns(et(12, 40))
MINUTE = 60 * 10**9


class EachKind(Strategy):
    """On 1m bars from 12:40: ALFA bought with a bracket (+/- 0.40), its stop-loss raised at
    12:44; BRVO bought at market, then a trailing stop (0.08) under it; from 12:50, once ALFA is
    flat, ALFA bought again and an OCO pair placed under it."""

    subscriptions = ("1m",)
    trailing = True
    replace_leg = True

    def on_start(self, ctx):
        self.entry = None
        self.second = False

    def on_bar(self, ctx, symbol, interval, bar):
        at = bar.timestamp
        close = bar.close
        if symbol == "ALFA":
            if at == FROM:
                self.entry = ctx.buy(
                    "ALFA", 10, take_profit=round(close + 0.4, 2), stop_loss=round(close - 0.4, 2)
                )
            if at == FROM + 4 * MINUTE and self.replace_leg:
                for leg in ctx.legs(self.entry):
                    if leg.leg == "stop_loss" and leg.status == OrderStatus.ACCEPTED:
                        ctx.replace(leg.id, stop_price=round(close - 0.04, 2))
            held = ctx.position("ALFA").quantity
            if at >= FROM + 10 * MINUTE and not held and not self.second:
                self.second = True
                ctx.buy("ALFA", 10)
            if self.second and held and not ctx.open_orders("ALFA"):
                ctx.oco("ALFA", -held, take_profit=round(close + 0.1, 2),
                        stop_loss=round(close - 0.1, 2))  # fmt: skip
        if symbol == "BRVO":
            if at == FROM:
                ctx.buy("BRVO", 10)
            if at == FROM + 2 * MINUTE and ctx.position("BRVO").quantity and self.trailing:
                ctx.sell("BRVO", 10, type="trailing_stop", trail_price=0.08)


@pytest.mark.parametrize("faults", [None, TradingFaults(replace_500=1)], ids=["clean", "500"])
def test_contingent_orders_through_alpaca_fill_as_the_backtest(sample_store, tmp_path, faults):
    run = through_alpaca(sample_store, tmp_path, EachKind(), trading=faults)
    expected = run_backtest(backtest_config(), sample_store, EachKind())
    orders = run.result.tables["orders"]
    kinds = set(orders["order_class"]) | set(orders["type"])
    assert {"bracket", "oco", "trailing_stop"} <= kinds
    legs_filled = orders.filter(orders["leg"].is_not_null() & (orders["status"] == "filled"))
    assert legs_filled.height >= 1  # an exit leg did its work
    assert (orders["status"] == "replaced").sum() == 1
    assert_same(
        run.result.tables["fills"].select(FILL_COLUMNS),
        expected.tables["fills"].select(FILL_COLUMNS),
    )
    assert_same(
        run.result.tables["order_events"].select(EVENT_COLUMNS),
        expected.tables["order_events"].select(EVENT_COLUMNS),
    )
    agrees_with_alpaca(run)
    requests = run.emulator.rest_requests
    assert sum(r.startswith("PATCH /v2/orders/") for r in requests) == 1
    if faults:  # after the 500 the broker asked for the replacement by its client order id
        assert "GET /v2/orders:by_client_order_id" in requests
    replaced = [o for o in run.emulator.desk.book.orders.values() if o.status.value == "replaced"]
    assert len(replaced) == 1
