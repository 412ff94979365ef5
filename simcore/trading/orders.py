"""Orders, fills and what happens to an order, as the engine and the strategy see them.

An order's life: ``accepted`` (it passed the risk checks; a broker has it) -> ``partially_filled``
-> ``filled``; or ``canceled`` (by the strategy), ``expired`` (a DAY order at the close, the rest
of an IOC order after its first bar), ``rejected`` (a risk rule, with the numbers, or the
broker), ``replaced`` (by a new order with the same id and new terms). A leg of a bracket or
one-triggers-other order is ``held`` until its parent fills. Every change is an ``OrderEvent``,
recorded and handed to the strategy's ``on_order_update``.

Contingent orders (``simcore.trading.contingent`` says how they behave): an order's
``order_class`` is ``simple``, ``bracket`` (an entry with a take-profit and a stop-loss leg),
``oto`` (an entry with one of them) or ``oco`` (two exits, the fill of one cancels the other).
A leg names its ``parent_id``; each leg of a pair names the other in ``oco_id``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"  # a stop that follows the price by trail_price or trail_percent


class TimeInForce(StrEnum):
    DAY = "day"  # expires at the session's close (an early close too)
    GTC = "gtc"  # until filled or canceled
    IOC = "ioc"  # whatever the first bar it meets can fill; the rest is canceled


class OrderClass(StrEnum):
    SIMPLE = "simple"
    BRACKET = "bracket"  # an entry, then a take-profit and a stop-loss leg (one cancels other)
    OTO = "oto"  # an entry, then one leg
    OCO = "oco"  # two legs working at once: one's fill cancels the other


class OrderStatus(StrEnum):
    HELD = "held"  # a leg waiting for its parent's fill: not working, not checked by bars
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    REPLACED = "replaced"


FINAL = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        OrderStatus.REPLACED,
    }
)


@dataclass(slots=True)
class Order:
    id: str
    symbol: str
    side: str  # "buy" or "sell"
    quantity: float | None  # shares; None for a notional order (sized at its fill)
    notional: float | None  # account currency; None for a share order
    type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    stop_price: float | None = None
    tif: TimeInForce = TimeInForce.DAY
    placed_ns: int = 0
    status: OrderStatus = OrderStatus.ACCEPTED
    filled_quantity: float = 0.0
    average_fill_price: float = 0.0
    stop_triggered: bool = False
    bars_seen: int = 0  # bars it was checked against (an IOC order lives for one)
    fees: float = 0.0
    reason: str = ""
    broker_id: str = ""  # the broker's own id (Alpaca's), when it has one
    order_class: OrderClass = OrderClass.SIMPLE
    parent_id: str | None = None  # a leg's entry order
    oco_id: str | None = None  # the other leg of a one-cancels-other pair
    leg: str = ""  # "take_profit" or "stop_loss" for a leg
    trail_price: float | None = None  # a trailing stop's distance, in price
    trail_percent: float | None = None  # ... or in percent of the price
    trail_extreme: float | None = None  # the best price since it began to trail
    active_ns: int = -1  # bars that start before this cannot fill it (default: placed_ns)

    def __post_init__(self) -> None:
        if self.active_ns < 0:
            self.active_ns = self.placed_ns

    @property
    def sign(self) -> int:
        return 1 if self.side == "buy" else -1

    @property
    def open(self) -> bool:
        return self.status not in FINAL

    def split(self, ratio: float) -> None:
        """A working order through a split: ``ratio`` times the shares at 1/ratio the price."""
        if self.quantity is not None:
            self.quantity = whole(self.quantity * ratio)
        self.filled_quantity = whole(self.filled_quantity * ratio)
        self.average_fill_price /= ratio
        if self.limit_price is not None:
            self.limit_price = round(self.limit_price / ratio, 4)
        if self.stop_price is not None:
            self.stop_price = round(self.stop_price / ratio, 4)
        if self.trail_price is not None:
            self.trail_price = round(self.trail_price / ratio, 4)
        if self.trail_extreme is not None:
            self.trail_extreme /= ratio

    def remaining(self, price: float) -> float:
        """Shares still to fill (a notional order: what its remaining value buys at ``price``)."""
        if self.quantity is not None:
            return self.quantity - self.filled_quantity
        spent = self.filled_quantity * self.average_fill_price
        return max(0.0, (self.notional - spent) / price) if price > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Fill:
    order_id: str
    symbol: str
    side: str
    quantity: float
    price: float
    fee: float
    time_ns: int  # when the price was there: the start of the bar it filled on, or placement


@dataclass(frozen=True, slots=True)
class OrderEvent:
    order_id: str
    symbol: str
    kind: str  # an OrderStatus value
    time_ns: int
    quantity: float  # the order's filled quantity after the event
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why the risk checks refused an order, with the numbers that decided it."""

    order_id: str
    symbol: str
    time_ns: int
    rule: str  # max_per_trade, max_per_symbol, max_open_positions, max_buying_power, no_price, ...
    limit: float
    value: float
    message: str


@dataclass
class OrderBook:
    """Every order of a run by id, in submission order, and the events and fills so far."""

    orders: dict[str, Order] = field(default_factory=dict)
    events: list[OrderEvent] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    _open: dict[str, Order] = field(default_factory=dict)  # the working orders, by id
    _legs: dict[str, list[str]] = field(default_factory=dict)  # an entry's legs, by its id
    _by_symbol: dict[str, dict[str, Order]] = field(default_factory=dict)  # working, per symbol
    _committing: dict[str, Order] = field(default_factory=dict)  # working, not legs
    dirty: set[str] = field(default_factory=set)  # symbols whose working orders changed
    _next: int = 1

    def new_id(self) -> str:
        order_id = f"O{self._next}"
        self._next += 1
        return order_id

    def add(self, order: Order) -> None:
        self.orders[order.id] = order

    def record(self, order: Order, kind: OrderStatus, time_ns: int, detail: str = "") -> None:
        """A change of an order's status: set it, keep the working set, log the event."""
        order.status = kind
        if detail:
            order.reason = detail
        self.dirty.add(order.symbol)  # touched()
        if kind in FINAL or kind is OrderStatus.HELD:
            if self._open.pop(order.id, None) is not None:
                of_symbol = self._by_symbol[order.symbol]
                del of_symbol[order.id]
                if not of_symbol:
                    del self._by_symbol[order.symbol]
                self._committing.pop(order.id, None)
        elif order.id not in self._open:
            self._open[order.id] = order
            self._by_symbol.setdefault(order.symbol, {})[order.id] = order
            if order.parent_id is None:
                self._committing[order.id] = order
        self.events.append(  # ``_value_``: the enum's plain attribute (``value`` is a slow property)
            OrderEvent(order.id, order.symbol, kind._value_, time_ns, order.filled_quantity, detail)
        )

    @property
    def any_working(self) -> bool:
        return bool(self._open)

    @property
    def working_count(self) -> int:
        return len(self._open)

    def working(self, symbol: str | None = None) -> list[Order]:
        """The working orders (of ``symbol``), in the order they started working."""
        if symbol is None:
            return list(self._open.values())
        of_symbol = self._by_symbol.get(symbol)
        return list(of_symbol.values()) if of_symbol else []

    def touched(self, symbol: str) -> None:
        """Something about ``symbol``'s working orders changed (a status, a price): what was
        worked out from them is out of date (``dirty``, until its reader clears it)."""
        self.dirty.add(symbol)

    def working_symbols(self):
        """The symbols with a working order."""
        return self._by_symbol.keys()

    def committing(self) -> list[Order]:
        """The working orders that may commit capital: all but the legs of an entry (a leg
        only closes what its entry opened)."""
        return list(self._committing.values())

    def legs(self, parent: Order) -> list[Order]:
        """The legs of an entry order (held or working or done), in the order they were made."""
        ids = self._legs.get(parent.id)
        return [self.orders[i] for i in ids] if ids else []

    def add_leg(self, parent: Order, leg: Order) -> None:
        self.add(leg)
        self._legs.setdefault(parent.id, []).append(leg.id)

    def take_place(self, old: Order, new: Order) -> None:
        """``new`` replaces ``old``: an entry's legs follow it, a leg takes its place among its
        entry's legs and in its pair."""
        for leg_id in self._legs.pop(old.id, ()):
            self.orders[leg_id].parent_id = new.id
            self._legs.setdefault(new.id, []).append(leg_id)
        if old.parent_id is not None:
            legs = self._legs.get(old.parent_id, [])
            if old.id in legs:
                legs[legs.index(old.id)] = new.id
        if old.oco_id is not None and old.oco_id in self.orders:
            self.orders[old.oco_id].oco_id = new.id

    def is_working(self, order: Order) -> bool:
        return order.id in self._open


def whole(value: float) -> float:
    """Quantities are kept as floats (fractional shares exist); tiny float noise is dropped."""
    rounded = round(value)
    return float(rounded) if math.isclose(value, rounded, abs_tol=1e-9) else value
