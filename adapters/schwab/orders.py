"""Schwab order specs for the engine's orders, built with schwab-py's order builders.

A simple order is a ``SINGLE`` strategy; a bracket is its entry ``first_triggers_second`` an
``one_cancels_other`` of the take-profit and the stop-loss; an OTO the entry triggering its one
leg; a one-cancels-other pair ``one_cancels_other`` of its two orders. Schwab answers a
placement with one number (the entry's, or the pair's own); the orders inside are read back
from it (``leaves``). Prices go as schwab-py writes them (two decimals at $1 and above).
"""

from __future__ import annotations

from collections.abc import Iterator

from schwab.orders.common import (
    Duration,
    EquityInstruction,
    OrderStrategyType,
    Session,
    first_triggers_second,
    one_cancels_other,
)
from schwab.orders.common import OrderType as SchwabType
from schwab.orders.generic import OrderBuilder

from simcore.trading.orders import Order, OrderType, TimeInForce

TYPES = {OrderType.MARKET: "MARKET", OrderType.LIMIT: "LIMIT", OrderType.STOP: "STOP",
         OrderType.STOP_LIMIT: "STOP_LIMIT"}  # fmt: skip
DURATIONS = {TimeInForce.DAY: "DAY", TimeInForce.GTC: "GOOD_TILL_CANCEL",
             TimeInForce.IOC: "IMMEDIATE_OR_CANCEL"}  # fmt: skip


def order_spec(order: Order, group: list[Order]) -> dict:
    """The placement of ``order`` with its ``group``: its legs, or its pair's other order."""
    if order.parent_id is None and order.oco_id is not None:
        return one_cancels_other(single(order), single(*group)).build()
    if not group:
        return single(order).build()
    exits = [single(leg, order.quantity) for leg in group]
    child = one_cancels_other(*exits) if len(exits) == 2 else exits[0]
    return first_triggers_second(single(order), child).build()


def single(order: Order, quantity: float | None = None) -> OrderBuilder:
    """One order as a ``SINGLE`` strategy (a leg goes with its entry's quantity)."""
    builder = (
        OrderBuilder()
        .set_order_type(SchwabType(TYPES[order.type]))
        .set_session(Session.NORMAL)
        .set_duration(Duration(DURATIONS[order.tif]))
        .set_order_strategy_type(OrderStrategyType.SINGLE)
        .add_equity_leg(
            EquityInstruction.BUY if order.side == "buy" else EquityInstruction.SELL,
            order.symbol,
            quantity if quantity is not None else order.quantity,
        )
    )
    if order.limit_price is not None:
        builder.set_price(order.limit_price)
    if order.stop_price is not None:
        builder.set_stop_price(order.stop_price)
    return builder


def leaves(raw: dict) -> Iterator[dict]:
    """The orders inside a Schwab order, in order: itself when it is one, then its children's."""
    if raw.get("orderLegCollection"):
        yield raw
    for child in raw.get("childOrderStrategies") or []:
        yield from leaves(child)
