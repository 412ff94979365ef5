"""Cash and positions in the account currency: average prices, realised and unrealised PnL.

Long and short alike: a fill that adds to a position moves its average price; one that reduces
it realises (price - average) x quantity; one that crosses zero does both. Fees are paid from
cash and kept apart from the realised PnL.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simcore.trading.orders import Fill, whole


@dataclass
class Position:
    symbol: str
    quantity: float = 0.0
    average_price: float = 0.0
    realized_pnl: float = 0.0
    fees: float = 0.0

    def unrealized(self, price: float) -> float:
        return (price - self.average_price) * self.quantity if self.quantity else 0.0


@dataclass
class Portfolio:
    cash: float
    positions: dict[str, Position] = field(default_factory=dict)
    fees: float = 0.0
    traded_value: float = 0.0  # sum of |quantity x price| of every fill (turnover)

    def position(self, symbol: str) -> Position:
        held = self.positions.get(symbol)
        if held is None:
            held = self.positions[symbol] = Position(symbol)
        return held

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
        return sum(
            p.quantity * prices.get(s, p.average_price)
            for s, p in self.positions.items()
            if p.quantity
        )

    def gross_exposure(self, prices: dict[str, float]) -> float:
        return sum(
            abs(p.quantity * prices.get(s, p.average_price))
            for s, p in self.positions.items()
            if p.quantity
        )

    def equity(self, prices: dict[str, float]) -> float:
        return self.cash + self.market_value(prices)

    def open_positions(self) -> list[str]:
        return sorted(s for s, p in self.positions.items() if p.quantity != 0)
