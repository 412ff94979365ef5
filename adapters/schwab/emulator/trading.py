"""The Schwab emulator's trader API: one account on the emulators' shared paper desk
(``adapters.loopback.desk``: the paper broker's rules on the bars the emulator publishes), in
Schwab's wire format.

``GET /trader/v1/accounts/accountNumbers``, ``GET /trader/v1/accounts/{hash}?fields=positions``,
``POST .../{hash}/orders`` (201 with the order's URL in ``Location``), ``GET .../orders`` and
``.../orders/{id}`` (status, ``filledQuantity``, each execution leg's quantity, price and time),
``DELETE .../orders/{id}``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from adapters.loopback.desk import PaperDesk
from simcore.trading.orders import Order, OrderStatus, OrderType, TimeInForce

ACCOUNT_NUMBER, ACCOUNT_HASH = "12345678", "E7A1B2C3D4"
STATUS = {
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
                return 200, [self._order(o) for o in self.desk.book.orders.values()], {}
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
            leg = spec["orderLegCollection"][0]
            side = "buy" if leg["instruction"] in ("BUY", "BUY_TO_COVER") else "sell"
            order = Order(
                self.desk.book.new_id(), leg["instrument"]["symbol"], side,
                float(leg["quantity"]), None, TYPES[spec["orderType"]],
                float(spec["price"]) if spec.get("price") is not None else None,
                float(spec["stopPrice"]) if spec.get("stopPrice") is not None else None,
                DURATIONS[spec.get("duration", "DAY")], self.desk.now_ns(),
            )  # fmt: skip
        except (KeyError, ValueError, IndexError) as exc:
            return 400, {"message": f"invalid order: {exc}", "errors": [str(exc)]}, {}
        self.numbers[order.id] = 1000 + len(self.numbers)
        self.desk.place(order)
        url = f"{self.base_url}/trader/v1/accounts/{ACCOUNT_HASH}/orders/{self.numbers[order.id]}"
        if self.faults is not None and self.faults.place_500 > 0:  # taken; the answer is lost
            self.faults.place_500 -= 1
            return 500, {"message": "internal server error", "errors": []}, {}
        return 201, None, {"Location": url}

    def _one(self, method: str, number: str) -> tuple[int, object, dict]:
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

    def _order(self, o: Order) -> dict:
        legs = [
            {"legId": 1, "quantity": f.quantity, "price": f.price, "time": _iso(f.time_ns)}
            for f in self.desk.book.fills
            if f.order_id == o.id
        ]
        return {
            "orderId": self.numbers.get(o.id),
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
