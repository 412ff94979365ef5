"""Cash and positions in the account currency: average prices, realised and unrealised PnL.

Long and short alike: a fill that adds to a position moves its average price; one that reduces
it realises (price - average) x quantity; one that crosses zero does both. Fees are paid from
cash and kept apart from the realised PnL.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simcore.trading.orders import Fill, whole


class Position:
    """One symbol's holding. Setting ``quantity`` keeps its portfolio's set of open symbols
    current (brokers set it directly when they reconcile an account)."""

    __slots__ = ("_open", "_quantity", "average_price", "fees", "realized_pnl", "symbol")

    def __init__(
        self,
        symbol: str,
        quantity: float = 0.0,
        average_price: float = 0.0,
        realized_pnl: float = 0.0,
        fees: float = 0.0,
        open_symbols: set[str] | None = None,
    ):
        self.symbol = symbol
        self._open = open_symbols
        self.quantity = quantity
        self.average_price = average_price
        self.realized_pnl = realized_pnl
        self.fees = fees

    @property
    def quantity(self) -> float:
        return self._quantity

    @quantity.setter
    def quantity(self, value: float) -> None:
        self._quantity = value
        if self._open is not None:
            if value:
                self._open.add(self.symbol)
            else:
                self._open.discard(self.symbol)

    def track(self, open_symbols: set[str]) -> None:
        """Keep ``open_symbols`` current with this position from now on (entered now if open)."""
        self._open = open_symbols
        self.quantity = self._quantity

    def __repr__(self) -> str:
        return (
            f"Position({self.symbol!r}, quantity={self.quantity}, average_price="
            f"{self.average_price}, realized_pnl={self.realized_pnl}, fees={self.fees})"
        )

    def unrealized(self, price: float) -> float:
        return (price - self.average_price) * self.quantity if self.quantity else 0.0


@dataclass
class Portfolio:
    cash: float
    positions: dict[str, Position] = field(default_factory=dict)
    # the symbols held long or short now (kept by Position.quantity; risk checks read it)
    holding: set[str] = field(default_factory=set)
    fees: float = 0.0
    traded_value: float = 0.0  # sum of |quantity x price| of every fill (turnover)

    def __post_init__(self) -> None:
        # each symbol's place in ``positions``: sums over the open ones add in that order
        self._rank = {s: i for i, s in enumerate(self.positions)}
        for held in self.positions.values():  # positions given at construction are tracked too
            held.track(self.holding)

    def position(self, symbol: str) -> Position:
        held = self.positions.get(symbol)
        if held is None:
            held = self.positions[symbol] = Position(symbol, open_symbols=self.holding)
            self._rank[symbol] = len(self._rank)
        return held

    def _held_in_order(self) -> list[tuple[str, Position]]:
        """The open positions, in the order of ``positions`` (not the set's order, which
        depends on string hashing): sums over them are the same bits in every run."""
        return [(s, self.positions[s]) for s in sorted(self.holding, key=self._rank.__getitem__)]

    def quantity(self, symbol: str) -> float:
        held = self.positions.get(symbol)
        return held.quantity if held else 0.0

    def apply(self, fill: Fill) -> float:
        """Book a fill; returns the PnL it realised (before fees)."""
        p = self.position(fill.symbol)
        signed = fill.quantity if fill.side == "buy" else -fill.quantity
        realized = 0.0
        if p.quantity == 0 or (p.quantity > 0) == (signed > 0):
            total = p.quantity + signed
            p.average_price = (p.average_price * p.quantity + fill.price * signed) / total
            p.quantity = whole(total)
        else:
            closing = min(abs(signed), abs(p.quantity))
            direction = 1 if p.quantity > 0 else -1
            realized = (fill.price - p.average_price) * closing * direction
            p.quantity = whole(p.quantity + signed)
            if p.quantity == 0:
                p.average_price = 0.0
            elif (p.quantity > 0) != (direction > 0):  # crossed zero: the rest opens anew
                p.average_price = fill.price
        p.realized_pnl += realized
        p.fees += fill.fee
        self.cash -= signed * fill.price + fill.fee
        self.fees += fill.fee
        self.traded_value += abs(fill.quantity * fill.price)
        return realized

    def split(self, symbol: str, ratio: float) -> None:
        """``ratio`` new shares for each share held: the same value, a new basis."""
        held = self.positions.get(symbol)
        if held is not None and held.quantity:
            held.quantity = whole(held.quantity * ratio)
            held.average_price /= ratio

    def market_value(self, prices: dict[str, float]) -> float:
        return sum(p.quantity * prices.get(s, p.average_price) for s, p in self._held_in_order())

    def gross_exposure(self, prices: dict[str, float]) -> float:
        return sum(
            abs(p.quantity * prices.get(s, p.average_price)) for s, p in self._held_in_order()
        )

    def equity(self, prices: dict[str, float]) -> float:
        return self.cash + self.market_value(prices)

    def open_positions(self) -> list[str]:
        return sorted(self.holding)
