"""The vectorised limit of the daily task: one Polars query (read, rolling mean, count)."""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.engines import cli
from benchmarks.engines.polars_limit import sma_crosses
from benchmarks.workload import daily_bars


def run(store: Path, count: int) -> dict:
    started = time.perf_counter()
    df = daily_bars(store, count)
    crosses = sma_crosses(df)
    return {"bars": df.height, "crosses": crosses, "seconds": time.perf_counter() - started}


if __name__ == "__main__":
    cli(run)
