"""A run's trading results as tables: orders, order events, fills, rejections, positions at each
session's end, and equity at the close of every bar of the streamed base interval.

Equity is built after the run, in a few Polars joins, from the streamed bars and the fills —
the engine does not have to look at every bar while positions are open: at the close of a bar
stamped t, the positions are those filled at or before t (a fill at a bar's open is held at its
close), valued at each symbol's latest close.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from simcore.trading.trader import Trader

TIME = pl.Datetime("ns", "UTC")
ORDER_SCHEMA = {
    "order_id": pl.String,
    "symbol": pl.String,
    "side": pl.String,
    "quantity": pl.Float64,
    "notional": pl.Float64,
    "type": pl.String,
    "limit_price": pl.Float64,
    "stop_price": pl.Float64,
    "tif": pl.String,
    "placed": pl.Int64,
    "status": pl.String,
    "filled_quantity": pl.Float64,
    "average_fill_price": pl.Float64,
    "fees": pl.Float64,
    "reason": pl.String,
    "order_class": pl.String,  # simple, bracket, oto, oco
    "parent_id": pl.String,  # a leg's entry order
    "oco_id": pl.String,  # the other leg of its pair
    "leg": pl.String,  # take_profit or stop_loss (null: not a leg)
    "trail_price": pl.Float64,
    "trail_percent": pl.Float64,
}
FILL_SCHEMA = {
    "time": pl.Int64,
    "order_id": pl.String,
    "symbol": pl.String,
    "side": pl.String,
    "quantity": pl.Float64,
    "price": pl.Float64,
    "fee": pl.Float64,
}
EVENT_SCHEMA = {
    "time": pl.Int64,
    "order_id": pl.String,
    "symbol": pl.String,
    "event": pl.String,
    "filled_quantity": pl.Float64,
    "detail": pl.String,
}
REJECTION_SCHEMA = {
    "time": pl.Int64,
    "order_id": pl.String,
    "symbol": pl.String,
    "rule": pl.String,
    "limit": pl.Float64,
    "value": pl.Float64,
    "message": pl.String,
}
POSITION_SCHEMA = {
    "session_date": pl.Date,
    "symbol": pl.String,
    "quantity": pl.Float64,
    "average_price": pl.Float64,
    "close": pl.Float64,
    "market_value": pl.Float64,
    "unrealized_pnl": pl.Float64,
    "realized_pnl": pl.Float64,
    "fees": pl.Float64,
}


def _frame(rows: list[tuple], schema: dict, times: tuple[str, ...] = ("time",)) -> pl.DataFrame:
    """Rows as a frame, built column by column (Polars builds columns from lists faster
    than it reads rows)."""
    columns = [list(column) for column in zip(*rows, strict=True)] or [[] for _ in schema]
    frame = pl.DataFrame(dict(zip(schema, columns, strict=True)), schema=schema)
    return frame.with_columns(pl.col(t).cast(TIME) for t in times)


def position_rows(day, trader: Trader, closes: np.ndarray) -> list[tuple]:
    """The account at a session's end: one row per symbol ever traded. ``closes``: the
    session's last close per symbol of the trader (NaN: none; the trader's earlier one)."""
    rows = []
    for symbol, p in sorted(trader.portfolio.positions.items()):
        close = float(closes[trader.symbol_index[symbol]])
        close = trader.last_close(symbol) if np.isnan(close) else close
        value = p.quantity * close if close is not None else None
        unrealized = p.unrealized(close) if close is not None else None
        rows.append(
            (
                day,
                symbol,
                p.quantity,
                p.average_price,
                close,
                value,
                unrealized,
                p.realized_pnl,
                p.fees,
            )
        )
    return rows


@dataclass(frozen=True)
class StreamedMarks:
    """What equity is marked at: the time of every streamed base bar (``times``: session_date,
    timestamp; unique, in time order) and, asked for the traded symbols only, their streamed
    closes (``closes(symbols)``: per symbol, its bars' UTC ns and closes, in time order)."""

    times: pl.DataFrame
    closes: Callable[[list[str]], dict[str, tuple[np.ndarray, np.ndarray]]]

    @classmethod
    def of_bars(cls, bars: pl.DataFrame) -> StreamedMarks:
        """From a bars table: its STREAMED rows."""
        base = bars.filter(pl.col("source") == "STREAMED").select(
            "session_date", "symbol", "timestamp", "close"
        )
        times = base.select("session_date", "timestamp").unique().sort("timestamp")

        def closes(symbols: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
            rows = base.filter(pl.col("symbol").is_in(symbols)).sort(
                "symbol", "timestamp", maintain_order=True
            )
            return {
                str(symbol): (part["timestamp"].dt.epoch("ns").to_numpy(), part["close"].to_numpy())
                for (symbol,), part in rows.partition_by("symbol", as_dict=True).items()
            }

        return cls(times, closes)


def trading_tables(
    trader: Trader, positions: list[tuple], marks: StreamedMarks
) -> dict[str, pl.DataFrame]:
    book = trader.book
    # the enums' ``_value_``, their plain attribute: ``value`` is a property, slow over many rows
    orders = _frame(
        [
            (o.id, o.symbol, o.side, o.quantity, o.notional, o.type._value_, o.limit_price,
             o.stop_price, o.tif._value_, o.placed_ns, o.status._value_, o.filled_quantity,
             o.average_fill_price if o.filled_quantity else None, o.fees, o.reason,
             o.order_class._value_, o.parent_id, o.oco_id, o.leg or None, o.trail_price,
             o.trail_percent)
            for o in book.orders.values()
        ],
        ORDER_SCHEMA,
        ("placed",),
    )  # fmt: skip
    fills = _frame(
        [(f.time_ns, f.order_id, f.symbol, f.side, f.quantity, f.price, f.fee) for f in book.fills],
        FILL_SCHEMA,
    )
    events = _frame(
        [(e.time_ns, e.order_id, e.symbol, e.kind, e.quantity, e.detail) for e in book.events],
        EVENT_SCHEMA,
    )
    rejections = _frame(
        [
            (r.time_ns, r.order_id, r.symbol, r.rule, float(r.limit), float(r.value), r.message)
            for r in book.rejections
        ],
        REJECTION_SCHEMA,
    )
    actions = pl.DataFrame(
        trader.corporate_actions,
        schema={
            "session_date": pl.Date,
            "time": pl.Int64,
            "symbol": pl.String,
            "kind": pl.String,
            "value": pl.Float64,
            "shares_before": pl.Float64,
            "shares_after": pl.Float64,
            "cash": pl.Float64,
        },
        orient="row",
    ).with_columns(pl.col("time").cast(TIME))
    return {
        "corporate_actions": actions,
        "orders": orders,
        "order_events": events,
        "fills": fills,
        "rejections": rejections,
        "positions": pl.DataFrame(positions, schema=POSITION_SCHEMA, orient="row"),
        "equity": equity_table(marks, fills, trader.config.max_buying_power, actions),
    }


def equity_table(
    marks: StreamedMarks,
    fills: pl.DataFrame,
    initial_cash: float,
    actions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Cash, market value and equity at the close of every streamed base bar's timestamp.
    Corporate actions (raw prices) change the shares (a split) or the cash (a dividend)."""
    grid = marks.times
    signed = (
        pl.when(pl.col("side") == "buy").then(pl.col("quantity")).otherwise(-pl.col("quantity"))
    )
    flows = fills.with_columns(
        signed.alias("signed"), (-(signed * pl.col("price")) - pl.col("fee")).alias("flow")
    ).select("time", "symbol", "signed", "flow")
    if actions is not None and actions.height:
        moves = actions.select(
            "time",
            "symbol",
            (pl.col("shares_after") - pl.col("shares_before")).alias("signed"),
            pl.col("cash").alias("flow"),
        )
        flows = pl.concat([flows, moves])
    flows = flows.sort("time")
    cash = flows.select(
        pl.col("time").alias("timestamp"), (pl.col("flow").cum_sum() + initial_cash).alias("cash")
    )
    out = grid.join_asof(cash, on="timestamp", strategy="backward").with_columns(
        pl.col("cash").fill_null(initial_cash)
    )
    traded = flows["symbol"].unique().sort().to_list()
    if traded:
        cells = _holdings(grid["timestamp"], traded, flows, marks.closes(traded))
        value = cells.group_by("timestamp").agg(
            (pl.col("held").fill_null(0.0) * pl.col("close").fill_null(0.0))
            .sum()
            .alias("market_value"),
            (pl.col("held").fill_null(0.0) != 0).any().alias("invested"),
        )
        out = out.join(value, on="timestamp", how="left")
    else:
        out = out.with_columns(pl.lit(0.0).alias("market_value"), pl.lit(False).alias("invested"))
    return out.select(
        "session_date",
        "timestamp",
        "cash",
        "market_value",
        (pl.col("cash") + pl.col("market_value")).alias("equity"),
        "invested",
    ).sort("timestamp")


def _holdings(
    times: pl.Series,
    traded: list[str],
    flows: pl.DataFrame,
    closes: dict[str, tuple[np.ndarray, np.ndarray]],
) -> pl.DataFrame:
    """One row per traded symbol and grid time (by symbol, then time): the shares held then
    (every flow at or before it; 0 before the first) and the symbol's last close then (0
    before its first bar). Share counts are whole numbers, so their sums are exact whatever
    the order of flows at one time."""
    grid = times.dt.epoch("ns").to_numpy()
    flows = flows.select(pl.col("time").dt.epoch("ns"), "symbol", "signed").sort(
        "symbol", "time", maintain_order=True
    )
    held = np.zeros((len(traded), grid.size))
    close = np.zeros((len(traded), grid.size))
    flow_parts = flows.partition_by("symbol", as_dict=True, maintain_order=True)
    for k, symbol in enumerate(traded):
        part = flow_parts.get((symbol,))
        if part is not None:
            at = np.searchsorted(part["time"].to_numpy(), grid, side="right") - 1
            cumulative = np.cumsum(part["signed"].to_numpy())
            held[k] = np.where(at >= 0, cumulative[np.maximum(at, 0)], 0.0)
        if symbol in closes:
            stamps, values = closes[symbol]
            at = np.searchsorted(stamps, grid, side="right") - 1
            close[k] = np.where(at >= 0, values[np.maximum(at, 0)], 0.0)
    return pl.DataFrame(
        {
            "timestamp": pl.Series(np.tile(grid, len(traded))).cast(TIME),
            "symbol": pl.Series(traded, dtype=pl.String).gather(
                pl.Series(np.repeat(np.arange(len(traded)), grid.size))
            ),
            "held": held.reshape(-1),
            "close": close.reshape(-1),
        }
    )
