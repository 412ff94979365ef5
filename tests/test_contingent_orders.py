"""Contingent orders in the paper broker, on bars built by hand: brackets, OTO, OCO and trailing
stops, each rule of ``simcore.trading.contingent``; and a property over random bars and orders
that no leg fills on or before its entry's fill bar and no fill is outside its bar."""

from __future__ import annotations

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from simcore.trading.orders import OrderStatus
from simcore.trading.trader import OrderError
from tests.test_paper_broker import MINUTE, Desk


def statuses(desk: Desk, *orders) -> list[str]:
    return [desk.trader.book.orders[o.id].status.value for o in orders]


def legs(desk: Desk, entry):
    take, stop = desk.trader.book.legs(entry)
    return take, stop


def test_a_bracket_holds_its_legs_until_the_entry_fills_then_from_the_next_bar():
    desk = Desk()
    desk.now = MINUTE
    entry = desk.trader.order("AAA", 10, take_profit=105.0, stop_loss=95.0)
    take, stop = legs(desk, entry)
    assert (entry.order_class, take.leg, stop.leg) == ("bracket", "take_profit", "stop_loss")
    assert (take.parent_id, stop.parent_id, take.oco_id, stop.oco_id) == (
        entry.id, entry.id, stop.id, take.id
    )  # fmt: skip
    assert statuses(desk, entry, take, stop) == ["accepted", "held", "held"]
    # the entry fills at the open of 00:01; that bar also reaches 105: no leg fills on it
    desk.bar("AAA", MINUTE, 100, 106, 94, 101)
    assert desk.fills() == [(entry.id, 10.0, 100.0)]
    assert statuses(desk, entry, take, stop) == ["filled", "accepted", "accepted"]
    assert (take.quantity, take.side, stop.quantity, stop.side) == (10, "sell", 10, "sell")
    desk.bar("AAA", 2 * MINUTE, 101, 105.5, 100, 105)  # the take-profit's limit is reached
    assert desk.fills()[-1] == (take.id, 10.0, 105.0)
    assert statuses(desk, take, stop) == ["filled", "canceled"]
    assert stop.reason == "the position it closes is closed"
    assert desk.trader.portfolio.quantity("AAA") == 0


def test_the_stop_loss_leg_gaps_through_at_the_open():
    desk = Desk()
    entry = desk.trader.order("AAA", 10, take_profit=105.0, stop_loss=95.0)
    take, stop = legs(desk, entry)
    desk.bar("AAA", 0, 100, 100, 100, 100)
    desk.bar("AAA", MINUTE, 93, 94, 92, 93)  # opens under the stop: filled at the open
    assert desk.fills()[-1] == (stop.id, 10.0, 93.0)
    assert statuses(desk, take, stop) == ["canceled", "filled"]


@pytest.mark.parametrize(
    ("rule", "bar", "winner"),
    [
        ("stop_loss", (100, 106, 94, 100), "stop_loss"),  # both reached: the conservative one
        ("take_profit", (100, 106, 94, 100), "take_profit"),
        ("stop_loss", (106, 107, 94, 100), "take_profit"),  # a gap through the take-profit
        ("take_profit", (94, 106, 93, 100), "stop_loss"),  # a gap through the stop
    ],
)
def test_one_bar_that_reaches_both_exits(rule, bar, winner):
    desk = Desk(same_bar_exit=rule)
    entry = desk.trader.order("AAA", 10, take_profit=105.0, stop_loss=95.0)
    take, stop = legs(desk, entry)
    desk.bar("AAA", 0, 100, 100, 100, 100)
    desk.bar("AAA", MINUTE, *bar)
    filled = [o.leg for o in (take, stop) if o.status == OrderStatus.FILLED]
    assert filled == [winner] and len(desk.fills()) == 2
    expected = {"take_profit": max(105.0, bar[0]), "stop_loss": min(95.0, bar[0])}[winner]
    assert desk.fills()[-1][2] == expected


def test_partial_fills_of_the_entry_size_the_legs():
    desk = Desk(max_participation=0.5)
    entry = desk.trader.order("AAA", 10, take_profit=110.0, stop_loss=90.0)
    take, stop = legs(desk, entry)
    desk.bar("AAA", 0, 100, 100, 100, 100, v=8)  # 4 of 10
    assert (entry.filled_quantity, take.quantity, stop.quantity) == (4, 4, 4)
    desk.bar("AAA", MINUTE, 100, 101, 99, 100, v=6)  # 3 more
    assert (entry.filled_quantity, take.quantity, stop.quantity) == (7, 7, 7)
    desk.bar("AAA", 2 * MINUTE, 100, 111, 99, 110, v=4)  # the entry's last 2... and the legs
    # the take-profit reached 110 on this bar for what was held before it: 2 of 7 (the volume cap)
    assert (entry.filled_quantity, take.filled_quantity) == (9, 2)
    assert (take.quantity, stop.quantity) == (9, 7)  # each covers what is left: 7
    desk.trader.cancel(entry.id)  # the entry ends with 9: the legs keep what it filled
    assert statuses(desk, take, stop) == ["partially_filled", "accepted"]
    desk.bar("AAA", 3 * MINUTE, 100, 101, 89, 90, v=1e6)
    assert statuses(desk, take, stop) == ["canceled", "filled"]
    assert desk.trader.portfolio.quantity("AAA") == 0


def test_an_entry_that_ends_unfilled_cancels_its_legs():
    desk = Desk()
    entry = desk.trader.order(
        "AAA", 10, type="limit", limit_price=90.0, take_profit=95.0, stop_loss=85.0
    )
    take, stop = legs(desk, entry)
    desk.trader.end_session(MINUTE, __import__("numpy").full(3, float("nan")))  # DAY: expires
    assert statuses(desk, entry, take, stop) == ["expired", "canceled", "canceled"]
    assert take.reason == f"its entry {entry.id} was expired unfilled"


def test_a_refused_bracket_is_refused_whole_and_its_legs_never_made():
    desk = Desk()
    entry = desk.trader.order("AAA", 1000, take_profit=105.0, stop_loss=95.0)  # 100,000 > 10,000
    assert (entry.status, entry.order_class) == ("rejected", "bracket")
    assert desk.trader.book.rejections[-1].rule == "max_per_trade"
    assert desk.trader.book.legs(entry) == [] and list(desk.trader.book.orders) == [entry.id]


def test_a_refused_oco_pair_rejects_both_legs():
    desk = Desk()
    take, stop = desk.trader.oco("AAA", 1000, take_profit=95.0, stop_loss=105.0)  # a buy pair
    assert statuses(desk, take, stop) == ["rejected", "rejected"]
    assert stop.reason == f"{take.id} of its group was rejected (max_per_trade)"


def test_a_bracket_is_checked_once_as_its_entry():
    desk = Desk(max_per_trade=1_000.0, max_per_symbol=1_000.0, max_buying_power=1_000.0)
    entry = desk.trader.order("AAA", 10, take_profit=105.0, stop_loss=95.0)  # 1,000: fits
    assert entry.status == OrderStatus.ACCEPTED
    desk.bar("AAA", 0, 100, 100, 100, 100)
    take, stop = legs(desk, entry)
    assert statuses(desk, take, stop) == ["accepted", "accepted"]
    # the two legs count once: the exit does not look like a short of 20
    assert desk.trader.buying_power() == pytest.approx(1_000.0 - 1_000.0 - 10 * 105.0 + 1_050.0)


def test_an_oto_has_one_leg():
    desk = Desk()
    entry = desk.trader.order("AAA", -10, stop_loss=104.0)  # short, with a protective stop
    (stop,) = desk.trader.book.legs(entry)
    assert (entry.order_class, stop.side, stop.oco_id) == ("oto", "buy", None)
    desk.bar("AAA", 0, 100, 100, 100, 100)
    desk.bar("AAA", MINUTE, 101, 104.5, 100, 104)
    assert desk.fills()[-1] == (stop.id, 10.0, 104.0)


def test_an_oco_pair_exits_a_position_and_counts_once():
    desk = Desk()
    desk.trader.order("AAA", 10)
    desk.bar("AAA", 0, 100, 100, 100, 100)
    take, stop = desk.trader.oco("AAA", -10, take_profit=103.0, stop_loss=97.0)
    assert statuses(desk, take, stop) == ["accepted", "accepted"]
    assert desk.trader.target_percent("AAA", 0.0) is None  # the pair is one pending sale of 10
    desk.now = MINUTE
    desk.bar("AAA", MINUTE, 99, 100, 96, 97)
    assert desk.fills()[-1] == (stop.id, 10.0, 97.0)
    assert statuses(desk, take, stop) == ["canceled", "filled"]
    assert take.reason == f"the other leg {stop.id} filled"


def test_a_trailing_stop_follows_the_high_and_triggers_like_a_stop():
    desk = Desk()
    desk.trader.order("AAA", 10)
    desk.bar("AAA", 0, 100, 100, 100, 100)
    trail = desk.trader.order("AAA", -10, type="trailing_stop", trail_price=2.0)
    assert trail.stop_price == 98.0  # from the last price, 100
    desk.bar("AAA", MINUTE, 100, 104, 99, 103)  # the low 99 is above 98; then the high: 104
    assert trail.stop_price == 102.0 and trail.status == OrderStatus.ACCEPTED
    desk.bar("AAA", 2 * MINUTE, 103, 103.5, 101, 102)  # triggers at its level of 102
    assert desk.fills()[-1] == (trail.id, 10.0, 102.0)


def test_a_trailing_percent_buy_stop_follows_the_low():
    desk = Desk()
    trail = desk.trader.order("AAA", 10, type="trailing_stop", trail_percent=1.0)
    assert trail.stop_price == 101.0
    desk.bar("AAA", 0, 100, 100.5, 95, 96)
    assert trail.stop_price == pytest.approx(95.95)
    desk.bar("AAA", MINUTE, 97, 97, 96, 96.5)  # opens above the level: at the open
    assert desk.fills()[-1] == (trail.id, 10.0, 97.0)


def test_replacing_an_entry_and_a_leg_keeps_the_group():
    desk = Desk()
    entry = desk.trader.order(
        "AAA", 10, type="limit", limit_price=99.0, take_profit=105.0, stop_loss=95.0
    )
    take, stop = legs(desk, entry)
    with pytest.raises(OrderError, match=f"held until its entry {entry.id} fills"):
        desk.trader.replace(stop.id, stop_price=96.0)
    new_entry = desk.trader.replace(entry.id, limit_price=100.0)
    assert desk.trader.book.legs(new_entry) == [take, stop] and take.parent_id == new_entry.id
    desk.bar("AAA", 0, 100, 100, 100, 100)
    new_stop = desk.trader.replace(stop.id, stop_price=98.0)
    assert (take.oco_id, new_stop.oco_id, new_stop.leg) == (new_stop.id, take.id, "stop_loss")
    desk.bar("AAA", MINUTE, 99, 99, 97, 98)
    assert desk.fills()[-1] == (new_stop.id, 10.0, 98.0)
    assert take.status == OrderStatus.CANCELED


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            dict(quantity=10, take_profit=95.0, stop_loss=90.0),
            r"take_profit \(95.0\) must be above",
        ),
        (
            dict(quantity=10, take_profit=110.0, stop_loss=101.0),
            r"stop_loss \(101.0\) must be below",
        ),
        (dict(quantity=-10, take_profit=110.0), r"take_profit \(110.0\) must be below"),
        (dict(quantity=10, stop_loss_limit=94.0), "stop_loss_limit makes the stop_loss leg"),
        (dict(notional=1000.0, take_profit=110.0), "need an entry in shares"),
        (dict(quantity=10, type="trailing_stop"), "exactly one of trail_price or trail_percent"),
        (dict(quantity=10, type="trailing_stop", trail_percent=150.0), "under 100"),
        (dict(quantity=10, trail_price=1.0), "a market order takes no trail_price"),
        (dict(quantity=10, take_profit=-1.0), "take_profit must be a positive price"),
    ],
)
def test_contingent_orders_that_make_no_sense_are_refused_naming_the_field(call, message):
    desk = Desk()
    quantity = call.pop("quantity", None)
    with pytest.raises(OrderError, match=message):
        desk.trader.order("AAA", quantity, **call)
    assert desk.trader.book.orders == {}


def test_a_broker_without_contingent_orders_refuses_them_before_sending():
    desk = Desk()
    desk.trader.broker.supports = frozenset()
    desk.trader.broker.name = "alpaca"
    with pytest.raises(
        OrderError, match="A bracket order is not available through the alpaca broker"
    ):
        desk.trader.order("AAA", 10, take_profit=105.0, stop_loss=95.0)
    with pytest.raises(OrderError, match="A trailing stop is not available"):
        desk.trader.order("AAA", 10, type="trailing_stop", trail_price=1.0)


BAR = st.tuples(st.floats(95, 105), st.floats(0, 3), st.floats(0, 3), st.floats(0, 1)).map(
    lambda t: (t[0], t[0] + t[1], t[0] - t[2], t[0] - t[2] + (t[1] + t[2]) * t[3])
)


@settings(max_examples=300, deadline=None)
@given(
    bars=st.lists(BAR, min_size=4, max_size=12),
    orders=st.lists(
        st.tuples(
            st.integers(0, 4),  # placed before this bar
            st.sampled_from(["bracket", "oto_stop", "oco", "trail", "limit_bracket"]),
            st.floats(0.2, 4),  # distance of the exits
            st.sampled_from([-10, 10]),
        ),
        min_size=1,
        max_size=6,
    ),
    rule=st.sampled_from(["stop_loss", "take_profit"]),
    participation=st.sampled_from([None, 0.5]),
)
def test_property_no_leg_fills_on_or_before_its_entry_and_no_fill_outside_its_bar(
    bars, orders, rule, participation
):
    desk = Desk(
        same_bar_exit=rule, max_participation=participation, max_per_trade=1e9,
        max_per_symbol=1e9, max_buying_power=1e9, max_open_positions=5,
    )  # fmt: skip
    ranges = {}
    for k, (o, h, lo, c) in enumerate(bars):
        for after, kind, distance, size in orders:
            if after != k:
                continue
            desk.now = k * MINUTE
            last = desk.prices["AAA"]
            up, down = round(last + distance, 2), round(last - distance, 2)
            take, stop = (up, down) if size > 0 else (down, up)
            try:
                if kind == "bracket":
                    desk.trader.order("AAA", size, take_profit=take, stop_loss=stop)
                elif kind == "limit_bracket":
                    desk.trader.order("AAA", size, type="limit", limit_price=last,
                                      take_profit=take, stop_loss=stop, tif="gtc")  # fmt: skip
                elif kind == "oto_stop":
                    desk.trader.order("AAA", size, stop_loss=stop)
                elif kind == "oco":
                    desk.trader.oco("AAA", -size, take_profit=stop, stop_loss=take)
                else:
                    desk.trader.order("AAA", size, type="trailing_stop", trail_price=distance)
            except OrderError:
                pass  # a price on the wrong side of the last one: refused, nothing placed
        ranges[k * MINUTE] = (lo, h)
        desk.bar("AAA", k * MINUTE, o, h, lo, c, v=8 if participation else 1e6)
    book = desk.trader.book
    first_fill = {}
    for fill in book.fills:
        lo, h = ranges[fill.time_ns]
        assert lo - 1e-9 <= fill.price <= h + 1e-9  # never a price outside its bar
        first_fill.setdefault(fill.order_id, fill.time_ns)
    legs_filled = sum(book.orders[f.order_id].leg != "" for f in book.fills)
    event(f"leg fills: {'some' if legs_filled else 'none'}")
    for fill in book.fills:
        order = book.orders[fill.order_id]
        if order.parent_id is not None:
            entry_fill = first_fill[order.parent_id]
            assert fill.time_ns > entry_fill  # never on or before its entry's fill bar
        assert fill.time_ns >= order.placed_ns
    for order in book.orders.values():
        if order.oco_id is not None:  # a pair never closes more than the position it covers
            other = book.orders[order.oco_id]
            size = (book.orders[order.parent_id].filled_quantity if order.parent_id
                    else max(order.quantity + other.filled_quantity, 0))  # fmt: skip
            assert order.filled_quantity + other.filled_quantity <= size + 1e-9


def test_a_bar_no_working_order_reacts_to_is_passed_over_but_a_triggered_stop_limit_is_not():
    desk = Desk()
    desk.trader.order("AAA", 10)
    desk.bar("AAA", 0, 100, 100, 100, 100)
    order = desk.trader.order("AAA", -10, type="stop_limit", stop_price=95.0, limit_price=94.5)
    desk.bar("AAA", MINUTE, 97, 98, 96, 97)  # inside the band (above 95): passed over
    assert order.bars_seen == 0
    desk.bar("AAA", 2 * MINUTE, 96, 96.2, 94.8, 95)  # the stop triggers, not at the open
    assert order.stop_triggered and desk.fills()[-1][0] != order.id
    desk.bar("AAA", 3 * MINUTE, 96, 96.5, 95.5, 96)  # above the stop: now a sell limit at 94.5
    assert desk.fills()[-1] == (order.id, 10.0, 96.0)
