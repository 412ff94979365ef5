"""Column schemas of the local store: one per dataset kind, timestamps always UTC microseconds.

A bar's ``timestamp`` is the **start** of its interval (as in LEAN and Alpaca); a daily bar is
stamped at 00:00 exchange-local time of its session date, expressed in UTC. ``extended`` marks
intraday rows outside the regular session: they are kept in the store, and not streamed by
default.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

import polars as pl

UTC_TS = pl.Datetime("us", "UTC")

BAR_SCHEMA: dict[str, pl.DataType] = {
    "symbol": pl.String(),
    "timestamp": UTC_TS,
    "open": pl.Float64(),
    "high": pl.Float64(),
    "low": pl.Float64(),
    "close": pl.Float64(),
    "volume": pl.Float64(),
    "trade_count": pl.Int64(),
    "vwap": pl.Float64(),
    "extended": pl.Boolean(),
}
BAR_REQUIRED = ("symbol", "timestamp", "open", "high", "low", "close", "volume")

QUOTE_SCHEMA: dict[str, pl.DataType] = {
    "symbol": pl.String(),
    "timestamp": UTC_TS,
    "bid_price": pl.Float64(),
    "bid_size": pl.Float64(),
    "ask_price": pl.Float64(),
    "ask_size": pl.Float64(),
    "extended": pl.Boolean(),
}
QUOTE_REQUIRED = ("symbol", "timestamp", "bid_price", "bid_size", "ask_price", "ask_size")

TICK_SCHEMA: dict[str, pl.DataType] = {
    "symbol": pl.String(),
    "timestamp": UTC_TS,
    "price": pl.Float64(),
    "size": pl.Float64(),
    "extended": pl.Boolean(),
}
TICK_REQUIRED = ("symbol", "timestamp", "price", "size")

# What the store accepts as a symbol: upper case letters and digits, with the separators of
# share classes, crypto pairs and indices (BRK.B, BRK-B, BTC/USD, ^VIX). Anything else (a
# space, a lower-case name, an empty string) is a bad row, not a new folder.
SYMBOL_PATTERN = re.compile(r"^[A-Z0-9^][A-Z0-9./\-_^=]{0,31}$")
SYMBOL_RULE = "upper-case letters and digits, with . / - _ ^ = inside, at most 32 characters"


def symbol_folder(symbol: str) -> str:
    """The folder name of a symbol: a '/' (BTC/USD) or other separator cannot be a path."""
    return quote(symbol, safe="._-")


def folder_symbol(folder: str) -> str:
    return unquote(folder)


KINDS = ("bars", "quotes", "ticks")
SCHEMAS = {"bars": BAR_SCHEMA, "quotes": QUOTE_SCHEMA, "ticks": TICK_SCHEMA}
REQUIRED = {"bars": BAR_REQUIRED, "quotes": QUOTE_REQUIRED, "ticks": TICK_REQUIRED}
STORE_INTERVALS = ("1s", "1m", "1d")  # bar intervals a store holds; the rest are derived


def conform(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    """Columns of ``kind`` in schema order and dtype; optional columns filled with nulls."""
    schema = SCHEMAS[kind]
    missing = [c for c in REQUIRED[kind] if c not in frame.columns]
    if missing:
        raise ValueError(f"{kind} frame lacks column(s): {', '.join(missing)}")
    return frame.select(
        [
            (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in schema.items()
        ]
    )


def ohlcv_aggregations() -> list[pl.Expr]:
    """How bars of a window combine into one (rows sorted by time): first open, highest high,
    lowest low, last close, summed volume."""
    return [
        pl.col("open").first(),
        pl.col("high").max(),
        pl.col("low").min(),
        pl.col("close").last(),
        pl.col("volume").sum(),
    ]
