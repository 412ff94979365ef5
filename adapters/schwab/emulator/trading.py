"""The Schwab emulator's trader API: one account on the emulators' shared paper desk
(``adapters.loopback.desk``: the paper broker's rules on the bars the emulator publishes), in
Schwab's wire format.

``GET /trader/v1/accounts/accountNumbers``, ``GET /trader/v1/accounts/{hash}?fields=positions``,
``POST .../{hash}/orders`` (201 with the order's URL in ``Location``), ``GET .../orders`` and
``.../orders/{id}`` (status, ``filledQuantity``, each execution leg's quantity, price and time),
``DELETE .../orders/{id}``.

Contingent orders as schwab-py's builders make them: ``TRIGGER`` (an entry whose
``childOrderStrategies`` work once it fills: one order, or an ``OCO`` of a take-profit and a
stop-loss) and ``OCO`` (two orders, the fill of one cancels the other; the pair has its own
number, each order too). A child waiting for its entry is ``AWAITING_PARENT_ORDER``. They
follow the paper broker's rules (``simcore.trading.contingent``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from adapters.loopback.desk import PaperDesk
from simcore.trading.orders import Order, OrderClass, OrderStatus, OrderType, TimeInForce

ACCOUNT_NUMBER, ACCOUNT_HASH = "12345678", "E7A1B2C3D4"
STATUS = {
    OrderStatus.HELD: "AWAITING_PARENT_ORDER",
    OrderStatus.ACCEPTED: "WORKING",
    OrderStatus.PARTIALLY_FILLED: "WORKING",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELED: "CANCELED",
    OrderStatus.REPLACED: "REPLACED",
    OrderStatus.EXPIRED: "EXPIRED",
    OrderStatus.REJECTED: "REJECTED",
}
TYPES = {"MARKET": OrderType.MARKET, "LIMIT": OrderType.LIMIT, "STOP": OrderType.STOP,
         "STOP_LIMIT": OrderType.STOP_LIMIT}  # fmt: skip
DURATIONS = {"DAY": TimeInForce.DAY, "GOOD_TILL_CANCEL": TimeInForce.GTC,
             "IMMEDIATE_OR_CANCEL": TimeInForce.IOC}  # fmt: skip


class SchwabTrader:
    def __init__(self, desk: PaperDesk, base_url: str, faults=None):
        self.desk = desk
        self.faults = faults  # SchwabFaults: place_500 takes an order and answers 500
        self.base_url = base_url  # for the Location header
        self.numbers: dict[str, int] = {}  # our order id -> Schwab's (a number)
        self.pairs: dict[int, tuple[str, str]] = {}  # an OCO pair's own number -> its orders

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, object, dict]:
        parts = path.strip("/").split("/")  # trader v1 accounts ...
        if parts[3:] == ["accountNumbers"]:
            return 200, [{"accountNumber": ACCOUNT_NUMBER, "hashValue": ACCOUNT_HASH}], {}
        if len(parts) < 4 or parts[3] != ACCOUNT_HASH:
            return 404, {"message": "no such account", "errors": ["not found"]}, {}
        with self.desk.lock:
            if len(parts) == 4 and method == "GET":
                return 200, self._account(), {}
            if parts[4:] == ["orders"] and method == "POST":
                return self._place(json.loads(body or b"{}"))
            if parts[4:] == ["orders"] and method == "GET":
                orders = [self._order(o) for o in self.desk.book.orders.values()]
                pairs = [self._pair(n, [self.desk.book.orders[i] for i in ids])
                         for n, ids in self.pairs.items()]  # fmt: skip
                return 200, orders + pairs, {}
            if len(parts) == 6 and parts[4] == "orders":
                return self._one(method, parts[5])
        return 404, {"message": f"no route {method} {path}"}, {}

    def _account(self) -> dict:
        positions = []
        for symbol in self.desk.portfolio.open_positions():
            p = self.desk.portfolio.position(symbol)
            positions.append({
                "longQuantity": max(p.quantity, 0.0), "shortQuantity": max(-p.quantity, 0.0),
                "averagePrice": p.average_price,
                "instrument": {"symbol": symbol, "assetType": "EQUITY"},
            })  # fmt: skip
        cash = self.desk.portfolio.cash
        balances = {"cashBalance": cash, "buyingPower": cash}
        return {"securitiesAccount": {"type": "MARGIN", "accountNumber": ACCOUNT_NUMBER,
                                      "positions": positions, "currentBalances": balances}}  # fmt: skip

    def _place(self, spec: dict) -> tuple[int, object, dict]:
        try:
            top, legs, pair = self._orders_of(spec)
        except (KeyError, ValueError, IndexError) as exc:
            return 400, {"message": f"invalid order: {exc}", "errors": [str(exc)]}, {}
        for order in pair or (top, *legs):
            self.numbers[order.id] = self._next_number()
        number = self.numbers[top.id]
        if pair:
            first, second = pair
            number = self._next_number()
            self.pairs[number] = (first.id, second.id)
            self.desk.book.add(first)
            self.desk.book.add(second)
            self.desk.place(first)
        else:
            self.desk.place(top, legs)
        url = f"{self.base_url}/trader/v1/accounts/{ACCOUNT_HASH}/orders/{number}"
        if self.faults is not None and self.faults.place_500 > 0:  # taken; the answer is lost
            self.faults.place_500 -= 1
            return 500, {"message": "internal server error", "errors": []}, {}
        return 201, None, {"Location": url}

    def _next_number(self) -> int:
        return 1000 + len(self.numbers) + len(self.pairs)

    def _orders_of(self, spec: dict) -> tuple[Order, list[Order], tuple[Order, ...]]:
        """A spec's orders: (an order, its legs, ()) or, for an OCO pair, (its first, [], both)."""
        kind = spec.get("orderStrategyType", "SINGLE")
        if kind == "OCO":
            first, second = (self._single(c, OrderClass.OCO) for c in spec["childOrderStrategies"])
            first.oco_id, second.oco_id = second.id, first.id
            return first, [], (first, second)
        if kind != "TRIGGER":
            return self._single(spec, OrderClass.SIMPLE), [], ()
        (child,) = spec["childOrderStrategies"]
        exits = (
            child["childOrderStrategies"] if child.get("orderStrategyType") == "OCO" else [child]
        )
        entry = self._single(spec, OrderClass.BRACKET if len(exits) == 2 else OrderClass.OTO)
        legs = [self._single(c, entry.order_class, entry) for c in exits]
        if len(legs) == 2:
            legs[0].oco_id, legs[1].oco_id = legs[1].id, legs[0].id
        return entry, legs, ()

    def _single(self, spec: dict, order_class: OrderClass, entry: Order | None = None) -> Order:
        """One order of a spec; a leg of ``entry`` is sized by its fills (0 until then)."""
        leg = spec["orderLegCollection"][0]
        side = "buy" if leg["instruction"] in ("BUY", "BUY_TO_COVER") else "sell"
        kind = TYPES[spec["orderType"]]
        order = Order(
            self.desk.book.new_id(), leg["instrument"]["symbol"], side,
            0.0 if entry is not None else float(leg["quantity"]), None, kind,
            float(spec["price"]) if spec.get("price") is not None else None,
            float(spec["stopPrice"]) if spec.get("stopPrice") is not None else None,
            DURATIONS[spec.get("duration", "DAY")], self.desk.now_ns(), order_class=order_class,
            parent_id=entry.id if entry is not None else None,
        )  # fmt: skip
        if order_class != OrderClass.SIMPLE and (entry is not None or order_class == "oco"):
            order.leg = "take_profit" if kind == OrderType.LIMIT else "stop_loss"
        return order

    def _one(self, method: str, number: str) -> tuple[int, object, dict]:
        if number.isdigit() and int(number) in self.pairs:
            pair = [self.desk.book.orders[i] for i in self.pairs[int(number)]]
            if method == "GET":
                return 200, self._pair(int(number), pair), {}
            for order in pair:
                if method == "DELETE" and order.open:
                    self.desk.cancel(order, "canceled by the client")
            return (200, None, {}) if method == "DELETE" else (405, {"message": "no"}, {})
        ours = next((k for k, v in self.numbers.items() if str(v) == number), None)
        if ours is None:
            return 404, {"message": "order not found", "errors": ["not found"]}, {}
        order = self.desk.book.orders[ours]
        if method == "GET":
            return 200, self._order(order), {}
        if method == "DELETE":
            if not order.open:
                return 400, {"message": f"order is {order.status.value}", "errors": []}, {}
            self.desk.cancel(order, "canceled by the client")
            return 200, None, {}
        return 405, {"message": "method not allowed"}, {}

    def _pair(self, number: int, pair: list[Order]) -> dict:
        """An OCO pair as Schwab shows it: a strategy of its own with the two orders."""
        done = next((o for o in pair if o.status == OrderStatus.FILLED), None)
        status = "FILLED" if done else "WORKING" if any(o.open for o in pair) else "CANCELED"
        return {"orderId": number, "orderStrategyType": "OCO", "status": status,
                "childOrderStrategies": [self._order(o) for o in pair]}  # fmt: skip

    def _order(self, o: Order) -> dict:
        legs = [
            {"legId": 1, "quantity": f.quantity, "price": f.price, "time": _iso(f.time_ns)}
            for f in self.desk.book.fills
            if f.order_id == o.id
        ]
        legs_of = self.desk.book.legs(o)
        children = [self._order(leg) for leg in legs_of]
        if len(children) == 2:
            children = [{"orderStrategyType": "OCO", "childOrderStrategies": children}]
        return {
            "orderId": self.numbers.get(o.id),
            "orderStrategyType": "TRIGGER" if children else "SINGLE",
            "childOrderStrategies": children,
            "status": STATUS[o.status],
            "orderType": next(k for k, v in TYPES.items() if v == o.type),
            "duration": next(k for k, v in DURATIONS.items() if v == o.tif),
            "price": o.limit_price,
            "stopPrice": o.stop_price,
            "quantity": o.quantity,
            "filledQuantity": o.filled_quantity,
            "remainingQuantity": (o.quantity or 0) - o.filled_quantity,
            "enteredTime": _iso(o.placed_ns),
            "accountNumber": ACCOUNT_NUMBER,
            "orderLegCollection": [
                {
                    "instruction": "BUY" if o.side == "buy" else "SELL",
                    "quantity": o.quantity,
                    "instrument": {"symbol": o.symbol, "assetType": "EQUITY"},
                }
            ],
            "orderActivityCollection": [{"activityType": "EXECUTION", "executionLegs": legs}]
            if legs
            else [],
        }


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
