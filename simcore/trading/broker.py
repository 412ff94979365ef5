"""The trading side of the contract with the outside world: where the Trader's orders go.

* ``Broker`` — what the ``Trader`` sends orders to after its risk checks: ``submit``,
  ``cancel``, ``replace`` (new terms: the old order ends ``replaced``, the new one works; a
  venue with a replace request keeps it one request) and ``end_session`` (DAY orders end with
  the session). ``supports`` names the contingent kinds it takes (``bracket``, ``oto``,
  ``oco``, ``trailing_stop``): the Trader refuses the others before sending. The paper broker
  is one (it also takes ``on_bar``).
* ``AccountBroker`` — a broker of the outside world (an adapter): ``start`` loads the account
  (cash, positions, open orders: reconciliation) and listens for order updates, ``poll``
  applies them on the engine's thread, ``stop`` closes the stream.

``book_fill`` is what such a broker does with a fill it was told of.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from simcore.trading.orders import Fill, Order, OrderBook, OrderStatus
from simcore.trading.portfolio import Portfolio


def book_fill(
    book: OrderBook,
    portfolio: Portfolio,
    order: Order,
    quantity: float,
    price: float,
    time_ns: int,
    done: bool = False,
) -> None:
    """Book ``quantity`` at ``price``; the order is filled when ``done`` or when it has all
    its shares, else partially filled."""
    fill = Fill(order.id, order.symbol, order.side, quantity, price, 0.0, time_ns)
    filled = order.filled_quantity + quantity
    order.average_fill_price = (
        order.average_fill_price * order.filled_quantity + price * quantity
    ) / filled
    order.filled_quantity = filled
    portfolio.apply(fill)
    book.fills.append(fill)
    done = done or (order.quantity is not None and filled >= order.quantity)
    book.record(order, OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED, time_ns)


@runtime_checkable
class Broker(Protocol):
    """Where the Trader's orders go once its risk checks passed."""

    def submit(self, order: Order, now_ns: int, last_price: float | None) -> None: ...
    def cancel(self, order: Order, now_ns: int, reason: str = "") -> None: ...
    def replace(self, old: Order, new: Order, now_ns: int, last_price: float | None) -> None: ...
    def end_session(self, close_ns: int) -> None: ...


@runtime_checkable
class AccountBroker(Broker, Protocol):
    """A broker of the outside world, with an account of its own to reconcile with."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def poll(self) -> None: ...
    def reconcile_account(self) -> None: ...
