"""What a broker of the outside world does with a fill it was told of: the order's filled
quantity and average price, the portfolio, the book's fills and the order's status."""

from __future__ import annotations

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
