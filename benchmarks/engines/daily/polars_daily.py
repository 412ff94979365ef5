"""The vectorised limit of the daily task: one Polars query (read, rolling mean, count)."""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl

from benchmarks.engines import cli
from benchmarks.workload import daily_bars


def run(store: Path, count: int) -> dict:
    started = time.perf_counter()
    df = daily_bars(store, count)
    x = df.with_columns(sma=pl.col("close").rolling_mean(20).over("symbol")).with_columns(
        side=pl.col("close") > pl.col("sma")
    )
    x = x.with_columns(
        prev=pl.col("side").shift(1).over("symbol"), prev_sma=pl.col("sma").shift(1).over("symbol")
    )
    crosses = x.filter(
        pl.col("sma").is_not_null()
        & pl.col("prev_sma").is_not_null()
        & (pl.col("side") != pl.col("prev"))
    ).height
    return {"bars": df.height, "crosses": crosses, "seconds": time.perf_counter() - started}


if __name__ == "__main__":
    cli(run)
