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
  trigger is unknown, so nothing is assumed of it);
* trailing stop: as a stop at its current level, which then follows the bar's favourable
  extreme; brackets, OTO and OCO legs: ``simcore.trading.contingent``.

Slippage moves every fill against the order by ``slippage_bps`` (never past a limit). With
``max_participation`` a bar fills at most that share of its volume; the rest waits for the next
bars (a DAY order expires at the close, an IOC order after its first bar). Fees come from
``trading_config.fees``.
"""

from __future__ import annotations

import math

import numpy as np

from simcore.config.models import TradingConfig
from simcore.trading import contingent
from simcore.trading.fees import order_fee
from simcore.trading.orders import (
    FINAL,
    Fill,
    Order,
    OrderBook,
    OrderClass,
    OrderStatus,
    OrderType,
    TimeInForce,
    whole,
)
from simcore.trading.portfolio import Portfolio

ENDED_UNFILLED = frozenset({OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED})
NO_BAND = (-math.inf, math.inf)  # no working order: no bar to react to
# enum members as plain names: the bar loop compares them for every working order
MARKET, LIMIT, STOP = OrderType.MARKET, OrderType.LIMIT, OrderType.STOP
TRAILING, IOC, SIMPLE = OrderType.TRAILING_STOP, TimeInForce.IOC, OrderClass.SIMPLE


class PaperBroker:
    name = "paper"
    # the order classes and types beyond simple market/limit/stop orders that it takes
    supports = frozenset({"bracket", "oto", "oco", "trailing_stop", "replace_leg"})

    def __init__(self, config: TradingConfig, book: OrderBook, portfolio: Portfolio):
        self.config = config
        self.book = book
        self.portfolio = portfolio
        self._bands: dict[str, tuple[float, float]] = {}  # see _band; kept fresh from book.dirty
        self._rows: dict[str, int] = {}
        self._low_side = self._high_side = np.empty(0)

    # ------------------------------------------------------------------ orders
    def submit(self, order: Order, now_ns: int, last_price: float | None) -> None:
        """Accept ``order`` (with the other leg of its one-cancels-other pair, when it has no
        entry); its legs wait in the book as ``held``."""
        group = [order]
        if order.oco_id is not None and order.parent_id is None:
            other = self.book.orders[order.oco_id]
            if other.status not in FINAL and not self.book.is_working(other):
                group.append(other)  # a new pair: both legs start working
        for accepted in group:
            if accepted.type == OrderType.TRAILING_STOP:
                contingent.start_trailing(accepted, last_price)
            self._event(accepted, OrderStatus.ACCEPTED, now_ns)
        if (
            order.type == OrderType.MARKET
            and self.config.fill_price == "last_close"
            and last_price is not None
        ):
            self._fill(order, last_price, now_ns, None, on_bar=False)

    def replace(self, old: Order, new: Order, now_ns: int, last_price: float | None) -> None:
        """``new`` takes ``old``'s place (the Trader has checked it): ``old`` is replaced,
        ``new`` works from now."""
        self.cancel(old, now_ns, "replaced")
        self.submit(new, now_ns, last_price)

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
        """A new bar of ``symbol``: every working order placed before it started is checked
        (the two legs of a pair together: at most one of them fills on a bar). A bar inside
        the band no working order of the symbol reacts to is passed over at once."""
        if self.book.dirty:
            self._refresh_bands()
        low_side, high_side = self._bands.get(symbol, NO_BAND)
        if low_side < low and high < high_side:
            return
        paired: set[str] | None = None
        for order in self.book.working(symbol):
            if order.active_ns > start_ns or order.status in FINAL:
                continue  # visible (or not yet begun) when the order was placed: never fills it
            if paired is not None and order.id in paired:
                continue
            order.bars_seen += 1
            price = self._price(order, open_, high, low)
            other = self.book.orders[order.oco_id] if order.oco_id is not None else None
            if other is not None and other.status not in FINAL and other.active_ns <= start_ns:
                paired = paired or set()
                paired.add(other.id)
                other.bars_seen += 1
                first = contingent.first_of_pair(
                    order, price, other, self._price(other, open_, high, low), open_,
                    self.config.same_bar_exit,
                )  # fmt: skip
                order, price = first if first is not None else (order, None)
            if price is not None:
                cap = None
                if self.config.max_participation is not None:
                    cap = math.floor(self.config.max_participation * volume)
                self._fill(order, price, start_ns, cap)
            if order.type is TRAILING and order.status not in FINAL:
                contingent.follow(order, high, low)
            if other is not None and other.type is TRAILING and other.status not in FINAL:
                contingent.follow(other, high, low)
            if order.tif is IOC and order.status not in FINAL:
                self._event(order, OrderStatus.CANCELED, start_ns, "IOC: the rest was not fillable")

    def watch(self, symbols: tuple[str, ...]) -> None:
        """The session's symbols, in the engine's order: ``reacting`` takes their rows."""
        self._rows = {s: i for i, s in enumerate(symbols)}
        self._low_side = np.full(len(symbols), -math.inf)
        self._high_side = np.full(len(symbols), math.inf)
        self.book.dirty.update(self.book.working_symbols())

    def reacting(self, rows: np.ndarray, lows: np.ndarray, highs: np.ndarray) -> np.ndarray:
        """Which of these bars (of the symbols at ``rows``) a working order may react to: the
        others lie inside their symbol's band, and ``on_bar`` would pass them over."""
        if self.book.dirty:
            self._refresh_bands()
        return ~((self._low_side[rows] < lows) & (highs < self._high_side[rows]))

    def _refresh_bands(self) -> None:
        for symbol in self.book.dirty:
            band = self._band(symbol)
            self._bands[symbol] = band
            row = self._rows.get(symbol)
            if row is not None:
                self._low_side[row], self._high_side[row] = band
        self.book.dirty.clear()

    def _band(self, symbol: str) -> tuple[float, float]:
        """The prices between which no working order of ``symbol`` can fill: above the
        highest level a low must reach (a sell stop, a buy limit) and below the lowest a high
        must reach (a sell limit, a buy stop). A market order, a trailing stop (its level
        moves with each bar), a triggered stop-limit or an IOC order: no band (every bar)."""
        low_side, high_side = -math.inf, math.inf
        for order in self.book.working(symbol):
            kind, buy = order.type, order.side == "buy"
            if kind is MARKET or kind is TRAILING or order.tif is IOC or order.stop_triggered:
                low_side, high_side = math.inf, -math.inf
                break
            level = order.limit_price if kind is LIMIT else order.stop_price
            if (kind is LIMIT) == buy:  # a buy limit or a sell stop (-limit): the low reaches it
                low_side = max(low_side, level)
            else:
                high_side = min(high_side, level)
        return low_side, high_side

    def _price(self, order: Order, open_: float, high: float, low: float) -> float | None:
        if math.isnan(open_):
            return None
        buy = order.side == "buy"
        kind = order.type
        if kind is MARKET:
            return open_
        if kind is LIMIT:
            return _limit(buy, order.limit_price, open_, high, low)
        if kind is STOP or kind is TRAILING:
            return _stop(buy, order.stop_price, open_, high, low)
        # stop-limit
        if order.stop_triggered:
            return _limit(buy, order.limit_price, open_, high, low)
        trigger = _stop(buy, order.stop_price, open_, high, low)
        if trigger is None:
            return None
        order.stop_triggered = True
        self.book.touched(order.symbol)  # it works as a limit now: every bar
        at_open = trigger == open_
        if at_open and (open_ <= order.limit_price if buy else open_ >= order.limit_price):
            return open_
        return None

    def _fill(
        self, order: Order, price: float, time_ns: int, cap: float | None, on_bar: bool = True
    ) -> None:
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
        if order.order_class is not SIMPLE:
            contingent.after_fill(self.book, order, time_ns, on_bar, self._event)

    def _event(self, order: Order, kind: OrderStatus, time_ns: int, detail: str = "") -> None:
        self.book.record(order, kind, time_ns, detail)
        if kind in ENDED_UNFILLED and order.order_class is not SIMPLE and order.parent_id is None:
            contingent.after_final(self.book, order, time_ns, self._event)  # an entry's legs


def _limit(buy: bool, limit: float, open_: float, high: float, low: float) -> float | None:
    if buy:
        return open_ if open_ <= limit else (limit if low <= limit else None)
    return open_ if open_ >= limit else (limit if high >= limit else None)


def _stop(buy: bool, stop: float, open_: float, high: float, low: float) -> float | None:
    if buy:
        return open_ if open_ >= stop else (stop if high >= stop else None)
    return open_ if open_ <= stop else (stop if low <= stop else None)
