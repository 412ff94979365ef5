"""Long daily backtests: simcore against NautilusTrader, backtrader and the Polars limit.

    pip install -e '.[bench]'
    python -m benchmarks.daily                       # D500: 500 symbols, 3 rounds
    python -m benchmarks.daily --symbols 100 --rounds 5 --data /tmp/bench

The task, for every engine: stream the daily bars of D<N> (N symbols from simcore's generator,
2016-01-04..2025-05-30: 2,366 sessions), keep SMA(20) of the daily close per symbol and count
crosses. simcore's run is a real data-driven backtest that also reloads 20 trailing days of 1d
history before every session (the design's rule; prefetch_days 1). Each run is a fresh process
timed from reading the data to the answer; its peak memory is the process's maximum resident
set. Engines alternate round by round; one slower than --slow seconds runs once.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks import workload
from benchmarks.peers import benchmark, parse_run_arguments, table

ENGINES = {
    "simcore": "benchmarks.engines.daily.simcore_daily",
    "nautilus": "benchmarks.engines.daily.nautilus_daily",
    "backtrader": "benchmarks.engines.daily.backtrader_daily",
    "polars-limit": "benchmarks.engines.daily.polars_daily",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=500)
    args = parse_run_arguments(parser, list(ENGINES), slow=60.0)
    with tempfile.TemporaryDirectory() as tmp:
        store = workload.make_daily(args.symbols, args.data or Path(tmp))
        engines = {name: ENGINES[name] for name in args.engines}
        runs = benchmark(store, args.symbols, args.rounds, args.slow, engines)
        title = f"D{args.symbols}: {args.symbols} symbols x 2,366 sessions of 1d bars"
        print(table(title, runs, ("crosses", "loop_seconds")))


if __name__ == "__main__":
    main()
