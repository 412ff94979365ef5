"""The vectorised limit: one Polars query (read, group_by_dynamic, rolling mean, count)."""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl

from benchmarks.engines import cli
from benchmarks.workload import minute_bars


def sma_crosses(bars: pl.DataFrame) -> int:
    """Bars whose close is on the other side of its SMA(20) than the previous bar's (both with a
    full SMA), per symbol; ``bars`` in time order per symbol."""
    x = bars.with_columns(sma=pl.col("close").rolling_mean(20).over("symbol")).with_columns(
        side=pl.col("close") > pl.col("sma")
    )
    x = x.with_columns(
        prev=pl.col("side").shift(1).over("symbol"), prev_sma=pl.col("sma").shift(1).over("symbol")
    )
    return x.filter(
        pl.col("sma").is_not_null()
        & pl.col("prev_sma").is_not_null()
        & (pl.col("side") != pl.col("prev"))
    ).height


def run(store: Path, count: int) -> dict:
    started = time.perf_counter()
    df = minute_bars(store, count)

    def agg(every: str) -> pl.DataFrame:
        return df.group_by_dynamic("timestamp", every=every, group_by="symbol", label="left").agg(
            pl.col("open").first(),
            pl.col("high").max(),
            pl.col("low").min(),
            pl.col("close").last(),
            pl.col("volume").sum(),
        )

    b5, b15 = agg("5m"), agg("15m")
    return {
        "bars": df.height,
        "bars_5m": b5.height,
        "bars_15m": b15.height,
        "crosses": sma_crosses(b5),
        "seconds": time.perf_counter() - started,
    }


if __name__ == "__main__":
    cli(run)
