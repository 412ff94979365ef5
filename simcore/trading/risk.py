"""The risk checks of ``trading_config``, applied to every order before any broker sees it.

An order is valued at its reference price: the limit price of a limit or stop-limit order, the
stop price of a stop order, else the last price the strategy could see. An order that only
reduces a position (towards flat, not through it) commits no capital and always passes: a
strategy can always get out. Every other order must fit every rule.
A refusal is a ``Rejection`` naming the rule, the limit and the value that broke it: nothing is
rejected silently, and nothing is resized.

Contingent orders are checked as a group: a bracket or OTO as its entry (its legs only close
what the entry opens, so they commit no capital and count towards no exposure), a
one-cancels-other pair as its first leg; of a working pair only one leg counts towards what
is pending or exposed, since only one of them can fill.
"""

from __future__ import annotations

from collections.abc import Callable

from simcore.config.models import TradingConfig
from simcore.trading.orders import Order, OrderType, Rejection
from simcore.trading.portfolio import Portfolio


def reference_price(order: Order, last_price: float | None) -> float | None:
    if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        return order.limit_price
    if order.type == OrderType.STOP:
        return order.stop_price
    return last_price


def counted(working: list[Order]) -> list[Order]:
    """The working orders as they commit capital: the second leg of a working pair is left
    out (only one of them can fill)."""
    for order in working:
        if order.oco_id is not None:
            break
    else:
        return working  # no pair: the common case, with one pass
    seen: set[str] = set()
    out = []
    for order in working:
        if order.oco_id is not None and order.oco_id in seen:
            continue
        seen.add(order.id)
        out.append(order)
    return out


def check(
    config: TradingConfig,
    order: Order,
    price: float | None,
    portfolio: Portfolio,
    own: list[Order],
    committing: list[Order],
    prices: Callable[[], dict[str, float]],
    now_ns: int,
) -> Rejection | None:
    """None when ``order`` passes every rule; else the first rule it breaks. ``own``: the
    working orders of its symbol; ``committing``: the working orders that may commit capital
    (not legs); ``prices`` gives the last price of every symbol held or working, asked only
    when the exposure is checked."""
    own, committing = counted(own), counted(committing)

    def refuse(rule: str, limit: float, value: float, message: str) -> Rejection:
        return Rejection(order.id, order.symbol, now_ns, rule, limit, value, message)

    if price is None or price <= 0:
        return refuse(
            "no_price", 0.0, 0.0, "no price is known for the symbol yet to value the order"
        )
    quantity = order.quantity if order.quantity is not None else order.notional / price
    value = quantity * price
    held = portfolio.quantity(order.symbol)
    pending = sum(o.sign * o.remaining(price) for o in own)
    after = held + pending + order.sign * quantity
    if abs(after) <= abs(held + pending) and after * (held + pending) >= 0:
        return None  # it only reduces the position (no capital committed): always allowed
    if value > config.max_per_trade:
        return refuse(
            "max_per_trade",
            config.max_per_trade,
            value,
            f"the order is worth {value:,.2f}, more than max_per_trade {config.max_per_trade:,.2f}",
        )
    symbol_value = abs(after) * price
    if symbol_value > config.max_per_symbol:
        return refuse(
            "max_per_symbol",
            config.max_per_symbol,
            symbol_value,
            f"{order.symbol} would be worth {symbol_value:,.2f} with this order, more than "
            f"max_per_symbol {config.max_per_symbol:,.2f}",
        )
    if held + pending == 0:
        held_symbols = portfolio.holding
        opened = len(held_symbols) + len({o.symbol for o in committing} - held_symbols)
        if opened >= config.max_open_positions:
            return refuse(
                "max_open_positions",
                config.max_open_positions,
                opened + 1,
                f"it would open position {opened + 1} with {opened} open or pending, "
                f"max_open_positions is {config.max_open_positions}",
            )
    prices_now = prices()
    exposure = portfolio.gross_exposure(prices_now)
    for o in committing:
        at = prices_now.get(o.symbol, price)
        exposure += abs(o.remaining(at)) * at
    exposure += value
    if exposure > config.max_buying_power:
        return refuse(
            "max_buying_power",
            config.max_buying_power,
            exposure,
            f"positions and open orders would be worth {exposure:,.2f} with it, more than "
            f"max_buying_power {config.max_buying_power:,.2f}",
        )
    return None
