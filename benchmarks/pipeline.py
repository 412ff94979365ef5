"""Whole-pipeline throughput: 1m bars per second for N symbols x 20 trading days.

    python -m benchmarks.pipeline                 # 1, 10 and 100 symbols
    python -m benchmarks.pipeline --symbols 500 --rounds 1

Data comes from the project's generator into a temporary store (not timed). Each round runs
a real data-driven backtest (coordinator, processor, quality manager, analysis engine with
SmaCrossCounter: 1m streamed, 5m and 15m derived, SMA(20) of the 5m close), historical loading
included, and the figure is streamed 1m bars / wall seconds of the whole run_backtest call.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.workload import END, SEED, START, session_config
from simcore.app.backtest import run_backtest
from simcore.config import SessionConfig
from simcore.store.parquet import ParquetStore
from simcore.store.synth import SynthSpec, write_synthetic
from simcore.strategies.sma_cross import SmaCrossCounter, SmaCrossTrader
from simcore.time import TimeManager


def config(symbols: list[str]) -> SessionConfig:
    return session_config(symbols, history=None, name=f"bench {len(symbols)}")


def measure(count: int, rounds: int, folder: Path, trade: bool = False) -> dict[str, float]:
    symbols = [f"S{i:04d}" for i in range(count)]
    store = ParquetStore(folder / f"store{count}")
    write_synthetic(store, SynthSpec(tuple(symbols), START, END, seed=SEED), TimeManager())
    rates, crosses, bars, fills = [], 0, 0, 0
    for _ in range(rounds):
        strategy = SmaCrossTrader() if trade else SmaCrossCounter()
        strategy.emit_signals = False
        started = time.perf_counter()
        result = run_backtest(config(symbols), store, strategy)
        elapsed = time.perf_counter() - started
        bars = result.summary["bars_streamed"]
        rates.append(bars / elapsed)
        crosses = strategy.crosses
        fills = result.summary["fills"]
    return {
        "symbols": count,
        "bars": bars,
        "median": statistics.median(rates),
        "min": min(rates),
        "max": max(rates),
        "crosses": crosses,
        "fills": fills,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, nargs="*", default=[1, 10, 100])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--trade",
        action="store_true",
        help="SmaCrossTrader: orders at every cross (the broker's cost)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(
            f"{'symbols':>8} {'1m bars':>10} {'bars/s median':>14} {'(min-max)':>22} "
            f"{'per symbol':>11} {'crosses':>8} {'fills':>7}"
        )
        for count in args.symbols:
            r = measure(count, args.rounds, Path(tmp), args.trade)
            spread = f"({r['min']:,.0f}-{r['max']:,.0f})"
            print(
                f"{r['symbols']:>8} {r['bars']:>10,} {r['median']:>14,.0f} {spread:>22} "
                f"{r['median'] / count:>11,.0f} {r['crosses']:>8,} {r['fills']:>7,}"
            )


if __name__ == "__main__":
    main()
