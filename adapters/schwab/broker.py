"""Trading through Schwab (``trade_api: "schwab"``): schwab-py's trader API for orders,
positions and the account.

The engine's ``Trader`` checks every order against ``trading_config`` first; this broker then
places it in the account schwab-py names by its hash. Schwab has no order-update stream here
and no client order ids: ``poll`` reads the working orders back every ``poll_seconds`` of
session time and books each new execution leg at its own quantity, price and time. A placement whose answer was lost
(5xx, 429, a dropped connection) is looked up among the account's orders before it is sent
again, by symbol, instruction, quantity and entry time, so that a retry is never a second order.
At the start the cash, positions and working orders are loaded (reconciliation). Day orders
still working at the close are canceled and recorded expired, as in a backtest.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from datetime import datetime

import httpx
from schwab.client import Client

from adapters.schwab.credentials import LOGIN_FLOW
from adapters.schwab.orders import DURATIONS, TYPES, leaves, order_spec
from simcore.config.models import TradingConfig
from simcore.errors import DataError
from simcore.providers import CredentialsRejected
from simcore.trading.broker import book_fill
from simcore.trading.orders import (
    Order,
    OrderBook,
    OrderStatus,
    Rejection,
    TimeInForce,
)
from simcore.trading.portfolio import Portfolio

CLOSED = {"CANCELED": OrderStatus.CANCELED, "EXPIRED": OrderStatus.EXPIRED,
          "REJECTED": OrderStatus.REJECTED, "REPLACED": OrderStatus.REPLACED}  # fmt: skip


class SchwabBroker:
    name = "schwab"
    # TRIGGER and OCO strategies. Refused before sending: trailing stops (Schwab's are not
    # sent from here) and replacing a leg (a cancel and a new order would leave its group)
    supports = frozenset({"bracket", "oto", "oco"})

    def __init__(
        self,
        config: TradingConfig,
        book: OrderBook,
        portfolio: Portfolio,
        *,
        client: Client,
        poll_seconds: float = 2.0,
        retries: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        now_ns: Callable[[], int] = time.time_ns,
    ):
        self.config, self.book, self.portfolio = config, book, portfolio
        self.client = client
        self.poll_seconds, self.retries, self.sleep, self.now_ns = (
            poll_seconds, retries, sleep, now_ns,
        )  # fmt: skip
        self.account_hash = ""
        self._by_schwab: dict[int, Order] = {}
        self._legs: dict[str, int] = {}  # order id -> execution legs booked
        self._closing: dict[str, int] = {}
        self._replacing: set[str] = set()  # canceled to be replaced: REPLACED then
        self._last_poll = -math.inf  # session seconds of the last poll
        self.errors: list[str] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        accounts = self._json(self.client.get_account_numbers())
        if not accounts:
            raise DataError("Schwab lists no account for these credentials")
        self.account_hash = accounts[0]["hashValue"]
        self.reconcile_account()

    def stop(self) -> None:
        """Nothing runs in the background: polling happens on the engine's thread."""

    def reconcile_account(self) -> None:
        """Cash, positions and working orders as Schwab has them: the engine starts there."""
        account = self._json(
            self.client.get_account(self.account_hash, fields=[Client.Account.Fields.POSITIONS])
        )["securitiesAccount"]
        self.portfolio.cash = float(account["currentBalances"]["cashBalance"])
        for held in account.get("positions", []):
            p = self.portfolio.position(held["instrument"]["symbol"])
            p.quantity = float(held["longQuantity"]) - float(held["shortQuantity"])
            p.average_price = float(held["averagePrice"])
        orders = self._json(self.client.get_orders_for_account(self.account_hash))
        for raw in [leaf for top in orders for leaf in leaves(top)]:
            if raw["status"] not in ("WORKING", "PENDING_ACTIVATION", "QUEUED", "ACCEPTED"):
                continue
            if int(raw["orderId"]) in self._by_schwab:
                continue  # listed both alone and inside its strategy
            leg = raw["orderLegCollection"][0]
            order = Order(
                self.book.new_id(), leg["instrument"]["symbol"],
                "buy" if leg["instruction"].startswith("BUY") else "sell",
                float(raw["quantity"]), None,
                next(k for k, v in TYPES.items() if v == raw["orderType"]),
                raw.get("price"), raw.get("stopPrice"),
                next(k for k, v in DURATIONS.items() if v == raw["duration"]), self.now_ns(),
            )  # fmt: skip
            order.broker_id = str(raw["orderId"])
            self.book.add(order)
            self.book.record(
                order, OrderStatus.ACCEPTED, order.placed_ns,
                "open at Schwab when the session started",
            )  # fmt: skip
            self._by_schwab[int(raw["orderId"])] = order
            self._book_legs(order, raw)

    # ------------------------------------------------------------------ orders
    def submit(self, order: Order, now_ns: int, last_price: float | None) -> None:
        """One placement for the order and its group (legs, or its pair's other order); the
        orders inside are matched to the engine's from Schwab's view of the placement."""
        group = self._group(order)
        if order.quantity is None:
            self._refuse(
                order, group, now_ns, 0, "Schwab orders are in shares: notional is not sent"
            )
            return
        number = self._place(order, group, now_ns)
        if number is None:
            return
        pair = order.parent_id is None and order.oco_id is not None
        if not group:
            self._take(order, number)
        else:
            raw = self._json(self.client.get_order(number, self.account_hash))
            inside = list(leaves(raw))
            ours = ([order] if pair else []) + group
            if not pair:
                self._take(order, number)
                inside = inside[1:]
            for mine, theirs in zip(ours, inside, strict=False):
                self._take(mine, int(theirs["orderId"]))
        self.book.record(order, OrderStatus.ACCEPTED, now_ns)
        if pair:
            self.book.record(group[0], OrderStatus.ACCEPTED, now_ns)

    def _group(self, order: Order) -> list[Order]:
        if order.parent_id is None and order.oco_id is not None:
            return [self.book.orders[order.oco_id]]
        return self.book.legs(order)

    def _take(self, order: Order, number: int) -> None:
        order.broker_id = str(number)
        self._by_schwab[number] = order

    def _place(self, order: Order, group: list[Order], now_ns: int) -> int | None:
        """Place the spec; after an unclear failure, look for it before placing again."""
        spec = order_spec(order, group)
        for attempt in range(self.retries + 1):
            try:
                response = self.client.place_order(self.account_hash, spec)
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code in (200, 201):
                return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
            if response is not None and response.status_code in (401, 403):
                raise CredentialsRejected(
                    f"Schwab refused the token ({response.status_code}): {LOGIN_FLOW}"
                )
            if (
                response is not None
                and 400 <= response.status_code < 500
                and response.status_code != 429
            ):
                self._refuse(order, group, now_ns, response.status_code, response.text[:200])
                return None
            taken = self._placed_since(order)
            if taken is not None:
                return taken
            self.sleep(min(10.0, 0.5 * 2**attempt))
        raise DataError(f"Schwab did not take order {order.id} after {self.retries} retries")

    def _placed_since(self, order: Order) -> int | None:
        """An order of the account entered for this one whose answer was lost, if any."""
        try:
            orders = self._json(self.client.get_orders_for_account(self.account_hash))
        except (DataError, httpx.HTTPError):
            return None
        for raw in orders:
            first = next(leaves(raw), None)  # an OCO pair: its first order
            if first is None:
                continue
            leg = first["orderLegCollection"][0]
            if (
                int(raw["orderId"]) not in self._by_schwab
                and leg["instrument"]["symbol"] == order.symbol
                and leg["instruction"].startswith("BUY" if order.side == "buy" else "SELL")
                and float(first["quantity"]) == order.quantity
            ):
                return int(raw["orderId"])
        return None

    def _refuse(
        self, order: Order, group: list[Order], now_ns: int, status: int, message: str
    ) -> None:
        order.reason = message
        self.book.rejections.append(
            Rejection(order.id, order.symbol, now_ns, "broker", 0.0, float(status), message)
        )
        self.book.record(order, OrderStatus.REJECTED, now_ns, "broker")
        for other in group:
            if other.open:
                why = f"{order.id} of its group was rejected by the broker"
                self.book.record(other, OrderStatus.REJECTED, now_ns, why)

    def replace(self, old: Order, new: Order, now_ns: int, last_price: float | None) -> None:
        """A cancel, then the new order (not Schwab's replace request: a fill of the old order
        that comes first is booked, and the new order is sent all the same)."""
        self.cancel(old, now_ns, "replaced")
        self.submit(new, now_ns, last_price)

    def cancel(self, order: Order, now_ns: int, reason: str = "") -> None:
        if not order.open or not order.broker_id:
            return
        try:
            self.client.cancel_order(int(order.broker_id), self.account_hash)
        except httpx.HTTPError as exc:
            self.errors.append(f"cancel {order.id}: {exc}")
            return
        if reason == "replaced":
            self._replacing.add(order.id)
        self._refresh(order)  # a fill that came first is booked first
        if order.open:
            kind = OrderStatus.REPLACED if reason == "replaced" else OrderStatus.CANCELED
            self.book.record(order, kind, now_ns, reason)

    def end_session(self, close_ns: int) -> None:
        self.poll(force=True)
        for order in [o for o in self.book.working() if o.tif == TimeInForce.DAY]:
            self._closing[order.id] = close_ns
            with contextlib.suppress(httpx.HTTPError):
                self.client.cancel_order(int(order.broker_id), self.account_hash)
            self._refresh(order)
            if order.open:
                self.book.record(order, OrderStatus.EXPIRED, close_ns, "the session closed")

    # ------------------------------------------------------------------ updates
    def poll(self, force: bool = False) -> None:
        """Read the working orders back (every ``poll_seconds`` of session time: a rehearsal
        at 150 times the clock asks as often per session minute as a live session): new
        execution legs are booked as fills, closed orders recorded."""
        now = self.now_ns() / 1e9
        if not force and now - self._last_poll < self.poll_seconds:
            return
        self._last_poll = now
        for order in self.book.working():
            if order.broker_id:
                self._refresh(order)

    def _refresh(self, order: Order) -> None:
        try:
            raw = self._json(self.client.get_order(int(order.broker_id), self.account_hash))
        except (DataError, httpx.HTTPError) as exc:
            self.errors.append(f"order {order.id}: {exc}")
            return
        self._book_legs(order, raw)
        self._wake_legs(order, raw)
        closed = CLOSED.get(raw["status"])
        if closed is not None and order.open:
            if closed == OrderStatus.CANCELED and order.id in self._replacing:
                self.book.record(order, OrderStatus.REPLACED, self.now_ns(), "replaced")
            elif closed == OrderStatus.CANCELED and order.id in self._closing:
                self.book.record(
                    order, OrderStatus.EXPIRED, self._closing[order.id], "the session closed"
                )
            else:
                self.book.record(order, closed, self.now_ns(), raw["status"].lower())

    def _wake_legs(self, entry: Order, raw: dict) -> None:
        """Legs Schwab has started working since the entry filled: working in the engine too,
        from the entry's last fill, for the quantity Schwab gives them."""
        for child in list(leaves(raw))[1:]:
            leg = self._by_schwab.get(int(child["orderId"]))
            if leg is None or leg.status != OrderStatus.HELD:
                continue
            if child["status"] != "AWAITING_PARENT_ORDER":
                leg.quantity = float(child["quantity"])
                filled_at = [f.time_ns for f in self.book.fills if f.order_id == entry.id]
                when = filled_at[-1] if filled_at else self.now_ns()
                self.book.record(leg, OrderStatus.ACCEPTED, when, f"its entry {entry.id} filled")

    def _book_legs(self, order: Order, raw: dict) -> None:
        legs = [
            leg
            for activity in raw.get("orderActivityCollection", [])
            for leg in activity.get("executionLegs", [])
        ]
        for leg in legs[self._legs.get(order.id, 0) :]:
            time_ns = int(datetime.fromisoformat(leg["time"]).timestamp() * 1e9)
            quantity, price = float(leg["quantity"]), float(leg["price"])
            book_fill(self.book, self.portfolio, order, quantity, price, time_ns)
        self._legs[order.id] = len(legs)

    def _json(self, response: httpx.Response):
        if response.status_code in (401, 403):
            raise CredentialsRejected(
                f"Schwab refused the token ({response.status_code}): {LOGIN_FLOW}"
            )
        if response.status_code >= 400:
            raise DataError(
                f"Schwab's trader API answered {response.status_code}: {response.text[:200]}"
            )
        return response.json()
