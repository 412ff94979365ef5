"""The trading desk of the analysis engine: what ``ctx`` orders go through.

Every order is checked against ``trading_config`` (``risk.py``) before the broker sees it; a
refused order is recorded as a ``Rejection`` with the rule and the numbers, and the strategy is
told through ``on_order_update``. The broker — the paper broker in backtests and paper
sessions, Alpaca's for ``trade_api: "alpaca"`` live — reports what happens to orders into the
``OrderBook``; the engine hands the new events and fills to the strategy's callbacks before its
next bars.

Prices: the last close the strategy could see of the streamed base interval (``price_of``),
else the last one a previous session ended with.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np

from simcore.config.models import TradingConfig
from simcore.trading import order_terms, risk
from simcore.trading.broker import Broker
from simcore.trading.order_terms import OrderError
from simcore.trading.orders import (
    FINAL,
    Fill,
    Order,
    OrderBook,
    OrderClass,
    OrderEvent,
    OrderStatus,
    OrderType,
    TimeInForce,
    whole,
)
from simcore.trading.portfolio import Portfolio

BAR_FIELDS = ("open", "high", "low", "close", "volume")
TRAILING = OrderType.TRAILING_STOP


class Trader:
    def __init__(
        self,
        config: TradingConfig,
        symbols: tuple[str, ...],
        now_ns: Callable[[], int],
        price_of: Callable[[str], float | None],
        broker_factory: Callable[[TradingConfig, OrderBook, Portfolio], Broker] | None = None,
        prices_of: Callable[[], np.ndarray] | None = None,
    ):
        """``price_of(symbol)``: the last price the strategy could see (None: none yet);
        ``prices_of()``: the same for every symbol at once, NaN for none (optional, faster)."""
        from simcore.trading.paper import PaperBroker

        self.config = config
        self.symbols = symbols
        self.now_ns = now_ns
        self._price_of = price_of
        self._prices_of = prices_of
        self.book = OrderBook()
        self.portfolio = Portfolio(cash=config.max_buying_power)
        self.broker = (broker_factory or PaperBroker)(config, self.book, self.portfolio)
        if hasattr(self.broker, "watch"):
            self.broker.watch(symbols)
        self.symbol_index = {s: i for i, s in enumerate(symbols)}
        # the close each symbol's last session ended with (NaN: none yet)
        self.last_closes = np.full(len(symbols), np.nan)
        # (session date, time, symbol, kind, ratio or amount, shares before, shares after, cash)
        self.corporate_actions: list[tuple] = []
        self._told_events = 0
        self._told_fills = 0

    # ------------------------------------------------------------------ prices and account
    def price(self, symbol: str) -> float | None:
        price = self._price_of(symbol)
        return price if price is not None else self.last_close(symbol)

    def last_close(self, symbol: str) -> float | None:
        """The close ``symbol``'s last session ended with (None before its first)."""
        i = self.symbol_index.get(symbol)
        close = np.nan if i is None else self.last_closes[i]
        return None if np.isnan(close) else float(close)

    def prices(self) -> dict[str, float]:
        """The last price of every symbol with an open position or a working order."""
        out = {}
        symbols = set(self.portfolio.open_positions()).union(self.book.working_symbols())
        if self._prices_of is None:
            for symbol in sorted(symbols):
                price = self.price(symbol)
                if price is not None:
                    out[symbol] = price
            return out
        current = self._prices_of()  # every symbol's at once; NaN: the last session's close
        for symbol in sorted(symbols):
            i = self.symbol_index.get(symbol)
            if i is None:
                price = self.price(symbol)
                if price is not None:
                    out[symbol] = price
                continue
            price = current[i]
            if price != price:
                price = self.last_closes[i]
            if price == price:
                out[symbol] = float(price)
        return out

    def equity(self) -> float:
        return self.portfolio.equity(self.prices())

    def buying_power(self) -> float:
        """What ``max_buying_power`` still allows: the limit less positions and open orders."""
        prices = self.prices()
        used = self.portfolio.gross_exposure(prices)
        for order in risk.counted(self.book.committing()):
            price = self.price(order.symbol) or 0.0
            used += abs(order.remaining(price)) * price if price else 0.0
        return max(0.0, self.config.max_buying_power - used)

    # ------------------------------------------------------------------ orders
    def order(
        self,
        symbol: str,
        quantity: float | None = None,
        *,
        notional: float | None = None,
        type: str = "market",
        limit_price: float | None = None,
        stop_price: float | None = None,
        tif: str = "day",
        trail_price: float | None = None,
        trail_percent: float | None = None,
        take_profit: float | None = None,
        stop_loss: float | None = None,
        stop_loss_limit: float | None = None,
    ) -> Order:
        """Place an order: ``quantity`` shares (positive buys, negative sells) or ``notional``
        in the account currency (positive buys). Returns the order, accepted or rejected.

        ``type="trailing_stop"`` trails by ``trail_price`` or ``trail_percent``.
        ``take_profit`` (a limit price) and ``stop_loss`` (a stop price; with
        ``stop_loss_limit``, a stop-limit) add exit legs: both make a bracket, one an OTO."""
        if symbol not in self.symbol_index:
            raise OrderError(f"{symbol} is not a symbol of this session")
        if (quantity is None) == (notional is None):
            raise OrderError("give either quantity (shares) or notional (money), not both")
        amount = quantity if quantity is not None else notional
        if amount is None or not math.isfinite(amount) or amount == 0:
            raise OrderError(f"the order's size must be a non-zero number, got {amount!r}")
        order_type = order_terms.ORDER_TYPES.get(type) if isinstance(type, str) else None
        time_in_force = order_terms.TIMES_IN_FORCE.get(tif) if isinstance(tif, str) else None
        if order_type is None or time_in_force is None:
            try:
                OrderType(type), TimeInForce(tif)
            except ValueError as exc:
                raise OrderError(str(exc)) from None
        order_terms.check_prices(order_type, limit_price, stop_price)
        if trail_price is not None or trail_percent is not None or order_type is TRAILING:
            order_terms.check_trail(order_type, trail_price, trail_percent)
        if notional is not None and order_type != OrderType.MARKET:
            raise OrderError("a notional order is a market order (its size is set by its fill)")
        exits = take_profit is not None or stop_loss is not None
        if stop_loss_limit is not None and stop_loss is None:
            raise OrderError("stop_loss_limit makes the stop_loss leg a stop-limit: give stop_loss")
        if exits and (notional is not None or order_type == OrderType.TRAILING_STOP):
            raise OrderError("take_profit and stop_loss legs need an entry in shares that is not "
                             "a trailing stop")  # fmt: skip
        order_class = (
            OrderClass.SIMPLE if not exits
            else OrderClass.BRACKET if take_profit is not None and stop_loss is not None
            else OrderClass.OTO
        )  # fmt: skip
        if order_class != OrderClass.SIMPLE:
            order_terms.require(self.broker, order_class)  # a StrEnum: its own value
        if order_type == OrderType.TRAILING_STOP:
            order_terms.require(self.broker, "trailing_stop")
            if self.price(symbol) is None:
                raise OrderError(
                    f"a trailing stop starts from the last price: {symbol} has none yet"
                )
        order = Order(
            self.book.new_id(),
            symbol,
            "buy" if amount > 0 else "sell",
            whole(abs(quantity)) if quantity is not None else None,
            abs(notional) if notional is not None else None,
            order_type,
            limit_price,
            stop_price,
            time_in_force,
            self.now_ns(),
            order_class=order_class,
            trail_price=trail_price,
            trail_percent=trail_percent,
        )
        if not exits:
            return self._submit(order)
        exit_side = "sell" if order.side == "buy" else "buy"
        reference = order.limit_price or order.stop_price or self.price(order.symbol)
        order_terms.check_exit_prices(exit_side, take_profit, stop_loss, stop_loss_limit, reference)
        return self._submit(
            order,
            lambda: order_terms.exit_legs(
                self.book.new_id, order, exit_side, take_profit, stop_loss, stop_loss_limit
            ),
        )

    def oco(
        self,
        symbol: str,
        quantity: float,
        *,
        take_profit: float,
        stop_loss: float,
        stop_loss_limit: float | None = None,
        tif: str = "day",
    ) -> tuple[Order, Order]:
        """Two exits working at once, ``quantity`` shares each (negative sells): a limit at
        ``take_profit`` and a stop (stop-limit with ``stop_loss_limit``) at ``stop_loss``; a
        fill of one cancels or shrinks the other. Checked by the risk rules once, as one order."""
        if symbol not in self.symbol_index:
            raise OrderError(f"{symbol} is not a symbol of this session")
        if not isinstance(quantity, int | float) or not math.isfinite(quantity) or quantity == 0:
            raise OrderError(f"the order's size must be a non-zero number, got {quantity!r}")
        time_in_force = order_terms.TIMES_IN_FORCE.get(tif) if isinstance(tif, str) else None
        if time_in_force is None:
            raise OrderError(f"{tif!r} is not a time in force: day, gtc or ioc")
        order_terms.require(self.broker, "oco")
        side = "buy" if quantity > 0 else "sell"
        order_terms.check_exit_prices(side, take_profit, stop_loss, stop_loss_limit, None)
        first, second = order_terms.oco_pair(
            self.book.new_id, symbol, side, whole(abs(quantity)), take_profit, stop_loss,
            stop_loss_limit, time_in_force, self.now_ns(),
        )  # fmt: skip
        self.book.add(first)
        self.book.add(second)
        self._submit(first)
        return first, second

    def _submit(self, order: Order, make_legs: Callable[[], list[Order]] | None = None) -> Order:
        """Risk checks (an entry as its group, a pair as one order), then its legs (an entry
        refused has none: the whole bracket is refused), then the broker."""
        self.book.add(order)
        last = self.price(order.symbol)
        if self._refused(order, last, ()):  # new: neither it nor its pair works yet
            return order
        for leg in make_legs() if make_legs is not None else ():
            self.book.add_leg(order, leg)
            self.book.record(leg, OrderStatus.HELD, order.placed_ns)
        self.broker.submit(order, order.placed_ns, last)
        return order

    def _refused(
        self, order: Order, last: float | None, leave_out: tuple, group: bool = True
    ) -> bool:
        """The risk checks, without the working orders ``leave_out`` names (those a
        replacement takes the place of): a refusal is
        recorded on the order and (``group``) on the rest of its group: its legs, the other
        leg of its pair."""
        own, committing = self.book.working(order.symbol), self.book.committing()
        if leave_out:
            own = [o for o in own if o.id not in leave_out]
            committing = [o for o in committing if o.id not in leave_out]
        refused = risk.check(
            self.config,
            order,
            risk.reference_price(order, last),
            self.portfolio,
            own,
            committing,
            self.prices,
            order.placed_ns,
        )
        if refused is None:
            return False
        self.book.rejections.append(refused)
        self.book.record(order, OrderStatus.REJECTED, order.placed_ns, refused.rule)
        order.reason = refused.message
        if not group:
            return True
        others = self.book.legs(order)
        if order.oco_id is not None and order.parent_id is None:
            others.append(self.book.orders[order.oco_id])
        for other in others:
            if other.status not in FINAL:
                why = f"{order.id} of its group was rejected ({refused.rule})"
                self.book.record(other, OrderStatus.REJECTED, order.placed_ns, why)
        return True

    def cancel(self, order_id: str) -> None:
        order = self._order(order_id)
        if order.open:
            self.broker.cancel(order, self.now_ns(), "canceled by the strategy")

    def replace(
        self,
        order_id: str,
        quantity: float | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
        trail_price: float | None = None,
        trail_percent: float | None = None,
    ) -> Order:
        """New terms for a working order: the old one is ``replaced`` and a new one, with a new
        id, goes through the risk checks again (what is filled stays filled). An entry's held
        legs follow it; a leg keeps its place in its pair."""
        old = self._order(order_id)
        if not old.open:
            raise OrderError(f"order {order_id} is {old.status.value}: nothing to replace")
        if old.parent_id is not None or old.oco_id is not None:
            order_terms.require(self.broker, "replace_leg")
        if old.status == OrderStatus.HELD:
            raise OrderError(
                f"order {order_id} is held until its entry {old.parent_id} fills: replace it "
                "once it works, or replace the entry"
            )
        remaining = (old.quantity - old.filled_quantity) if old.quantity is not None else None
        new_quantity = remaining if quantity is None else whole(abs(quantity))
        trailing = old.type == OrderType.TRAILING_STOP
        limit = old.limit_price if limit_price is None else limit_price
        stop = None if trailing else old.stop_price if stop_price is None else stop_price
        if trailing and stop_price is not None:
            raise OrderError("a trailing stop's level follows the price: give trail_price or "
                             "trail_percent")  # fmt: skip
        if trail_price is not None or trail_percent is not None:
            trail = (trail_price, trail_percent)
        else:
            trail = (old.trail_price, old.trail_percent)
        order_terms.check_prices(old.type, limit, stop)
        order_terms.check_trail(old.type, *trail)
        now = self.now_ns()
        order = Order(
            self.book.new_id(), old.symbol, old.side, new_quantity, old.notional if new_quantity is None else None,
            old.type, limit, stop, old.tif, now, order_class=old.order_class, parent_id=old.parent_id,
            oco_id=old.oco_id, leg=old.leg, trail_price=trail[0], trail_percent=trail[1],
        )  # fmt: skip
        order.reason = f"replaces {old.id}"
        self.book.add(order)
        last = self.price(order.symbol)
        if self._refused(order, last, (order.id, old.id, old.oco_id), group=False):
            return order  # the old order (and its group) keeps working on its terms
        self.book.take_place(old, order)  # its pair and its entry's legs now name the new order
        self.broker.replace(old, order, now, last)
        return order

    def target_percent(self, symbol: str, percent: float, **order_options) -> Order | None:
        """Hold ``percent`` of equity in ``symbol`` (whole shares, at the last price): one order
        for the difference from what is held and working; None when nothing needs to change."""
        price = self.price(symbol)
        if price is None:
            raise OrderError(f"no price is known for {symbol} yet: wait for its first bar")
        target = math.floor(abs(percent) * self.equity() / price) * (1 if percent >= 0 else -1)
        held = self.portfolio.quantity(symbol)
        working = sum(o.sign * o.remaining(price) for o in risk.counted(self.book.working(symbol)))
        difference = whole(target - held - working)
        if difference == 0:
            return None
        return self.order(symbol, difference, **order_options)

    def _order(self, order_id: str) -> Order:
        try:
            return self.book.orders[order_id]
        except KeyError:
            raise OrderError(f"no order {order_id}") from None

    # ------------------------------------------------------------------ the engine's side
    def symbols_to_check(self) -> set[str]:
        """The symbols whose new bars the broker must see: those with working orders (none
        when the broker fills elsewhere, as a live one does)."""
        if getattr(self.broker, "on_bar", None) is None:
            return set()
        return set(self.book.working_symbols())

    def reacting(self, rows: np.ndarray, lows: np.ndarray, highs: np.ndarray) -> np.ndarray:
        """Which bars (of the symbols at ``rows``, in ``symbols``' order) the broker's working
        orders may react to (all, for a broker that cannot tell)."""
        reacting = getattr(self.broker, "reacting", None)
        return reacting(rows, lows, highs) if reacting else np.ones(len(rows), dtype=bool)

    def on_bars(self, symbols: list[str], start_ns: int, values: dict) -> None:
        """New base bars (one slot) of ``symbols`` (those of ``symbols_to_check``): the broker
        checks their working orders against them."""
        on_bar = getattr(self.broker, "on_bar", None)
        if on_bar is None:
            return
        # as Python floats: the broker compares them one by one (NumPy scalars are slower)
        columns = [np.asarray(values[f]).tolist() for f in BAR_FIELDS]
        for symbol, o, h, lo, c, v in zip(symbols, *columns, strict=True):
            on_bar(symbol, start_ns, o, h, lo, c, v)

    def apply_corporate_actions(self, day, actions: list[tuple[str, str, float]]) -> None:
        """Raw prices: a split multiplies the shares held and working and divides their prices;
        a cash dividend pays (or, short, costs) the amount per share held."""
        for symbol, kind, value in actions:
            held = self.portfolio.quantity(symbol)
            cash = 0.0
            if kind == "split":  # factor files round: 6.99999 new shares are 7
                value = float(Fraction(value).limit_denominator(1000))
                self.portfolio.split(symbol, value)
                for order in self.book.working(symbol):
                    order.split(value)
                self.book.touched(symbol)
                self.last_closes[self.symbol_index[symbol]] = (
                    self.last_close(symbol) or 0.0
                ) / value
            elif kind == "dividend" and held:
                cash = held * value
                self.portfolio.cash += cash
                self.portfolio.position(symbol).realized_pnl += cash
            if held or kind == "split":
                after = self.portfolio.quantity(symbol)
                self.corporate_actions.append(
                    (day, self.now_ns(), symbol, kind, value, held, after, cash)
                )

    def end_session(self, close_ns: int, closes: np.ndarray) -> None:
        """``closes``: each symbol's last close this session, NaN where it had none (the
        previous one is kept)."""
        self.broker.end_session(close_ns)
        self.last_closes = np.where(np.isnan(closes), self.last_closes, closes)

    @property
    def has_news(self) -> bool:
        """Whether there are events or fills the strategy has not been told of."""
        return len(self.book.events) > self._told_events or len(self.book.fills) > self._told_fills

    def news(self) -> tuple[list[OrderEvent], list[Fill]]:
        """Events and fills the strategy has not been told of yet."""
        events = self.book.events[self._told_events :]
        fills = self.book.fills[self._told_fills :]
        self._told_events += len(events)
        self._told_fills += len(fills)
        return events, fills
