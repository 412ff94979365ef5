"""The paper broker, the risk checks, fees and the portfolio, on bars built by hand."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.config.models import FeeConfig, TradingConfig
from simcore.trading.fees import order_fee
from simcore.trading.orders import Fill
from simcore.trading.portfolio import Portfolio
from simcore.trading.trader import OrderError, Trader

MINUTE = 60_000_000_000


def limits(**changes) -> TradingConfig:
    base = {
        "max_buying_power": 100_000.0,
        "max_per_trade": 10_000.0,
        "max_per_symbol": 20_000.0,
        "max_open_positions": 2,
    }
    return TradingConfig.model_validate(base | changes)


class Desk:
    """A trader with a clock and prices the test moves by hand."""

    def __init__(self, **config):
        self.now = 0
        self.prices: dict[str, float] = {"AAA": 100.0, "BBB": 50.0, "CCC": 10.0}
        self.trader = Trader(
            limits(**config), ("AAA", "BBB", "CCC"), lambda: self.now, self.prices.get
        )

    def bar(self, symbol: str, start: int, o: float, h: float, lo: float, c: float, v: float = 1e6):
        self.trader.on_bars(
            [symbol], start, {"open": [o], "high": [h], "low": [lo], "close": [c], "volume": [v]}
        )
        self.prices[symbol] = c

    def fills(self):
        return [(f.order_id, f.quantity, f.price) for f in self.trader.book.fills]


def test_a_market_order_fills_at_the_next_bars_open_never_on_a_bar_it_saw():
    desk = Desk()
    desk.now = 5 * MINUTE  # the strategy acts at 00:05, having seen the bar of 00:04
    order = desk.trader.order("AAA", 10)
    desk.bar("AAA", 4 * MINUTE, 99, 101, 98, 100)  # visible when the order was placed
    assert desk.fills() == []
    desk.bar("AAA", 5 * MINUTE, 102, 103, 101, 102)
    assert desk.fills() == [(order.id, 10.0, 102.0)] and order.status.value == "filled"


@pytest.mark.parametrize(
    ("side", "limit", "bar", "expected"),
    [
        (10, 99.0, (100, 101, 98.5, 100), 99.0),  # the low reaches it: at the limit
        (10, 99.0, (97, 98, 96, 97), 97.0),  # opens below it (a gap): at the open
        (10, 99.0, (100, 101, 99.5, 100), None),  # never reached
        (-10, 101.0, (100, 101.5, 99, 100), 101.0),
        (-10, 101.0, (103, 104, 102, 103), 103.0),  # a sell limit gapped through: the open
    ],
)
def test_limit_orders(side, limit, bar, expected):
    desk = Desk()
    desk.trader.order("AAA", side, type="limit", limit_price=limit)
    desk.bar("AAA", 0, *bar)
    assert [p for _, _, p in desk.fills()] == ([] if expected is None else [expected])


@pytest.mark.parametrize(
    ("side", "stop", "bar", "expected"),
    [
        (10, 101.0, (100, 102, 99, 101), 101.0),  # the high reaches it: at the stop
        (10, 101.0, (103, 104, 102, 103), 103.0),  # opens above: at the open
        (-10, 99.0, (100, 100.5, 98, 99), 99.0),
        (-10, 99.0, (97, 98, 96, 97), 97.0),
        (-10, 99.0, (100, 101, 99.5, 100), None),
    ],
)
def test_stop_orders(side, stop, bar, expected):
    desk = Desk()
    if side < 0:
        desk.trader.portfolio.cash -= 1000.0
        desk.trader.portfolio.apply(Fill("X", "AAA", "buy", 10, 100.0, 0.0, -1))
    desk.trader.order("AAA", side, type="stop", stop_price=stop)
    desk.bar("AAA", 0, *bar)
    assert [p for o, _, p in desk.fills() if o != "X"] == ([] if expected is None else [expected])


def test_a_stop_limit_waits_for_the_bar_after_its_trigger_unless_the_open_did_both():
    desk = Desk()
    desk.trader.order("AAA", 10, type="stop_limit", stop_price=101.0, limit_price=101.5)
    desk.bar("AAA", 0, 100, 102, 99, 101)  # triggered inside the bar: the path after is unknown
    assert desk.fills() == []
    desk.bar("AAA", MINUTE, 101.8, 102, 101.2, 101.5)  # the limit works from here
    assert [p for _, _, p in desk.fills()] == [101.5]
    gap = desk.trader.order("AAA", 5, type="stop_limit", stop_price=103.0, limit_price=104.0)
    desk.now = 2 * MINUTE
    desk.bar("AAA", 2 * MINUTE, 103.5, 104, 103, 103.5)  # opens through the stop, within the limit
    assert desk.fills()[-1] == (gap.id, 5.0, 103.5)


def test_day_orders_expire_at_the_close_gtc_stay_and_ioc_lives_one_bar():
    desk = Desk()
    day = desk.trader.order("AAA", 1, type="limit", limit_price=50.0)
    gtc = desk.trader.order("AAA", 1, type="limit", limit_price=50.0, tif="gtc")
    ioc = desk.trader.order("BBB", 1, type="limit", limit_price=10.0, tif="ioc")
    desk.bar("BBB", 0, 50, 51, 49, 50)
    assert ioc.status.value == "canceled"
    desk.trader.end_session(390 * MINUTE, np.array([100.0, np.nan, np.nan]))
    assert day.status.value == "expired" and gtc.status.value == "accepted"
    assert desk.trader.last_close("AAA") == 100.0 and desk.trader.last_close("BBB") is None
    assert [e.kind for e in desk.trader.book.events if e.order_id == day.id] == [
        "accepted",
        "expired",
    ]


def test_slippage_and_a_participation_cap():
    desk = Desk(slippage_bps=10.0, max_participation=0.1)
    order = desk.trader.order("CCC", 50)
    desk.bar("CCC", 0, 10, 10, 10, 10, v=200)  # at most 20 shares of a 200-share bar
    desk.bar("CCC", MINUTE, 10, 10, 10, 10, v=1000)
    assert desk.fills() == [(order.id, 20.0, 10.01), (order.id, 30.0, 10.01)]
    assert [e.kind for e in desk.trader.book.events] == ["accepted", "partially_filled", "filled"]
    limit = desk.trader.order("CCC", -10, type="limit", limit_price=10.0)
    desk.bar("CCC", 2 * MINUTE, 10, 10.5, 10, 10.2)
    assert desk.fills()[-1] == (limit.id, 10.0, 10.0)  # slippage never past the limit


def test_last_close_fills_at_once_at_the_price_the_strategy_saw():
    desk = Desk(fill_price="last_close")
    order = desk.trader.order("AAA", 3)
    assert desk.fills() == [(order.id, 3.0, 100.0)]


def test_each_risk_rule_refuses_with_its_numbers_and_nothing_is_resized():
    desk = Desk()
    big = desk.trader.order("AAA", 101)  # 10,100 > max_per_trade 10,000
    assert big.status.value == "rejected" and big.quantity == 101
    (rejection,) = desk.trader.book.rejections
    assert (rejection.rule, rejection.limit, rejection.value) == (
        "max_per_trade",
        10_000.0,
        10_100.0,
    )
    for _ in range(2):
        desk.trader.order("AAA", 100)
        desk.bar("AAA", desk.now, 100, 100, 100, 100)
        desk.now += MINUTE
    third = desk.trader.order("AAA", 1)  # 201 shares = 20,100 > max_per_symbol
    assert desk.trader.book.rejections[-1].rule == "max_per_symbol"
    desk.trader.order("BBB", 10)  # a second position: allowed
    fourth = desk.trader.order("CCC", 10)  # a third: max_open_positions is 2
    assert desk.trader.book.rejections[-1].rule == "max_open_positions"
    assert third.status.value == fourth.status.value == "rejected"
    out = desk.trader.order("AAA", -200)  # getting out always passes
    assert out.status.value == "accepted"
    tight = Desk(max_buying_power=15_000.0, max_per_symbol=15_000.0)
    tight.trader.order("AAA", 100)
    tight.trader.order("BBB", 120)  # 10,000 working + 6,000 > 15,000
    assert tight.trader.book.rejections[-1].rule == "max_buying_power"
    with pytest.raises(OrderError):
        desk.trader.order("AAA", 1, type="limit")  # no limit price: the strategy's mistake
    unpriced = Desk()
    unpriced.prices.pop("AAA")
    unpriced.trader.order("AAA", 1)
    assert unpriced.trader.book.rejections[-1].rule == "no_price"


def test_cancel_replace_and_target_percent():
    desk = Desk(max_per_trade=60_000.0, max_per_symbol=60_000.0)
    order = desk.trader.order("AAA", 10, type="limit", limit_price=90.0)
    new = desk.trader.replace(order.id, limit_price=95.0, quantity=20)
    assert order.status.value == "replaced" and new.limit_price == 95.0 and new.quantity == 20
    desk.trader.cancel(new.id)
    assert new.status.value == "canceled"
    target = desk.trader.target_percent("AAA", 0.5)  # 50% of 100,000 at 100: 500 shares
    assert target.quantity == 500 and target.side == "buy"
    assert desk.trader.target_percent("AAA", 0.5) is None  # already working: nothing to add


@pytest.mark.parametrize(
    ("model", "quantity", "price", "fee"),
    [
        ("zero", 1000, 10.0, 0.0),
        ("per_share", 100, 50.0, 1.0),  # 0.50 < the $1 minimum
        ("per_share", 1000, 50.0, 5.0),  # $0.005 a share
        ("per_share", 10_000, 0.5, 50.0),  # capped at 1% of 5,000
        ("per_share", 10, 5.0, 0.5),  # a tiny fill pays 1% of 50 rather than $1
        ("flat", 3, 10.0, 2.5),
    ],
)
def test_fee_models(model, quantity, price, fee):
    assert order_fee(FeeConfig(model=model, flat=2.5), quantity, price) == pytest.approx(fee)


def test_portfolio_long_short_and_through_zero():
    book = Portfolio(cash=10_000.0)
    book.apply(Fill("1", "X", "buy", 10, 100.0, 1.0, 0))
    book.apply(Fill("2", "X", "buy", 10, 110.0, 1.0, 1))
    assert book.positions["X"].average_price == 105.0 and book.cash == 10_000 - 2100 - 2
    realized = book.apply(Fill("3", "X", "sell", 25, 120.0, 1.0, 2))  # closes 20, opens 5 short
    assert realized == pytest.approx(300.0)
    p = book.positions["X"]
    assert p.quantity == -5 and p.average_price == 120.0
    assert book.apply(Fill("4", "X", "buy", 5, 100.0, 1.0, 3)) == pytest.approx(100.0)
    assert p.quantity == 0 and p.realized_pnl == pytest.approx(400.0) and book.fees == 4.0
    assert book.cash == pytest.approx(10_000 + 400 - 4)
