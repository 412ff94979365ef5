"""alpaca-py's order requests for the engine's orders, and Alpaca's answers read back (an
order, its legs).

A contingent order is one request: a bracket or OTO entry carries ``order_class`` and its
``take_profit``/``stop_loss``; a one-cancels-other pair is an ``oco`` limit request whose
``take_profit`` is the first leg and ``stop_loss`` the other; a trailing stop is a
``trailing_stop`` request with ``trail_price`` or ``trail_percent``. Alpaca answers the legs in
``legs``: a limit leg is the take-profit, a stop the stop-loss.
"""

from __future__ import annotations

from adapters.alpaca.wire import parse_time
from simcore.trading.orders import Order, OrderType, TimeInForce


def order_request(order: Order, group: list[Order], client_id: str):
    """alpaca-py's request for ``order`` with its ``group`` (its legs, or its pair's other
    leg): one request, with ``order_class`` and the exits, for a contingent order."""
    from alpaca.trading.requests import (
        LimitOrderRequest,
        MarketOrderRequest,
        StopLimitOrderRequest,
        StopLossRequest,
        StopOrderRequest,
        TakeProfitRequest,
        TrailingStopOrderRequest,
    )

    common: dict[str, object] = {
        "symbol": order.symbol,
        "side": order.side,
        "time_in_force": order.tif.value,
        "client_order_id": client_id,
    }
    if order.quantity is not None:
        common["qty"] = order.quantity
    else:
        common["notional"] = round(order.notional, 2)
    exits = {o.leg: o for o in group}
    if order.leg:  # a pair's first leg: Alpaca's oco request carries both exits
        exits[order.leg] = order
    if exits:
        common["order_class"] = order.order_class.value
        if "take_profit" in exits:
            common["take_profit"] = TakeProfitRequest(limit_price=exits["take_profit"].limit_price)
        if "stop_loss" in exits:
            stop = exits["stop_loss"]
            common["stop_loss"] = StopLossRequest(
                stop_price=stop.stop_price, limit_price=stop.limit_price
            )
    if order.order_class.value == "oco":
        return LimitOrderRequest(**common)
    kind = {
        OrderType.MARKET: (MarketOrderRequest, {}),
        OrderType.LIMIT: (LimitOrderRequest, {"limit_price": order.limit_price}),
        OrderType.STOP: (StopOrderRequest, {"stop_price": order.stop_price}),
        OrderType.STOP_LIMIT: (
            StopLimitOrderRequest,
            {"limit_price": order.limit_price, "stop_price": order.stop_price},
        ),
        OrderType.TRAILING_STOP: (
            TrailingStopOrderRequest,
            {"trail_price": order.trail_price, "trail_percent": order.trail_percent},
        ),
    }[order.type]
    return kind[0](**common, **{k: v for k, v in kind[1].items() if v is not None})


def legs_in_order(raw: dict, group: list[Order]) -> list[dict]:
    """Alpaca's legs in the order of ``group``: a limit leg is the take-profit, a stop the
    stop-loss."""
    legs = raw.get("legs") or []
    by_leg = {("take_profit" if leg.get("type") == "limit" else "stop_loss"): leg for leg in legs}
    return [by_leg[o.leg] for o in group if o.leg in by_leg]


def order_from_alpaca(raw: dict, order_id: str) -> Order:
    """An order Alpaca holds (its JSON), as the book's order ``order_id`` (an order open at
    Alpaca when a session starts)."""
    order = Order(
        order_id,
        raw["symbol"],
        raw["side"],
        float(raw["qty"]) if raw.get("qty") else None,
        float(raw["notional"]) if raw.get("notional") else None,
        OrderType(raw.get("type") or raw.get("order_type") or "market"),
        float(raw["limit_price"]) if raw.get("limit_price") else None,
        float(raw["stop_price"]) if raw.get("stop_price") else None,
        TimeInForce(raw.get("time_in_force", "day")),
        parse_time(raw["submitted_at"]) if raw.get("submitted_at") else 0,
    )
    order.broker_id = raw["id"]
    order.filled_quantity = float(raw.get("filled_qty") or 0)
    if order.filled_quantity:
        order.average_fill_price = float(raw["filled_avg_price"])
    return order
