"""Round trips: the trades of a run, flat to flat, read off its fills.

A trade opens with the fill that leaves a symbol flat and closes with the one that brings it
back to flat; a fill through zero closes one trade and opens the next with what is left. Its
PnL is what it realised less the fees of its fills (the closing fill's fee shared by the
quantity on each side); a split rescales an open trade's quantity and entry price, a cash
dividend adds to its PnL (``corporate_actions``). Win rate, profit factor and the average win
and loss are over closed trades (``simcore.results.statistics``); the report lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

TRADE_SCHEMA = {
    "symbol": pl.String,
    "side": pl.String,  # long or short
    "entry_time": pl.Datetime("ns", "UTC"),
    "entry_price": pl.Float64,  # the average price of the fills that built the position
    "exit_time": pl.Datetime("ns", "UTC"),
    "exit_price": pl.Float64,  # the average price of the fills that closed it
    "quantity": pl.Float64,  # the largest size held (a split rescales it)
    "pnl": pl.Float64,  # realised, net of fees
    "fees": pl.Float64,
    "bars_held": pl.Int64,  # bars of the streamed base interval from entry to exit
}


@dataclass
class _Open:
    quantity: float = 0.0
    average: float = 0.0
    pnl: float = 0.0
    fees: float = 0.0
    entry_time: object = None
    entry_price: float = 0.0
    largest: float = 0.0
    closed_value: float = 0.0  # |quantity| x price of the closing fills so far
    closed_quantity: float = 0.0


def round_trips(
    fills: pl.DataFrame, actions: pl.DataFrame | None = None, bar_times: pl.Series | None = None
) -> pl.DataFrame:
    """Every closed trade, in the order they closed. ``bar_times``: the times of the run's
    base bars (the equity table's), to count the bars each trade was held."""
    rows: list[tuple] = []
    state: dict[str, _Open] = {}
    # plain tuples with times in epoch ns: a run's fills can be hundreds of thousands
    columns = ("time", "symbol", "side", "quantity", "price", "fee")
    events = list(zip(*_columns(fills, columns), strict=True))
    if actions is not None and not actions.is_empty():
        kinds = ("time", "symbol", "kind", "value", "cash")
        events += [(t, s, None, kind, value, cash) for t, s, kind, value, cash in
                   zip(*_columns(actions, kinds), strict=True)]  # fmt: skip
    events.sort(key=lambda e: (e[0], e[2] is not None))  # at one time, actions first
    for time, symbol, side, quantity, price, fee in events:
        trade = state.setdefault(symbol, _Open())
        if side is None:  # a corporate action on an open trade: (kind, value, cash)
            kind, value, cash = quantity, price, fee
            if trade.quantity and kind == "split":
                trade.quantity *= value
                trade.average /= value
                trade.entry_price /= value
                trade.largest *= value
            elif trade.quantity:
                trade.pnl += cash
            continue
        signed = quantity if side == "buy" else -quantity
        qty = trade.quantity
        if qty == 0 or (qty > 0) == (signed > 0):  # opens or adds
            if qty == 0:
                trade.entry_time = time
            trade.average = (trade.average * qty + price * signed) / (qty + signed)
            trade.entry_price = trade.average
            trade.quantity = qty + signed
            trade.largest = max(trade.largest, abs(trade.quantity))
            trade.pnl -= fee
            trade.fees += fee
            continue
        closing = min(abs(signed), abs(qty))
        trade.pnl += (price - trade.average) * closing * (1 if qty > 0 else -1)
        share = fee * closing / abs(signed)
        trade.pnl -= share
        trade.fees += share
        trade.closed_value += closing * price
        trade.closed_quantity += closing
        rest = signed + qty
        if abs(signed) >= abs(qty) - 1e-12:  # flat (or through zero): the trade closes
            rows.append(
                (
                    symbol,
                    "long" if qty > 0 else "short",
                    trade.entry_time,
                    trade.entry_price,
                    time,
                    trade.closed_value / trade.closed_quantity,
                    trade.largest,
                    trade.pnl,
                    trade.fees,
                )
            )
            left = rest if abs(rest) >= 1e-12 else 0.0
            state[symbol] = after = _Open()
            if left:  # through zero: what is left opens the next trade at this fill
                after.quantity, after.average, after.entry_price = left, price, price
                after.entry_time, after.largest = time, abs(left)
                after.pnl, after.fees = -(fee - share), fee - share
        else:
            trade.quantity = rest
    frame = pl.DataFrame(
        rows, schema={k: v for k, v in TRADE_SCHEMA.items() if k != "bars_held"} | _NS_TIMES,
        orient="row",
    ).cast({k: v for k, v in TRADE_SCHEMA.items() if k != "bars_held"})  # fmt: skip
    held = np.zeros(frame.height, dtype=np.int64)
    if bar_times is not None and frame.height and bar_times.len():
        stamps = bar_times.dt.epoch("ns").to_numpy()
        entry = np.searchsorted(stamps, frame["entry_time"].dt.epoch("ns").to_numpy())
        exit_ = np.searchsorted(stamps, frame["exit_time"].dt.epoch("ns").to_numpy())
        held = (exit_ - entry).astype(np.int64)
    return frame.with_columns(pl.Series("bars_held", held, dtype=pl.Int64))


_NS_TIMES = {"entry_time": pl.Int64, "exit_time": pl.Int64}  # epoch ns while pairing


def _columns(frame: pl.DataFrame, names: tuple[str, ...]) -> list[list]:
    """The columns as Python lists, times as epoch nanoseconds."""
    return [frame[n].dt.epoch("ns").to_list() if n == "time" else frame[n].to_list() for n in names]


def trade_pnls(fills: pl.DataFrame, actions: pl.DataFrame | None = None) -> list[float]:
    """The PnL of every closed trade (what the statistics count)."""
    return round_trips(fills, actions)["pnl"].to_list()
