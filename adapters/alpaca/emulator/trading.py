"""The trading half of the Alpaca emulator: an account, its orders and positions, and the
trade-updates stream, as alpaca-py's ``TradingClient`` and ``TradingStream`` speak to them.

Orders are matched against the emulator's own market data, bar by bar as it publishes them,
by the emulators' shared paper desk (``adapters.loopback.desk``: simcore's paper-broker rules,
a market order at the next bar's open, limits and stops at their price or a gapping open). A
DAY order that arrives after the close waits for the next session, as Alpaca queues it. Every
change of an order is a trade update (``new``, ``partial_fill``, ``fill``, ``canceled``,
``expired``, ``replaced``, ``rejected``) on the ``/stream`` websocket (JSON frames,
``authenticate`` then ``listen``).

Contingent orders as Alpaca takes them: ``order_class`` ``bracket``/``oto`` with
``take_profit``/``stop_loss`` (the legs are answered in ``legs``, ``held`` until the entry
fills), ``oco`` (a limit at ``take_profit.limit_price``, its stop leg in ``legs``), and
``trailing_stop`` with ``trail_price`` or ``trail_percent``; they follow the paper broker's
rules (``simcore.trading.contingent``). ``PATCH /v2/orders/{id}`` replaces an order: the old one
ends ``replaced`` (``replaced_by``), the new one (``replaces``) works from then.

Faults (``TradingFaults``): refused orders (403 insufficient buying power), partial fills (a
participation cap), trade updates lost to a dropped stream (the engine must find the fills by
asking), and 429 / 500 answers to a submission (the 500 after the order was taken, the case
that makes a client's retry dangerous without a client order id).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from adapters.alpaca import wire
from adapters.loopback.desk import PaperDesk
from simcore.trading.order_terms import stop_loss_leg, take_profit_leg
from simcore.trading.orders import Order, OrderClass, OrderEvent, OrderType, TimeInForce

EVENTS = {
    "accepted": "new",
    "partially_filled": "partial_fill",
    "filled": "fill",
    "canceled": "canceled",
    "expired": "expired",
    "replaced": "replaced",
    "rejected": "rejected",
}
STATUS = {
    "held": "held",
    "accepted": "new",
    "partially_filled": "partially_filled",
    "filled": "filled",
    "canceled": "canceled",
    "expired": "expired",
    "replaced": "replaced",
    "rejected": "rejected",
}


@dataclass
class TradingFaults:
    reject_orders: int = 0  # the next N submissions: 403 insufficient buying power
    max_participation: float | None = None  # fill at most this share of a bar's volume
    lose_updates: int = 0  # the next N trade updates are lost (the stream drops before them)
    submit_429: int = 0  # the next N submissions: 429, order not taken
    submit_500: int = 0  # the next N submissions: 500, the order taken all the same
    replace_500: int = 0  # the next N replaces: 500, the replace done all the same


class TradingDesk(PaperDesk):
    """The shared paper desk, spoken to in Alpaca's trading API."""

    def __init__(
        self,
        cash: float = 100_000.0,
        faults: TradingFaults | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ):
        self.faults = faults or TradingFaults()
        super().__init__(cash, clock_ns, self.faults.max_participation)
        self.by_client: dict[str, str] = {}  # client order id -> order id
        self.alpaca_id: dict[str, str] = {}  # our order id -> Alpaca's (a uuid)
        self.client_of: dict[str, str] = {}
        self.updated: dict[str, dict[str, int]] = {}  # order id -> {event kind: when}
        self.replaced: dict[str, str] = {}  # order id -> the order that replaced it
        self.listeners: list = []  # callables taking a JSON text frame
        self.lost: list[dict] = []  # updates the stream never carried (fault)
        self._sent_fills = 0

    # ------------------------------------------------------------------ REST
    def handle(self, method: str, path: str, query: dict, body: dict | None) -> tuple[int, object]:
        with self.lock:
            if path == "/v2/account" and method == "GET":
                return 200, self._account()
            if path == "/v2/positions" and method == "GET":
                return 200, [self._position(s) for s in self.portfolio.open_positions()]
            if path == "/v2/orders" and method == "POST":
                return self._submit(body or {})
            if path == "/v2/orders" and method == "GET":
                status = query.get("status", ["open"])[0]
                orders = [
                    self._order_json(o)
                    for o in self.book.orders.values()
                    if status == "all" or (o.open if status == "open" else not o.open)
                ]
                return 200, orders
            if path == "/v2/orders:by_client_order_id" and method == "GET":
                order_id = self.by_client.get(query.get("client_order_id", [""])[0])
                if order_id is None:
                    return 404, {"code": 40410000, "message": "order not found"}
                return 200, self._order_json(self.book.orders[order_id])
            if path.startswith("/v2/orders/"):
                return self._one_order(method, path.rsplit("/", 1)[1], body or {})
        return 404, {"code": 40410000, "message": f"endpoint not found: {path}"}

    def _submit(self, body: dict) -> tuple[int, object]:
        faults = self.faults
        if faults.submit_429 > 0:
            faults.submit_429 -= 1
            return 429, {"code": 42910000, "message": "rate limit exceeded"}
        client = body.get("client_order_id") or str(uuid.uuid4())
        if client in self.by_client:
            return 422, {"code": 42210000, "message": "client_order_id must be unique"}
        if faults.reject_orders > 0:
            faults.reject_orders -= 1
            return 403, {"code": 40310000, "message": "insufficient buying power"}
        try:
            order, legs = self._order_of(body)
        except (KeyError, ValueError, TypeError) as exc:
            return 422, {"code": 42210000, "message": f"invalid order: {exc}"}
        if order.type == OrderType.TRAILING_STOP and order.symbol not in self.last_close:
            return 422, {"code": 42210000, "message": "no price yet to trail from"}
        for placed in (order, *legs):
            self.alpaca_id[placed.id] = str(uuid.uuid4())
        self.by_client[client] = order.id
        self.client_of[order.id] = client
        if order.order_class == OrderClass.OCO:  # both legs work at once
            (other,) = legs
            order.oco_id, other.oco_id = other.id, order.id
            self.book.add(order)
            self.book.add(other)
            self.place(order)
        else:
            self.place(order, legs)
        if faults.submit_500 > 0:  # the order is taken, the answer is lost
            faults.submit_500 -= 1
            return 500, {"code": 50010000, "message": "internal server error"}
        return 200, self._order_json(order)

    def _order_of(self, body: dict) -> tuple[Order, list[Order]]:
        """The order a request body asks for, and its legs (held) or its pair's other leg."""

        def price(part: dict | None, name: str) -> float | None:
            value = (part or {}).get(name)
            return float(value) if value is not None else None

        order_class = OrderClass(body.get("order_class") or "simple")
        take, stop = body.get("take_profit"), body.get("stop_loss")
        order = Order(
            self.book.new_id(),
            body["symbol"],
            body["side"],
            float(body["qty"]) if body.get("qty") is not None else None,
            float(body["notional"]) if body.get("notional") is not None else None,
            OrderType(body.get("type", "market")),
            price(body, "limit_price") or (price(take, "limit_price") if order_class == "oco" else None),
            price(body, "stop_price"),
            TimeInForce(body.get("time_in_force", "day")),
            self.now_ns(),
            order_class=order_class,
            trail_price=price(body, "trail_price"),
            trail_percent=price(body, "trail_percent"),
        )  # fmt: skip
        if order_class == OrderClass.SIMPLE:
            return order, []
        if order_class == OrderClass.OCO:
            order.leg = "take_profit"
            other = self._leg(order, order.side, None, stop)
            other.quantity, other.parent_id = order.quantity, None
            return order, [other]
        exit_side = "sell" if order.side == "buy" else "buy"
        legs = []
        if take is not None:
            legs.append(self._leg(order, exit_side, take, None))
        if stop is not None:
            legs.append(self._leg(order, exit_side, None, stop))
        if len(legs) == 2:
            legs[0].oco_id, legs[1].oco_id = legs[1].id, legs[0].id
        return order, legs

    def _leg(self, order: Order, side: str, take: dict | None, stop: dict | None) -> Order:
        """A take-profit (a limit at ``take``) or stop-loss leg (a stop, or a stop-limit)."""
        if take is not None:
            return take_profit_leg(self.book.new_id(), order, side, float(take["limit_price"]))
        limit = stop.get("limit_price")
        return stop_loss_leg(
            self.book.new_id(), order, side, float(stop["stop_price"]),
            float(limit) if limit is not None else None,
        )  # fmt: skip

    def _replace(self, order: Order, body: dict) -> tuple[int, object]:
        """``PATCH /v2/orders/{id}``: new terms, as a new order in the old one's place."""
        if not order.open or order.status.value == "held":
            return 422, {"code": 42210000, "message": f"order is {STATUS[order.status.value]}"}
        client = body.get("client_order_id") or str(uuid.uuid4())
        if client in self.by_client:
            return 422, {"code": 42210000, "message": "client_order_id must be unique"}

        def given(name: str, default):
            return float(body[name]) if body.get(name) is not None else default

        trail = given("trail", None)
        new = Order(
            self.book.new_id(), order.symbol, order.side,
            given("qty", order.quantity - order.filled_quantity if order.quantity else None),
            order.notional, order.type, given("limit_price", order.limit_price),
            None if order.type == OrderType.TRAILING_STOP else given("stop_price", order.stop_price),
            TimeInForce(body.get("time_in_force") or order.tif.value), self.now_ns(),
            order_class=order.order_class, parent_id=order.parent_id, oco_id=order.oco_id,
            leg=order.leg,
            trail_price=trail if trail is not None and order.trail_price is not None else order.trail_price,
            trail_percent=trail if trail is not None and order.trail_percent is not None else order.trail_percent,
        )  # fmt: skip
        self.alpaca_id[new.id] = str(uuid.uuid4())
        self.by_client[client] = new.id
        self.client_of[new.id] = client
        self.replaced[order.id] = new.id
        self.replace(order, new)
        if self.faults.replace_500 > 0:  # the replace is done, the answer is lost
            self.faults.replace_500 -= 1
            return 500, {"code": 50010000, "message": "internal server error"}
        return 200, self._order_json(new)

    def _one_order(self, method: str, alpaca_id: str, body: dict) -> tuple[int, object]:
        ours = next((k for k, v in self.alpaca_id.items() if v == alpaca_id), None)
        if ours is None:
            return 404, {"code": 40410000, "message": "order not found"}
        order = self.book.orders[ours]
        if method == "GET":
            return 200, self._order_json(order)
        if method == "DELETE":
            if not order.open:
                return 422, {"code": 42210000, "message": f"order is already {order.status.value}"}
            self.cancel(order, "canceled by the client")
            return 204, None
        if method == "PATCH":
            return self._replace(order, body)
        return 405, {"code": 40510000, "message": "method not allowed"}

    # ------------------------------------------------------------------ updates
    def announce(self, events: list[OrderEvent]) -> None:
        """Each order event as a trade update on the ``/stream`` websocket."""
        for event in events:
            if event.kind not in EVENTS:
                continue  # a leg held until its entry fills: Alpaca sends nothing then
            order = self.book.orders[event.order_id]
            self.updated.setdefault(order.id, {})[event.kind] = event.time_ns
            data = {
                "event": EVENTS[event.kind],
                "timestamp": wire.rfc3339(event.time_ns),
                "order": self._order_json(order),
            }
            if event.kind in ("filled", "partially_filled"):  # one fill per such event, in order
                fill = self.book.fills[self._sent_fills]
                self._sent_fills += 1
                data |= {
                    "price": str(fill.price),
                    "qty": str(fill.quantity),
                    "position_qty": str(self.portfolio.quantity(order.symbol)),
                }
            frame = {"stream": "trade_updates", "data": data}
            if self.faults.lose_updates > 0 and event.kind in ("filled", "partially_filled"):
                self.faults.lose_updates -= 1
                self.lost.append(frame)
                continue
            text = json.dumps(frame)
            for send in list(self.listeners):
                send(text)

    # ------------------------------------------------------------------ JSON
    def _order_json(self, o: Order, as_leg: bool = False) -> dict:
        def num(v: float | None) -> str | None:
            return None if v is None else str(v)

        legs = self.book.legs(o)
        if o.order_class == OrderClass.OCO and o.leg == "take_profit" and o.oco_id:
            legs = [self.book.orders[o.oco_id]]
        replaced_by = self.replaced.get(o.id)
        replaces = next((old for old, new in self.replaced.items() if new == o.id), None)

        times = self.updated.get(o.id, {})

        def at(*kinds: str) -> str | None:
            moments = [times[k] for k in kinds if k in times]
            return wire.rfc3339(max(moments)) if moments else None

        return {
            "id": self.alpaca_id[o.id],
            "client_order_id": self.client_of.get(o.id, self.alpaca_id[o.id]),
            "order_class": o.order_class.value,
            "legs": None if as_leg or not legs else [self._order_json(leg, True) for leg in legs],
            "trail_price": num(o.trail_price),
            "trail_percent": num(o.trail_percent),
            "hwm": num(o.trail_extreme),
            "replaced_by": self.alpaca_id[replaced_by] if replaced_by else None,
            "replaces": self.alpaca_id[replaces] if replaces else None,
            "symbol": o.symbol,
            "side": o.side,
            "qty": num(o.quantity),
            "notional": num(o.notional),
            "filled_qty": str(o.filled_quantity),
            "filled_avg_price": num(o.average_fill_price) if o.filled_quantity else None,
            "type": o.type.value,
            "order_type": o.type.value,
            "time_in_force": o.tif.value,
            "limit_price": num(o.limit_price),
            "stop_price": num(o.stop_price),
            "status": STATUS[o.status.value],
            "created_at": wire.rfc3339(o.placed_ns),
            "submitted_at": wire.rfc3339(o.placed_ns),
            "updated_at": at(*STATUS) or wire.rfc3339(o.placed_ns),
            "filled_at": at("filled"),
            "canceled_at": at("canceled", "replaced"),
            "expired_at": at("expired"),
            "asset_class": "us_equity",
            "extended_hours": False,
        }

    def _position(self, symbol: str) -> dict:
        p = self.portfolio.positions[symbol]
        return {
            "symbol": symbol,
            "qty": str(p.quantity),
            "avg_entry_price": str(p.average_price),
            "side": "long" if p.quantity > 0 else "short",
            "asset_class": "us_equity",
        }

    def _account(self) -> dict:
        return {
            "id": "emulated-account",
            "account_number": "EMULATED",
            "status": "ACTIVE",
            "currency": "USD",
            "cash": str(self.portfolio.cash),
            "buying_power": str(self.portfolio.cash),
            "pattern_day_trader": False,
        }

    # ------------------------------------------------------------------ trade updates
    async def serve_updates(self, ws: ServerConnection, key: str | None, secret: str | None):
        """One connection of alpaca-py's TradingStream: JSON frames, ``authenticate``, then
        ``listen``; every order event from then on is sent as a ``trade_updates`` frame."""
        loop = asyncio.get_running_loop()

        def send(text: str) -> None:  # called by the desk, from any thread
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(_quiet(ws.send(text))))

        try:
            request = json.loads(await asyncio.wait_for(ws.recv(), 10))
            data = request.get("data", {})
            keys = (data.get("key_id"), data.get("secret_key"))
            authorized = key is None or keys == (key, secret)
            status = "authorized" if authorized else "unauthorized"
            reply = {
                "stream": "authorization",
                "data": {"status": status, "action": "authenticate"},
            }
            await ws.send(json.dumps(reply))
            if not authorized:
                await ws.close()
                return
            async for frame in ws:
                message = json.loads(frame)
                if message.get("action") != "listen":
                    continue
                streams = message.get("data", {}).get("streams", [])
                await ws.send(json.dumps({"stream": "listening", "data": {"streams": streams}}))
                if "trade_updates" in streams and send not in self.listeners:
                    self.listeners.append(send)
        except (TimeoutError, ConnectionClosed, ValueError):
            pass
        finally:
            if send in self.listeners:
                self.listeners.remove(send)


async def _quiet(sending) -> None:
    """Send, and forget a connection that closed meanwhile."""
    with contextlib.suppress(ConnectionClosed):
        await sending
