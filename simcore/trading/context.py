"""What a strategy can do with orders and read of its account, through ``ctx``.

Mixed into ``StrategyContext``: every order goes through the session's ``Trader`` (risk checks,
then the broker). A refused order comes back with status ``rejected`` and its reason, and the
strategy's ``on_order_update`` is called with the event; nothing is resized to fit.
"""

from __future__ import annotations

from simcore.config.models import TradingConfig
from simcore.trading.orders import Order
from simcore.trading.portfolio import Position
from simcore.trading.trader import Trader


class TradingContext:
    trader: Trader

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
        """``quantity`` shares (positive buys, negative sells) or ``notional`` money; ``type``
        market, limit, stop, stop_limit or trailing_stop (with ``trail_price`` or
        ``trail_percent``); ``tif`` day, gtc or ioc. ``take_profit`` and/or ``stop_loss``
        (``stop_loss_limit``: as a stop-limit) add exit legs that work once it fills: a
        bracket, or with one of them an OTO (``simcore.trading.contingent``)."""
        return self.trader.order(
            symbol, quantity, notional=notional, type=type, limit_price=limit_price,
            stop_price=stop_price, tif=tif, trail_price=trail_price, trail_percent=trail_percent,
            take_profit=take_profit, stop_loss=stop_loss, stop_loss_limit=stop_loss_limit,
        )  # fmt: skip

    def oco(self, symbol: str, quantity: float, **exits) -> tuple[Order, Order]:
        """Two exits at once, ``quantity`` shares each (negative sells): a limit at
        ``take_profit``, a stop at ``stop_loss`` (``stop_loss_limit``: a stop-limit), ``tif``;
        the fill of one cancels the other (``Trader.oco``)."""
        return self.trader.oco(symbol, quantity, **exits)

    def buy(self, symbol: str, quantity: float | None = None, **options) -> Order:
        if quantity is not None:
            return self.order(symbol, abs(quantity), **options)
        options["notional"] = abs(options["notional"])
        return self.order(symbol, **options)

    def sell(self, symbol: str, quantity: float | None = None, **options) -> Order:
        if quantity is not None:
            return self.order(symbol, -abs(quantity), **options)
        options["notional"] = -abs(options["notional"])
        return self.order(symbol, **options)

    def cancel(self, order_id: str) -> None:
        self.trader.cancel(order_id)

    def replace(self, order_id: str, **terms) -> Order:
        """New ``quantity``, ``limit_price``, ``stop_price``, ``trail_price`` or
        ``trail_percent`` for a working order."""
        return self.trader.replace(order_id, **terms)

    def order_target_percent(self, symbol: str, percent: float, **options) -> Order | None:
        """Hold ``percent`` (0.25 = 25%) of equity in ``symbol``, in whole shares; negative is
        short. One order for the difference; None when there is none."""
        return self.trader.target_percent(symbol, percent, **options)

    def flatten(self, symbol: str | None = None) -> list[Order]:
        """Cancel the working orders of ``symbol`` (or all) and close its position(s)."""
        placed = []
        for order in self.trader.book.working(symbol):
            self.trader.cancel(order.id)
        for held in [symbol] if symbol else self.trader.portfolio.open_positions():
            quantity = self.trader.portfolio.quantity(held)
            if quantity:
                placed.append(self.order(held, -quantity))
        return placed

    # ------------------------------------------------------------------ the account
    def position(self, symbol: str) -> Position:
        return self.trader.portfolio.positions.get(symbol) or Position(symbol)

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return self.trader.book.working(symbol)

    def legs(self, entry: Order) -> list[Order]:
        """The exit legs of a bracket or OTO entry (held, working or done)."""
        return self.trader.book.legs(entry)

    @property
    def cash(self) -> float:
        return self.trader.portfolio.cash

    @property
    def equity(self) -> float:
        return self.trader.equity()

    @property
    def buying_power(self) -> float:
        return self.trader.buying_power()

    @property
    def limits(self) -> TradingConfig:
        """The session's ``trading_config``: what the risk checks allow."""
        return self.trader.config

    def price(self, symbol: str) -> float | None:
        """The last price the strategy can see (the latest base bar's close)."""
        return self.trader.price(symbol)
