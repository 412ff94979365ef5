"""The benchmark workloads, made by simcore's own generator into simcore's store.

W<N> = N symbols x 20 trading days of regular-session 1m bars (2025-06-02..06-30, Juneteenth
closed), seed 42, no gaps, plus daily history from 2025-05-01 so that simcore's run loads
trailing history before every session. Every engine reads the same store files.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from adapters.local.store import BARS_1M, ParquetStore
from adapters.local.synth import SynthSpec, write_synthetic
from simcore.time import TimeManager

START, END, HISTORY = date(2025, 6, 2), date(2025, 6, 30), date(2025, 5, 1)
SEED = 42


def symbols(count: int) -> list[str]:
    return [f"S{i:04d}" for i in range(count)]


def make(count: int, folder: Path) -> Path:
    """Write W<count> into ``folder`` (once) and return the store's root."""
    root = folder / f"w{count}"
    if not (root / "bars").is_dir():
        spec = SynthSpec(tuple(symbols(count)), START, END, HISTORY, seed=SEED)
        write_synthetic(ParquetStore(root), spec, TimeManager())
    return root


def minute_bars(root: Path, count: int) -> pl.DataFrame:
    """All 1m bars of the workload (symbol, timestamp = bar start UTC, OHLCV), by symbol and time."""
    return (
        ParquetStore(root)
        .scan(BARS_1M, symbols(count))
        .select("symbol", "timestamp", "open", "high", "low", "close", "volume")
        .collect()
        .sort("symbol", "timestamp")
    )
