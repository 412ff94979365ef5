"""simcore against backtrader, NautilusTrader and the vectorised Polars limit, side by side.

    pip install -e '.[bench]'
    python -m benchmarks.peers                        # W10 and W100, 3 rounds
    python -m benchmarks.peers --workloads 10 --rounds 5

The task, for every engine: stream the 1m bars of W<N> (N symbols x 20 trading days, made by
simcore's generator), derive 5m and 15m bars (session-aligned), keep SMA(20) of the 5m close per
symbol and count crosses. Engines run alternately, each run in a fresh process that reads the
workload from disk; its time is from reading the data to the answer, and its peak memory is the
process's maximum resident set. An engine whose run takes longer than --slow seconds is not run
again on that workload (its rounds are counted in the table).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import workload

ENGINES = {
    "simcore": "benchmarks.engines.simcore_engine",
    "nautilus": "benchmarks.engines.nautilus_engine",
    "backtrader": "benchmarks.engines.backtrader_engine",
    "polars-limit": "benchmarks.engines.polars_limit",
    "simcore-orders": "benchmarks.engines.simcore_orders",
    "simcore-brackets": "benchmarks.engines.simcore_brackets",
    "simcore-brackets-wide": "benchmarks.engines.simcore_brackets_wide",
}


@dataclass
class Runs:
    engine: str
    rates: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)
    result: dict | None = None
    error: str | None = None


def run_once(module: str, store: Path, count: int, code: Path | None = None) -> tuple[dict, float]:
    """One run in a fresh process: its JSON answer and its own peak resident memory (MB).
    ``code``: run the module of that checkout (first on the path) instead of this one."""
    env = None if code is None else {**os.environ, "PYTHONPATH": str(code)}
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--store", str(store), "--symbols", str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=code,
        env=env,
    )
    with process.stdout, process.stderr:  # type: ignore[union-attr]
        out = process.stdout.read()  # type: ignore[union-attr]
        err = process.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"{module} failed:\n{err[-2000:]}")
    return json.loads(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def benchmark(
    store: Path, count: int, rounds: int, slow: float, engines: dict[str, str]
) -> list[Runs]:
    """``engines``: name -> module; each runs ``rounds`` times, alternating with the others."""
    runs = {name: Runs(name) for name in engines}
    for _ in range(rounds):
        for name, module in engines.items():
            r = runs[name]
            if r.error or (r.rates and r.result and r.result["seconds"] > slow):
                continue
            try:
                result, peak = run_once(module, store, count)
            except (RuntimeError, ValueError) as exc:
                r.error = str(exc).splitlines()[0]
                continue
            r.result = result
            r.rates.append(result["bars"] / result["seconds"])
            r.peak_mb.append(peak)
    return list(runs.values())


def table(title: str, runs: list[Runs], columns: tuple[str, ...]) -> str:
    """A markdown table: each engine's bars/s, its ratio to simcore, its answers (``columns``
    of its result) and its peak memory."""
    simcore = next((r for r in runs if r.engine == "simcore" and r.rates), None)
    base = statistics.median(simcore.rates) if simcore else None
    lines = [
        title,
        "| engine | bars/s median (min-max) | rounds | simcore / engine | "
        + " | ".join(c.replace("_", " ") for c in columns)
        + " | peak MB |",
        "|---|---:|---:|---:|" + "---:|" * len(columns) + "---:|",
    ]
    for r in runs:
        if not r.rates:
            lines.append(f"| {r.engine} | failed: {r.error} | 0 |" + " |" * (len(columns) + 2))
            continue
        median = statistics.median(r.rates)
        ratio = f"{base / median:.2f}x" if base else "-"
        res = r.result or {}
        answers = " | ".join(f"{res.get(c, 0):,}" for c in columns)
        lines.append(
            f"| {r.engine} | {median:,.0f} ({min(r.rates):,.0f}-{max(r.rates):,.0f}) | "
            f"{len(r.rates)} | {ratio} | {answers} | {max(r.peak_mb):,.0f} |"
        )
    return "\n".join(lines)


def parse_run_arguments(
    parser: argparse.ArgumentParser, engines: list[str], slow: float
) -> argparse.Namespace:
    """The options every peer benchmark takes (rounds, slow, engines, data); prints the machine."""
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--slow", type=float, default=slow, help="seconds; slower engines run once")
    parser.add_argument("--engines", nargs="*", default=engines, choices=engines)
    parser.add_argument(
        "--data", type=Path, default=None, help="keep the workloads here (default: a temp folder)"
    )
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    return args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", type=int, nargs="*", default=[10, 100])
    args = parse_run_arguments(parser, list(ENGINES), slow=120.0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.data or Path(tmp)
        for count in args.workloads:
            store = workload.make(count, folder)
            engines = {name: ENGINES[name] for name in args.engines}
            runs = benchmark(store, count, args.rounds, args.slow, engines)
            title = f"W{count}: {count} symbols x 20 days = {count * 20 * 390:,} 1m bars"
            print(table(title, runs, ("bars_5m", "bars_15m", "crosses", "fills")))
            print()


if __name__ == "__main__":
    main()
