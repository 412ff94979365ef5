"""Trading through Alpaca (``trade_api: "alpaca"``): alpaca-py's ``TradingClient`` for orders,
positions and the account, its ``TradingStream`` for trade updates.

The engine's ``Trader`` still checks every order against ``trading_config`` first; this broker
then sends it with a client order id (``simcore-<run>-<order id>``) so that a retried
submission is never a second order: after a 500 or a dropped answer it asks Alpaca for that id
before sending again. Trade updates arrive on the stream's own thread and are queued; ``poll``
applies them on the engine's thread, before the strategy's next bars, so the book, the
portfolio and the strategy's callbacks change in one place. Updates lost with a dropped stream
are found by asking: every ``reconcile_seconds`` (checked as bars arrive) the working
orders are read back and any fill not yet booked is booked at Alpaca's average price.

At the start (``reconcile``) the account's cash, positions and open orders are loaded: they are
the engine's from the first bar, not ignored. Paper by default; real money only with an
explicit flag.

Contingent orders go as Alpaca's own: a bracket or OTO entry as one request with
``order_class`` and its ``take_profit``/``stop_loss``, a one-cancels-other pair as one ``oco``
request, a trailing stop as ``trailing_stop`` with ``trail_price`` or ``trail_percent``. Alpaca
answers with the legs' ids, which are matched to the engine's legs; the legs' updates (held,
then new once the entry fills; canceled when the other leg fills) arrive like any order's. A
replace is Alpaca's replace request (``PATCH``), with its own client order id, so that a retry
after an unclear failure never replaces twice.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
import uuid
from collections.abc import Callable

from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.stream import TradingStream
from requests.exceptions import RequestException

from adapters.alpaca import sdk
from adapters.alpaca.keys import AlpacaKeys
from adapters.alpaca.order_requests import legs_in_order, order_from_alpaca, order_request
from adapters.alpaca.refusals import (
    CHANGES_ACCOUNT,
    Refused,
    TapeErrors,
    backoff,
    message_of,
    not_sent_after_stop,
)
from adapters.alpaca.wire import parse_time
from simcore.config.models import TradingConfig
from simcore.errors import DataError
from simcore.providers import CredentialsRejected
from simcore.trading.broker import book_fill
from simcore.trading.orders import Order, OrderBook, OrderStatus, OrderType, TimeInForce
from simcore.trading.portfolio import Portfolio

# Alpaca's order statuses and trade-update events, in the engine's words
STATUS = {
    "held": OrderStatus.HELD,
    "new": OrderStatus.ACCEPTED,
    "accepted": OrderStatus.ACCEPTED,
    "pending_new": OrderStatus.ACCEPTED,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "replaced": OrderStatus.REPLACED,
    "rejected": OrderStatus.REJECTED,
}


class AlpacaBroker:
    name = "alpaca"
    tape_errors = TapeErrors  # its dealings can be journaled, and a killed session resumed
    supports = frozenset({"bracket", "oto", "oco", "trailing_stop", "replace_leg"})

    def __init__(
        self,
        config: TradingConfig,
        book: OrderBook,
        portfolio: Portfolio,
        *,
        keys: AlpacaKeys,
        url: str | None = None,
        stream_url: str | None = None,
        paper: bool = True,
        reconcile_seconds: float = 5.0,
        retries: int = 4,
        sleep=time.sleep,
        now_ns: Callable[[], int] | None = None,
        connect_seconds: float = 10.0,
    ):
        self.config = config
        self.book = book
        self.portfolio = portfolio
        self.paper = paper
        self.client = TradingClient(
            keys.key, keys.secret, paper=paper, raw_data=True, url_override=url
        )
        sdk.no_retries(self.client)  # retries are this adapter's: idempotent by client order id
        self.stream = TradingStream(
            keys.key, keys.secret, paper=paper, raw_data=True, url_override=stream_url
        )
        self.stream.subscribe_trade_updates(self._on_update)
        self.updates: queue.SimpleQueue[dict] = queue.SimpleQueue()
        self.run_tag = uuid.uuid4().hex[:8]
        self.reconcile_seconds = reconcile_seconds
        self.retries = retries
        self.sleep = sleep
        self.now_ns = now_ns or time.time_ns  # the session's clock, for what Alpaca did not date
        self.connect_seconds = connect_seconds
        self._last_reconcile = 0.0
        self._by_broker: dict[str, Order] = {}
        self._canceling: dict[str, str] = {}  # order id -> why ("replaced": REPLACED then)
        self._closing: dict[str, int] = {}  # canceled at the session's close: EXPIRED then
        self._thread: threading.Thread | None = None
        self.errors: list[str] = []
        # the journal's tape (simcore.live.journal.Tape), through which every dealing with
        # Alpaca goes, played back when a killed session resumes (None: straight out)
        self.tape = None
        # resumed: an order's client id is asked for before it is sent ("stop": and not sent)
        self.resuming: bool | str = False

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Load the account (reconciliation), then listen for trade updates."""
        self.reconcile_account()
        self._thread = threading.Thread(target=self.stream.run, name="alpaca-trading", daemon=True)
        self._thread.start()
        # orders sent before the stream listens would be heard of only by reconciliation
        deadline = time.monotonic() + self.connect_seconds
        while not sdk.is_running(self.stream) and time.monotonic() < deadline:
            time.sleep(0.01)
        if not sdk.is_running(self.stream):
            self.errors.append("the trade-updates stream did not connect: polling orders only")

    def stop(self) -> None:
        if self._thread is None:
            return
        loop = sdk.event_loop(self.stream)
        if loop is None or not loop.is_running():
            sdk.stop_before_connect(self.stream)
        else:
            import asyncio

            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self.stream.stop_ws(), loop).result(5)
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self.stream.close(), loop).result(5)
        self._thread.join(15)

    def reconcile_account(self) -> None:
        """Cash, positions and open orders as Alpaca has them: the engine starts from there."""
        account = self._call("get_account", self.client.get_account)
        self.portfolio.cash = float(account["cash"])
        for held in self._call("get_all_positions", self.client.get_all_positions):
            p = self.portfolio.position(held["symbol"])
            p.quantity = float(held["qty"])  # negative for a short position
            p.average_price = float(held["avg_entry_price"])
        from alpaca.trading.requests import GetOrdersRequest

        open_orders = self._call(
            "get_orders", self.client.get_orders, GetOrdersRequest(status="open")
        )
        for raw in open_orders:
            order = order_from_alpaca(raw, self.book.new_id())
            self.book.add(order)
            self.book.record(
                order,
                STATUS.get(raw["status"], OrderStatus.ACCEPTED),
                order.placed_ns,
                "open at Alpaca when the session started",
            )
            self._by_broker[order.broker_id] = order

    def _io(self, name: str, method, *args):
        """One dealing with Alpaca, through the journal's tape when there is one (resumed to
        stop: beyond the tape, nothing that changes the account goes out)."""
        if self.tape is None:
            return method(*args)
        if self.resuming == "stop" and not self.tape.playing and name in CHANGES_ACCOUNT:
            return not_sent_after_stop(name)
        return self.tape.deal(name, method, *args)

    def _sleep(self, seconds: float) -> None:
        if self.tape is None or not self.tape.playing:  # a replayed retry waits for nothing
            self.sleep(seconds)

    def _call(self, name: str, method, *args):
        """A read (account, positions, orders), retried after 429, 5xx or a dropped answer."""
        for attempt in range(self.retries + 1):
            try:
                return self._io(name, method, *args)
            except APIError as exc:
                status = exc.status_code
                if status in (401, 403):
                    raise CredentialsRejected(
                        f"Alpaca refused the keys ({status}) for trading"
                    ) from None
                if status != 429 and (status is None or status < 500):
                    raise DataError(
                        f"Alpaca's trading API answered {status}: {message_of(exc)}"
                    ) from None
                self._sleep(backoff(exc, attempt))
            except RequestException as exc:
                if attempt == self.retries:
                    raise DataError(f"Alpaca's trading API did not answer: {exc}") from None
                self._sleep(min(10.0, 0.5 * 2**attempt))
        raise DataError(f"Alpaca's trading API kept failing after {self.retries} retries")

    # ------------------------------------------------------------------ orders
    def submit(self, order: Order, now_ns: int, last_price: float | None) -> None:
        """One request for the order and its group (legs, or the other leg of a pair)."""
        client_id = self._client_id(order)
        group = self._group(order)
        request = order_request(order, group, client_id)
        try:
            raw = self._submit_once(
                lambda: self._io("submit_order", self.client.submit_order, request), client_id
            )
        except Refused as refused:
            self.book.rejections.append(refused.rejection(order, now_ns))
            self.book.record(order, OrderStatus.REJECTED, now_ns, "broker")
            order.reason = refused.message
            for other in group:
                if other.open:
                    why = f"{order.id} of its group was rejected by the broker"
                    self.book.record(other, OrderStatus.REJECTED, now_ns, why)
            return
        self._take(order, raw)
        self.book.record(order, OrderStatus.ACCEPTED, now_ns)
        legs = legs_in_order(raw, group)
        if len(legs) != len(group):
            self.errors.append(f"order {order.id}: Alpaca answered {len(legs)} of its legs")
        for other, leg_raw in zip(group, legs, strict=False):
            self._take(other, leg_raw)
            if other.status != OrderStatus.HELD or leg_raw.get("status") != "held":
                self.book.record(other, OrderStatus.ACCEPTED, now_ns)

    def replace(self, old: Order, new: Order, now_ns: int, last_price: float | None) -> None:
        """Alpaca's replace request: the old order is ``replaced`` by one with Alpaca's new id
        (a fill that raced it is booked from the updates; Alpaca then rejects the new one)."""
        from alpaca.trading.requests import ReplaceOrderRequest

        client_id = self._client_id(new)
        terms = {"client_order_id": client_id}
        if new.quantity is not None and new.quantity != old.quantity - old.filled_quantity:
            terms["qty"] = new.quantity
        for name in ("limit_price", "stop_price"):
            if getattr(new, name) != getattr(old, name) and getattr(new, name) is not None:
                terms[name] = getattr(new, name)
        if new.type == OrderType.TRAILING_STOP:
            terms["trail"] = new.trail_price if new.trail_price is not None else new.trail_percent
        request = ReplaceOrderRequest(**terms)
        try:
            raw = self._submit_once(
                lambda: self._io(
                    "replace_order_by_id", self.client.replace_order_by_id, old.broker_id, request
                ),
                client_id,
            )
        except Refused as refused:
            self.book.rejections.append(refused.rejection(new, now_ns))
            self.book.record(new, OrderStatus.REJECTED, now_ns, "broker")
            new.reason = refused.message
            return
        self._canceling[old.id] = "replaced"
        if old.open:
            self.book.record(old, OrderStatus.REPLACED, now_ns, "replaced")
        self._take(new, raw)
        self.book.record(new, OrderStatus.ACCEPTED, now_ns)

    def _client_id(self, order: Order) -> str:
        return f"simcore-{self.run_tag}-{order.id}"

    def _group(self, order: Order) -> list[Order]:
        """The orders that go in ``order``'s request: its legs, or its pair's other leg."""
        if order.oco_id is not None and order.parent_id is None:
            return [self.book.orders[order.oco_id]]
        return self.book.legs(order)

    def _take(self, order: Order, raw: dict) -> None:
        order.broker_id = raw["id"]
        self._by_broker[order.broker_id] = order

    def _submit_once(self, send: Callable[[], dict], client_id: str) -> dict:
        """Send (a submission or a replace); after an unclear failure, ask for the client
        order id before sending again."""
        if self.resuming and (self.tape is None or not self.tape.playing):
            existing = self._by_client_id(client_id)
            if existing is not None:
                return existing  # sent before the kill: taken, not sent again
        for attempt in range(self.retries + 1):
            try:
                return send()
            except APIError as exc:
                status = exc.status_code
                if status in (401, 403) and "buying power" not in str(exc):
                    raise CredentialsRejected(
                        f"Alpaca refused the keys ({status}) for trading"
                    ) from None
                if status in (403, 422):
                    raise Refused(status, message_of(exc)) from None
                if status == 429 or (status is not None and status >= 500):
                    existing = self._by_client_id(client_id)
                    if existing is not None:
                        return existing  # it was taken: no second order
                    self._sleep(backoff(exc, attempt))
                    continue
                raise DataError(
                    f"Alpaca's trading API answered {status}: {message_of(exc)}"
                ) from None
            except RequestException:
                existing = self._by_client_id(client_id)
                if existing is not None:
                    return existing
                self._sleep(min(10.0, 0.5 * 2**attempt))
        raise DataError(f"Alpaca did not take order {client_id} after {self.retries} retries")

    def _by_client_id(self, client_id: str) -> dict | None:
        try:
            return self._io("get_order_by_client_id", self.client.get_order_by_client_id, client_id)
        except (APIError, RequestException):
            return None

    def cancel(self, order: Order, now_ns: int, reason: str = "") -> None:
        if not order.open or not order.broker_id:
            return
        """Ask Alpaca to cancel; the trade update says when it is (or that a fill came first).
        A replaced order is recorded at once, so that its successor's risk checks do not count
        it as working; a fill that still comes for it is booked all the same."""
        self._canceling[order.id] = reason
        try:
            self._io("cancel_order_by_id", self.client.cancel_order_by_id, order.broker_id)
        except (APIError, RequestException) as exc:  # filled or gone: the updates say which
            self.errors.append(f"cancel {order.id}: {exc}")
            return
        if reason == "replaced":
            self.book.record(order, OrderStatus.REPLACED, now_ns, "replaced")

    def end_session(self, close_ns: int) -> None:
        """DAY orders end with the session, as in a backtest. Alpaca expires those working at
        the close, but takes one sent after it for the next session: every DAY order still
        working here is read back, canceled at Alpaca if it is still open there, and recorded
        as expired at the close (a fill that raced the cancel is booked first)."""
        self.poll()
        day_orders = [o for o in self.book.working() if o.tif == TimeInForce.DAY]
        if not day_orders:
            return
        self.reconcile_orders()
        for order in [o for o in day_orders if o.open]:
            self._closing[order.id] = close_ns
            with contextlib.suppress(APIError, RequestException):  # gone already: read below
                self._io("cancel_order_by_id", self.client.cancel_order_by_id, order.broker_id)
        self.reconcile_orders()
        for order in day_orders:
            if order.open:
                self.book.record(order, OrderStatus.EXPIRED, close_ns, "the session closed")

    # ------------------------------------------------------------------ updates
    async def _on_update(self, message: dict) -> None:
        self.updates.put(message.get("data", message))

    def poll(self) -> None:
        """Apply the queued trade updates on the engine's thread; now and then, read the
        working orders back (an update lost with a dropped stream is found that way)."""
        while (update := self._io("update", self._next_update)) is not None:
            self._apply(update["order"], update.get("event"), update)
        if not self.book.any_working:
            return
        now = self._io("monotonic", time.monotonic)
        if now - self._last_reconcile >= self.reconcile_seconds:
            self._last_reconcile = now
            self.reconcile_orders()

    def _next_update(self) -> dict | None:
        try:
            return self.updates.get_nowait()
        except queue.Empty:
            return None

    def reconcile_orders(self) -> None:
        for order in self.book.working():
            if not order.broker_id:
                continue
            try:
                raw = self._io("get_order_by_id", self.client.get_order_by_id, order.broker_id)
            except (APIError, RequestException) as exc:
                self.errors.append(f"reconcile {order.id}: {exc}")
                continue
            self._apply(raw, None, None)

    def _apply(self, raw: dict, event: str | None, update: dict | None) -> None:
        """One order as Alpaca has it (a trade update's, or read back): book the shares filled
        since the engine last heard, then a close (canceled, expired, rejected) if it closed."""
        order = self._by_broker.get(raw["id"])
        if order is None:
            return  # not this run's
        # when it happened: the update's time, else the order's last change at Alpaca
        stamp = (update or {}).get("timestamp") or raw.get("updated_at")
        time_ns = parse_time(stamp) if stamp else self._io("now_ns", self.now_ns)
        if order.status == OrderStatus.HELD and raw.get("status") not in (None, "held"):
            order.quantity = float(raw["qty"]) if raw.get("qty") else order.quantity
            self.book.record(order, OrderStatus.ACCEPTED, time_ns, "its entry filled")
        if order.type == OrderType.TRAILING_STOP and raw.get("stop_price"):
            order.stop_price = float(raw["stop_price"])  # Alpaca's level, following its hwm
            order.trail_extreme = float(raw["hwm"]) if raw.get("hwm") else order.trail_extreme
        filled = float(raw.get("filled_qty") or 0)
        if filled > order.filled_quantity:
            self._book_fill(order, filled, raw, update, time_ns)
        status = STATUS.get(raw.get("status", ""))
        if status in (OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED) and (
            order.open
        ):
            detail = event or "reconciled"
            if status == OrderStatus.CANCELED and order.id in self._canceling:
                detail = self._canceling[order.id]
                if detail == "replaced":
                    status = OrderStatus.REPLACED
            elif status == OrderStatus.CANCELED and order.id in self._closing:
                status, time_ns = OrderStatus.EXPIRED, self._closing[order.id]
                detail = "the session closed"
            self.book.record(order, status, time_ns, detail)

    def _book_fill(
        self, order: Order, filled: float, raw: dict, update: dict | None, time_ns: int
    ) -> None:
        delta = filled - order.filled_quantity
        if update is not None and update.get("price") and float(update.get("qty") or 0) == delta:
            price = float(update["price"])  # this fill's own price
        else:  # fills were missed: what the new shares cost, from Alpaca's average over all
            # of them, rounded to a millionth of a dollar (finer than any US equity's tick) to
            # drop the float noise of averaging
            average = float(raw["filled_avg_price"])
            cost = average * filled - order.average_fill_price * order.filled_quantity
            price = round(cost / delta, 6)
        book_fill(
            self.book, self.portfolio, order, delta, price, time_ns, raw["status"] == "filled"
        )


def real_money_warning(paper: bool) -> str:
    if paper:
        return "orders go to your Alpaca paper account"
    return "LIVE TRADING: orders go to your Alpaca account with real money (--live-money)"
