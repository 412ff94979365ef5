"""What makes an order well-formed: its type and time in force, the prices its type needs, a
trailing stop's trail, exit legs on the right sides of their entry. A malformed order is the
strategy's own mistake, refused as an ``OrderError`` naming the field (a risk rule is not:
that is a ``Rejection``, ``simcore.trading.risk``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from simcore.trading.orders import Order, OrderClass, OrderType, TimeInForce


class OrderError(ValueError):
    """An order the strategy asked for does not make sense (its own mistake, not a risk rule)."""


FEATURES = {  # what a broker's ``supports`` may name, as a refusal says it
    "bracket": "a bracket order",
    "oto": "an OTO order",
    "oco": "an OCO pair",
    "trailing_stop": "a trailing stop",
    "replace_leg": "replacing a leg of a bracket, OTO or OCO group",
}


def require(broker: object, feature: str) -> None:
    """Refuse, before anything is sent, what the session's broker cannot do (its
    ``supports`` names what it can: ``FEATURES``)."""
    if feature not in getattr(broker, "supports", frozenset()):
        name = getattr(broker, "name", type(broker).__name__)
        what = FEATURES[feature]
        raise OrderError(
            f"{what[0].upper()}{what[1:]} is not available through the {name} broker: the "
            'paper broker (trade_api "paper") and Alpaca have it'
        )


ORDER_TYPES = {t.value: t for t in OrderType}
TIMES_IN_FORCE = {t.value: t for t in TimeInForce}
# (needs a limit price, needs a stop price) of each order type
PRICES_NEEDED = {
    OrderType.MARKET: (False, False),
    OrderType.LIMIT: (True, False),
    OrderType.STOP: (False, True),
    OrderType.STOP_LIMIT: (True, True),
    OrderType.TRAILING_STOP: (False, False),
}


def check_trail(order_type: OrderType, trail_price: float | None, trail_percent: float | None):
    """A trailing stop trails by exactly one of a price distance or a percent; no other type
    trails."""
    given = [(n, v) for n, v in (("trail_price", trail_price), ("trail_percent", trail_percent))
             if v is not None]  # fmt: skip
    if order_type != OrderType.TRAILING_STOP:
        if given:
            raise OrderError(f"a {order_type.value} order takes no {given[0][0]}")
        return
    if len(given) != 1:
        raise OrderError("a trailing_stop order needs exactly one of trail_price or trail_percent")
    name, value = given[0]
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise OrderError(f"{name} must be a positive number, got {value!r}")
    if name == "trail_percent" and value >= 100:
        raise OrderError(f"trail_percent must be under 100, got {value!r}")


def check_exit_prices(
    exit_side: str,
    take_profit: float | None,
    stop_loss: float | None,
    stop_loss_limit: float | None,
    reference: float | None,
) -> None:
    """Exit legs on the right sides: selling out of a long, the take-profit above the entry's
    reference price and the stop-loss below it (buying out of a short, the other way)."""
    for name, value in (("take_profit", take_profit), ("stop_loss", stop_loss),
                        ("stop_loss_limit", stop_loss_limit)):  # fmt: skip
        if value is not None and (
            not isinstance(value, int | float) or not math.isfinite(value) or value <= 0
        ):
            raise OrderError(f"{name} must be a positive price, got {value!r}")
    up = exit_side == "sell"  # the take-profit is above, the stop below
    word = ("above", "below") if up else ("below", "above")
    if take_profit is not None and stop_loss is not None and (take_profit > stop_loss) != up:
        raise OrderError(
            f"take_profit ({take_profit}) must be {word[0]} stop_loss ({stop_loss}) for legs "
            f"that {exit_side}"
        )
    if reference is None:
        return
    if take_profit is not None and (take_profit > reference) != up:
        raise OrderError(
            f"take_profit ({take_profit}) must be {word[0]} the entry's price ({reference}) for "
            f"a leg that {exit_side}s"
        )
    if stop_loss is not None and (stop_loss < reference) != up:
        raise OrderError(
            f"stop_loss ({stop_loss}) must be {word[1]} the entry's price ({reference}) for a "
            f"leg that {exit_side}s"
        )


def check_prices(order_type: OrderType, limit: float | None, stop: float | None) -> None:
    needs = PRICES_NEEDED[order_type]
    if not needs[0] and not needs[1] and limit is None and stop is None:
        return  # a market order without prices: nothing to check
    for name, value, needed in (("limit_price", limit, needs[0]), ("stop_price", stop, needs[1])):
        if needed and (value is None or not math.isfinite(value) or value <= 0):
            raise OrderError(f"a {order_type.value} order needs a positive {name}")
        if not needed and value is not None:
            raise OrderError(f"a {order_type.value} order takes no {name}")


def take_profit_leg(order_id: str, entry: Order, side: str, limit: float) -> Order:
    """The take-profit leg of ``entry``'s group: a limit on ``side``, sized when it works."""
    return Order(
        order_id, entry.symbol, side, 0.0, None, OrderType.LIMIT, limit, None, entry.tif,
        entry.placed_ns, order_class=entry.order_class, parent_id=entry.id, leg="take_profit",
    )  # fmt: skip


def stop_loss_leg(
    order_id: str, entry: Order, side: str, stop: float, limit: float | None
) -> Order:
    """The stop-loss leg of ``entry``'s group: a stop (a stop-limit with ``limit``)."""
    return Order(
        order_id, entry.symbol, side, 0.0, None,
        OrderType.STOP if limit is None else OrderType.STOP_LIMIT, limit, stop, entry.tif,
        entry.placed_ns, order_class=entry.order_class, parent_id=entry.id, leg="stop_loss",
    )  # fmt: skip


def exit_legs(
    new_id: Callable[[], str],
    entry: Order,
    exit_side: str,
    take_profit: float | None,
    stop_loss: float | None,
    stop_loss_limit: float | None,
) -> list[Order]:
    """An entry's exit legs on ``exit_side`` (two: one cancels the other), sized later."""
    legs = []
    if take_profit is not None:
        legs.append(take_profit_leg(new_id(), entry, exit_side, take_profit))
    if stop_loss is not None:
        legs.append(stop_loss_leg(new_id(), entry, exit_side, stop_loss, stop_loss_limit))
    if len(legs) == 2:
        legs[0].oco_id, legs[1].oco_id = legs[1].id, legs[0].id
    return legs


def oco_pair(
    new_id: Callable[[], str],
    symbol: str,
    side: str,
    quantity: float,
    take_profit: float,
    stop_loss: float,
    stop_loss_limit: float | None,
    tif: TimeInForce,
    now_ns: int,
) -> tuple[Order, Order]:
    """A one-cancels-other pair with no entry: a limit at ``take_profit`` and a stop at
    ``stop_loss``, both of ``quantity``, linked."""
    first = Order(new_id(), symbol, side, quantity, None, OrderType.LIMIT, take_profit, None, tif,
                  now_ns, order_class=OrderClass.OCO, leg="take_profit")  # fmt: skip
    second = stop_loss_leg(new_id(), first, side, stop_loss, stop_loss_limit)
    second.quantity, second.parent_id = quantity, None
    first.oco_id, second.oco_id = second.id, first.id
    return first, second
