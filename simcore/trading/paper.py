"""The paper broker: fills orders on bars, with no look-ahead.

A bar can fill an order only if it started at or after the order was placed: the bar the
strategy acted on, or any bar visible then, never fills it. On that bar:

* market: at its open (``fill_price: "next_open"``, the default) — or, as LEAN does by default,
  at once at the last price the strategy saw (``"last_close"``);
* limit (buy at L): at the open when it opens at or below L (a gap through the limit), else at
  L when the bar's low reaches it; a sell limit mirrors it;
* stop (buy at S): at the open when it opens at or above S, else at S when the high reaches it;
* stop-limit: the stop triggers as above; a trigger at the open may fill at the open if that is
  within the limit; otherwise the limit works from the next bar (the bar's path after the
  trigger is unknown, so nothing is assumed of it).

Slippage moves every fill against the order by ``slippage_bps`` (never past a limit). With
``max_participation`` a bar fills at most that share of its volume; the rest waits for the next
bars (a DAY order expires at the close, an IOC order after its first bar). Fees come from
``trading_config.fees``.
"""

from __future__ import annotations

import math

from simcore.config.models import TradingConfig
from simcore.trading.fees import order_fee
from simcore.trading.orders import (
    Fill,
    Order,
    OrderBook,
    OrderStatus,
    OrderType,
    TimeInForce,
    whole,
)
from simcore.trading.portfolio import Portfolio


class PaperBroker:
    name = "paper"

    def __init__(self, config: TradingConfig, book: OrderBook, portfolio: Portfolio):
        self.config = config
        self.book = book
        self.portfolio = portfolio

    # ------------------------------------------------------------------ orders
    def submit(self, order: Order, now_ns: int, last_price: float | None) -> None:
        self._event(order, OrderStatus.ACCEPTED, now_ns)
        if (
            order.type == OrderType.MARKET
            and self.config.fill_price == "last_close"
            and last_price is not None
        ):
            self._fill(order, last_price, now_ns, None)

    def cancel(self, order: Order, now_ns: int, reason: str = "") -> None:
        if order.open:
            kind = OrderStatus.REPLACED if reason == "replaced" else OrderStatus.CANCELED
            self._event(order, kind, now_ns, reason)

    def end_session(self, close_ns: int) -> None:
        """DAY orders expire at the session's close (early closes included)."""
        for order in self.book.working():
            if order.tif == TimeInForce.DAY:
                self._event(order, OrderStatus.EXPIRED, close_ns, "the session closed")

    # ------------------------------------------------------------------ bars
    def on_bar(
        self,
        symbol: str,
        start_ns: int,
        open_: float,
        high: float,
        low: float,
        close: float,
        volume: float,
    ) -> None:
        """A new bar of ``symbol``: every working order placed before it started is checked."""
        for order in self.book.working(symbol):
            if order.placed_ns > start_ns:
                continue  # visible (or not yet begun) when the order was placed: never fills it
            order.bars_seen += 1
            price = self._price(order, open_, high, low)
            if price is not None:
                cap = None
                if self.config.max_participation is not None:
                    cap = math.floor(self.config.max_participation * volume)
                self._fill(order, price, start_ns, cap)
            if order.open and order.tif == TimeInForce.IOC:
                self._event(order, OrderStatus.CANCELED, start_ns, "IOC: the rest was not fillable")

    def _price(self, order: Order, open_: float, high: float, low: float) -> float | None:
        if math.isnan(open_):
            return None
        buy = order.side == "buy"
        if order.type == OrderType.MARKET:
            return open_
        if order.type == OrderType.LIMIT:
            return _limit(buy, order.limit_price, open_, high, low)
        if order.type == OrderType.STOP:
            return _stop(buy, order.stop_price, open_, high, low)
        # stop-limit
        if order.stop_triggered:
            return _limit(buy, order.limit_price, open_, high, low)
        trigger = _stop(buy, order.stop_price, open_, high, low)
        if trigger is None:
            return None
        order.stop_triggered = True
        at_open = trigger == open_
        if at_open and (open_ <= order.limit_price if buy else open_ >= order.limit_price):
            return open_
        return None

    def _fill(self, order: Order, price: float, time_ns: int, cap: float | None) -> None:
        slip = self.config.slippage_bps / 1e4
        fill_price = price
        if slip:  # to 1/10,000: the finest price increment, and no float noise in the outputs
            fill_price = round(price * (1 + slip) if order.side == "buy" else price * (1 - slip), 4)
        if order.limit_price is not None and order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            fill_price = (
                min(fill_price, order.limit_price)
                if order.side == "buy"
                else max(fill_price, order.limit_price)
            )
        quantity = order.remaining(fill_price)
        if cap is not None:
            quantity = min(quantity, float(cap))
        quantity = whole(quantity)
        if quantity <= 0:
            return
        fee = order_fee(self.config.fees, quantity, fill_price)
        fill = Fill(order.id, order.symbol, order.side, quantity, fill_price, fee, time_ns)
        total = order.filled_quantity + quantity
        order.average_fill_price = (
            order.average_fill_price * order.filled_quantity + fill_price * quantity
        ) / total
        order.filled_quantity = whole(total)
        order.fees += fee
        self.portfolio.apply(fill)
        self.book.fills.append(fill)
        done = order.quantity is None or order.filled_quantity >= order.quantity
        if order.quantity is None and order.notional is not None:
            done = order.remaining(fill_price) * fill_price < 0.01  # within a cent of the notional
        kind = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
        self._event(order, kind, time_ns)

    def _event(self, order: Order, kind: OrderStatus, time_ns: int, detail: str = "") -> None:
        self.book.record(order, kind, time_ns, detail)


def _limit(buy: bool, limit: float, open_: float, high: float, low: float) -> float | None:
    if buy:
        return open_ if open_ <= limit else (limit if low <= limit else None)
    return open_ if open_ >= limit else (limit if high >= limit else None)


def _stop(buy: bool, stop: float, open_: float, high: float, low: float) -> float | None:
    if buy:
        return open_ if open_ >= stop else (stop if high >= stop else None)
    return open_ if open_ <= stop else (stop if low <= stop else None)
