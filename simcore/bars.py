"""Bar arithmetic shared by the engine, the adapters and the tests."""

from __future__ import annotations

import polars as pl


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
