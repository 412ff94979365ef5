"""How contingent orders behave in the paper broker (and in the emulators, which use it).

The rules, each tested in ``tests/test_contingent_orders.py``:

* **Legs wait for their entry.** A bracket's take-profit and stop-loss legs, or an OTO's one
  leg, are ``held`` until the entry fills. They become working orders from the bar *after* the
  entry's fill bar (a fill at once, at the last price, counts as before the next bar), so no leg
  fills on the bar its entry filled on: that bar's path after the fill is unknown.
* **Legs are sized by the entry's fills.** Each working leg holds the position the entry has
  built so far and the legs have not yet closed: a partial fill of the entry activates its legs
  for that many shares, a later fill grows them.
* **One cancels (or shrinks) the other.** A fill of one leg of a pair shrinks the other to what
  is left of the position; once nothing is left (and the entry is done), the other is canceled.
* **One bar, both exits.** When one bar reaches both legs of a pair, a leg that fills at the
  bar's open (a gap through it) fills; otherwise ``trading_config.same_bar_exit`` decides:
  ``stop_loss`` (the default, the conservative choice: the bar's path is unknown) or
  ``take_profit``.
* **An entry that ends unfilled** (canceled, expired, rejected) cancels its held legs; one that
  ends partly filled keeps its legs working for what it filled. A replaced entry passes its
  legs to the new order.
* **Trailing stops** trigger like a stop at their current level; after a bar that did not
  trigger, the level follows that bar's favourable extreme (the high for a sell, the low for a
  buy) by ``trail_price`` or ``trail_percent``. The level starts from the last price when the
  order is placed.
* Legs have their entry's time in force: DAY legs expire at the close like any order.
"""

from __future__ import annotations

from collections.abc import Callable

from simcore.trading.orders import (
    FINAL,
    Order,
    OrderBook,
    OrderStatus,
    OrderType,
    whole,
)

Record = Callable[[Order, OrderStatus, int, str], None]
STOP_TYPES = (OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP)


def after_fill(book: OrderBook, order: Order, time_ns: int, on_bar: bool, record: Record) -> None:
    """``order`` was (partly) filled at ``time_ns`` (on a bar starting then, or at once)."""
    legs = book.legs(order)
    if legs:
        _size_legs(book, order, legs, time_ns + 1 if on_bar else time_ns, time_ns, record)
    elif order.oco_id is not None:
        parent = book.orders.get(order.parent_id) if order.parent_id else None
        if parent is not None:
            _size_legs(book, parent, book.legs(parent), None, time_ns, record)
        else:
            _size_pair(book, order, time_ns, record)


def after_final(book: OrderBook, order: Order, time_ns: int, record: Record) -> None:
    """``order`` ended without filling all of it: its held legs end with it when it filled
    nothing; when it filled some, its legs keep what it filled."""
    legs = book.legs(order)
    if not legs or order.status == OrderStatus.REPLACED:
        return  # no legs, or they follow the replacing order (Trader.replace)
    if order.filled_quantity == 0:
        why = f"its entry {order.id} was {order.status.value} unfilled"
        for leg in legs:
            if leg.status not in FINAL:
                record(leg, OrderStatus.CANCELED, time_ns, why)
        return
    _size_legs(book, order, legs, None, time_ns, record)


def _size_legs(
    book: OrderBook,
    parent: Order,
    legs: list[Order],
    active_from: int | None,
    time_ns: int,
    record: Record,
) -> None:
    """Every leg holds what the entry filled less what the legs closed; held legs start working
    (from ``active_from``) once there is something to hold."""
    left = whole(parent.filled_quantity - sum(leg.filled_quantity for leg in legs))
    if left <= 0 and not parent.open:  # nothing left to close, and nothing more will come
        for leg in legs:
            if leg.status not in FINAL:
                record(leg, OrderStatus.CANCELED, time_ns, "the position it closes is closed")
        return
    for leg in legs:
        if leg.status in FINAL:
            continue
        leg.quantity = whole(leg.filled_quantity + max(left, 0.0))
        if leg.status == OrderStatus.HELD and left > 0 and active_from is not None:
            leg.active_ns = active_from
            record(leg, OrderStatus.ACCEPTED, time_ns, f"its entry {parent.id} filled")


def _size_pair(book: OrderBook, order: Order, time_ns: int, record: Record) -> None:
    """A one-cancels-other pair without an entry: the other leg shrinks to what is left."""
    other = book.orders[order.oco_id]
    if other.status in FINAL:
        return
    size = order.quantity + other.filled_quantity  # the pair's size (unchanged by fills)
    left = whole(size - order.filled_quantity - other.filled_quantity)
    if left <= 0:
        record(other, OrderStatus.CANCELED, time_ns, f"the other leg {order.id} filled")
    else:
        other.quantity = whole(other.filled_quantity + left)


def first_of_pair(
    a: Order, price_a: float | None, b: Order, price_b: float | None, open_: float, rule: str
) -> tuple[Order, float] | None:
    """Which leg of a pair fills on a bar that may reach both: one filling at the open fills
    first (it certainly came first); else ``rule`` (``stop_loss`` or ``take_profit``)."""
    if price_a is None and price_b is None:
        return None
    if price_b is None:
        return a, price_a
    if price_a is None:
        return b, price_b
    if (price_a == open_) != (price_b == open_):
        return (a, price_a) if price_a == open_ else (b, price_b)
    a_stops = a.type in STOP_TYPES
    if a_stops == (b.type in STOP_TYPES):  # two of a kind: the first made
        return a, price_a
    stop_first = rule == "stop_loss"
    return (a, price_a) if a_stops == stop_first else (b, price_b)


def start_trailing(order: Order, price: float) -> None:
    """A trailing stop placed (or its leg activated) at ``price``: its first level."""
    order.trail_extreme = price
    order.stop_price = trail_level(order)


def follow(order: Order, high: float, low: float) -> None:
    """After a bar that did not trigger it: the level follows the bar's favourable extreme."""
    if order.side == "sell":
        order.trail_extreme = max(order.trail_extreme, high)
    else:
        order.trail_extreme = min(order.trail_extreme, low)
    order.stop_price = trail_level(order)


def trail_level(order: Order) -> float:
    """The stop level ``trail_price`` or ``trail_percent`` away from the best price so far
    (to 1/10,000, the finest price increment)."""
    extreme, sign = order.trail_extreme, (-1 if order.side == "sell" else 1)
    if order.trail_price is not None:
        return round(extreme + sign * order.trail_price, 4)
    return round(extreme * (1 + sign * order.trail_percent / 100), 4)
