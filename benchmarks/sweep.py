"""A parameter sweep of the W10 workload: serially in one process vs on a local Ray.

    python -m benchmarks.sweep                 # 64 runs: fast 8 values x slow 8 values
    python -m benchmarks.sweep --fast 2 --slow 2

Each run is ``SmaCrossover`` on W10 (10 symbols, the workload's 20 sessions of 1m bars), a
whole deterministic backtest writing its results folder, exactly as ``simcore sweep`` runs it.
Serial: ``run_serial`` in this process. Ray: ``run_on_ray`` on a local Ray with every core
(started and stopped inside the measurement: its start-up is part of the cost), data
``shared`` (the workers read the store's path). The overhead per run is Ray's wall time times
its workers, less the serial time, over the runs. Wall-clock figures: measured here, never
asserted by a test.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from benchmarks.workload import make, session_config, symbols
from simcore.app.backtest import run_backtest
from simcore.config.models import FrozenDict
from simcore.strategies.sma_cross import SmaCrossover
from simcore.sweep.grid import expand
from simcore.sweep.runner import Sweep, run_on_ray, run_serial

FAST = [3, 5, 8, 10, 13, 15, 20, 25]
SLOW = [30, 40, 50, 60, 80, 100, 120, 150]


def _sweep(root: Path, out: Path, fast: list[int], slow: list[int]) -> Sweep:
    config = session_config(symbols(10), streams=("1m",), history=None, name="sweep W10")
    metadata = config.metadata.model_copy(
        update={
            "strategy": "simcore.strategies.sma_cross:SmaCrossover",
            "parameters": FrozenDict({"shares": 10}),
        }
    )
    config = config.model_copy(update={"metadata": metadata})
    runs = expand({"fast": fast, "slow": slow}, SmaCrossover, {"shares": 10})
    sweep = Sweep(config, metadata.strategy, runs, root, out, backtest=run_backtest)
    sweep.prepare()
    return sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", type=int, default=8, help="values of fast (of 8)")
    parser.add_argument("--slow", type=int, default=8, help="values of slow (of 8)")
    args = parser.parse_args()
    fast, slow = FAST[: args.fast], SLOW[: args.slow]
    quiet = lambda *a: None  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        root = make(10, Path(tmp))
        serial = _sweep(root, Path(tmp) / "serial", fast, slow)
        started = time.perf_counter()
        run_serial(serial, serial.runs, quiet)
        serial_s = time.perf_counter() - started
        on_ray = _sweep(root, Path(tmp) / "ray", fast, slow)
        started = time.perf_counter()
        facts = run_on_ray(on_ray, on_ray.runs, quiet)
        ray_s = time.perf_counter() - started
        runs = len(serial.runs)
        failed = [
            n for s in (serial, on_ray) for n, o in s.outcomes.items() if o["status"] != "complete"
        ]
        same = all(
            (serial.out / r.name / "manifest.json").read_bytes()
            == (on_ray.out / r.name / "manifest.json").read_bytes()
            for r in serial.runs
        )
        workers = int(facts["cpus"])
        per_run = (ray_s * workers - serial_s) / runs
        print(f"sweep of W10: {runs} runs of SmaCrossover, {os.cpu_count()} cores")
        print(f"{'mode':<22} {'wall s':>8} {'s/run':>7}")
        print(f"{'serial (one process)':<22} {serial_s:>8.2f} {serial_s / runs:>7.3f}")
        print(f"{f'Ray, {workers} workers':<22} {ray_s:>8.2f} {ray_s / runs:>7.3f}")
        print(f"speed-up {serial_s / ray_s:.2f}x; Ray overhead per run {per_run * 1e3:.0f} ms "
              f"(wall x workers - serial, over runs); manifests identical: {same}; "
              f"failed: {failed or 'none'}")  # fmt: skip


if __name__ == "__main__":
    main()
