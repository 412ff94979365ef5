"""Clock-driven replay: how late each timestamp is released, in wall milliseconds.

    python -m benchmarks.release_lag                       # 100 symbols at 60x, 360x, 3600x
    python -m benchmarks.release_lag --speeds 3600 --symbols 10

One full session (2025-06-02, 390 one-minute releases) of the benchmark workload replayed by the
thread runtime with SmaCrossCounter (1m streamed, 5m and 15m derived, SMA(20) of the 5m close).
The lag of a release is the wall time between when the virtual clock reached the timestamp and
when the coordinator released it; overruns are counted per link. Wall-clock figures: measured
here, never asserted by a test.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.workload import START, make, session_config, symbols
from simcore.app.backtest import run_backtest
from simcore.store.parquet import ParquetStore
from simcore.strategies.sma_cross import SmaCrossCounter


def measure(root: Path, count: int, speed: float) -> dict[str, object]:
    config = session_config(symbols(count), history=None, prefetch_days=1, name="release lag")
    bt = config.backtest_config.model_copy(
        update={"start_date": START, "end_date": START, "speed_multiplier": speed}
    )
    config = config.model_copy(update={"backtest_config": bt})
    strategy = SmaCrossCounter()
    strategy.emit_signals = False
    result = run_backtest(config, ParquetStore(root), strategy)
    figures = result.metrics.clock_driven
    return {"lag": figures["release_lag_ms"], "overruns": figures["overruns"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--speeds", type=float, nargs="*", default=[60.0, 360.0, 3600.0])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = make(args.symbols, Path(tmp))
        print(f"{args.symbols} symbols, one session of 390 releases")
        print(f"{'speed':>8} {'releases':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  overruns")
        for speed in args.speeds:
            r = measure(root, args.symbols, speed)
            lag = r["lag"]
            overruns = ", ".join(f"{k} {v}" for k, v in r["overruns"].items()) or "none"
            print(
                f"{speed:>7g}x {lag['count']:>9} {lag['p50']:>8.3f} {lag['p99']:>8.3f} "
                f"{lag['max']:>8.3f}  {overruns}",
                flush=True,
            )


if __name__ == "__main__":
    main()
