"""How simcore scales: symbols, and the depth of the history reloaded before every session.

    python -m benchmarks.scaling                     # 1, 10, 100, 500 symbols; history depths
    python -m benchmarks.scaling --symbols 1 10 --no-history

Part 1 runs the peer benchmark's simcore task (benchmarks/engines/simcore_engine.py) on W<N>
for each N, in a fresh process per run, and reports bars/s and the process's peak memory.
Part 2 runs 20 sessions of 10 symbols with prefetch_days 1 (so every session reads its own
history) and one historical.data entry at a time — 1, 10 and 60 trading days of 1m bars, 252 of
1d — and reports the per-session reload time (the design's "subsequent load") and the first one.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from datetime import date
from pathlib import Path

from benchmarks import workload
from benchmarks.peers import ENGINES, run_once
from simcore.app.backtest import run_backtest
from simcore.engine.analysis import Strategy
from simcore.store.parquet import ParquetStore
from simcore.store.synth import SynthSpec, write_synthetic
from simcore.time import TimeManager

DEPTHS = (("1m", 1), ("1m", 10), ("1m", 60), ("1d", 252))


def symbol_scaling(counts: list[int], rounds: int, folder: Path) -> None:
    print("| symbols | 1m bars | bars/s median (min-max) | peak MB |")
    print("|---:|---:|---:|---:|")
    for count in counts:
        store = workload.make(count, folder)
        rates, peaks = [], []
        for _ in range(rounds):
            result, peak = run_once(ENGINES["simcore"], store, count)
            rates.append(result["bars"] / result["seconds"])
            peaks.append(peak)
        print(
            f"| {count} | {count * 7800:,} | {statistics.median(rates):,.0f} "
            f"({min(rates):,.0f}-{max(rates):,.0f}) | {max(peaks):,.0f} |"
        )


def history_scaling(folder: Path) -> None:
    symbols = tuple(workload.symbols(10))
    store = ParquetStore(folder / "history")
    if store.is_empty():
        spec = SynthSpec(
            symbols, date(2025, 2, 3), workload.END, date(2024, 3, 1), seed=workload.SEED
        )
        write_synthetic(store, spec, TimeManager())
    print("| history | first load (s) | per-session reload, mean (min-max) (s) |")
    print("|---|---:|---:|")
    for interval, days in DEPTHS:
        config = workload.session_config(
            list(symbols),
            streams=("1m", "5m"),
            history=(interval, days),
            prefetch_days=1,
            name=f"history {days} x {interval}",
        )
        metrics = run_backtest(config, store, Strategy()).metrics
        later = metrics.subsequent_load
        print(
            f"| {days} days of {interval} | {metrics.initial_load or 0:.4f} | "
            f"{later.mean:.4f} ({later.minimum:.4f}-{later.maximum:.4f}) |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, nargs="*", default=[1, 10, 100, 500])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-history", action="store_true")
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.data or Path(tmp)
        symbol_scaling(args.symbols, args.rounds, folder)
        if not args.no_history:
            print()
            history_scaling(folder)


if __name__ == "__main__":
    main()
