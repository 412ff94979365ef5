"""An emulated brokerage account that every provider's emulator shares: orders fill with
simcore's paper-broker rules on the bars the emulator publishes.

An order is placed at the end of the last bar published before it arrived: an order sent on a
bar fills on the next, as in a backtest, whatever the network took (unless it took a whole
bar). ``announce`` receives each batch of order events as they happen; a provider's desk
(Alpaca's) turns them into its trade-update frames, one without an update stream (Schwab's,
polled) leaves it empty. The desk's lock is held around every change and every read of a
provider's request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from simcore.config.models import TradingConfig
from simcore.trading.orders import Order, OrderBook, OrderEvent, OrderStatus
from simcore.trading.paper import PaperBroker
from simcore.trading.portfolio import Portfolio

BAR_NS = 60_000_000_000  # the emulators publish minute bars


class PaperDesk:
    def __init__(
        self,
        cash: float = 100_000.0,
        clock_ns: Callable[[], int] = time.time_ns,
        max_participation: float | None = None,  # fill at most this share of a bar's volume
    ):
        config = TradingConfig(
            max_buying_power=1e12,
            max_per_trade=1e12,
            max_per_symbol=1e12,
            max_open_positions=10**6,
            max_participation=max_participation,
        )
        self.book = OrderBook()
        self.portfolio = Portfolio(cash=cash)
        self.broker = PaperBroker(config, self.book, self.portfolio)
        self.lock = threading.Lock()
        self.clock_ns = clock_ns
        self.market_ns = 0  # the end of the last bar published
        self.last_close: dict[str, float] = {}  # each symbol's last published close
        self._announced = 0  # order events handed to announce so far

    def now_ns(self) -> int:
        """The desk's time: the end of the last bar published, within the session (the
        clock's before the first bar and long after the last)."""
        clock = self.clock_ns()
        return self.market_ns if clock - self.market_ns < 2 * BAR_NS else clock

    def place(self, order: Order, legs: list[Order] = ()) -> None:
        """A new order, working from now, with its held legs (the caller holds the lock; a
        pair's other leg is in the book already)."""
        self.book.add(order)
        for leg in legs:
            self.book.add_leg(order, leg)
            self.book.record(leg, OrderStatus.HELD, order.placed_ns)
        self.broker.submit(order, order.placed_ns, self.last_close.get(order.symbol))
        self.publish()

    def replace(self, old: Order, new: Order) -> None:
        """``new`` takes ``old``'s place in its group and works from now (the lock is held)."""
        self.book.add(new)
        self.book.take_place(old, new)
        self.broker.replace(old, new, new.placed_ns, self.last_close.get(new.symbol))
        self.publish()

    def cancel(self, order: Order, reason: str) -> None:
        self.broker.cancel(order, self.now_ns(), reason)
        self.publish()

    def on_bar(self, row: dict) -> None:
        """A bar the emulator publishes: working orders of its symbol may fill on it."""
        with self.lock:
            self.market_ns = max(self.market_ns, row["ns"] + BAR_NS)
            self.last_close[row["symbol"]] = row["close"]
            self.broker.on_bar(
                row["symbol"],
                row["ns"],
                row["open"],
                row["high"],
                row["low"],
                row["close"],
                row["volume"],
            )
            self.publish()

    def end_session(self, close_ns: int) -> None:
        with self.lock:
            self.broker.end_session(close_ns)
            self.publish()

    def publish(self) -> None:
        events = self.book.events[self._announced :]
        self._announced = len(self.book.events)
        if events:
            self.announce(events)

    def announce(self, events: list[OrderEvent]) -> None:
        """Order events since the last call, in order (a provider's desk sends them)."""

    def positions(self) -> dict[str, float]:
        with self.lock:
            return {s: self.portfolio.quantity(s) for s in self.portfolio.open_positions()}
