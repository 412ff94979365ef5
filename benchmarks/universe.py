"""Universe-scale runs end to end: ``simcore data synth`` and ``simcore backtest`` (results and
report written) on U<N>, N synthetic symbols x S sessions of 1m bars, with their wall time, the
peak resident memory of each command's process, and the size of what they wrote.

    python -m benchmarks.universe --symbols 1000 --sessions 21 62     # a month, a quarter
    python -m benchmarks.universe --symbols 3000 --sessions 252 --data /big/disk
    python -m benchmarks.universe --symbols 1000 --sessions 62 --orders   # SmaCrossTrader
    python -m benchmarks.universe --symbols 3000 --sessions 5 --peers nautilus polars-limit

The task is the peers' (``SmaCrossCounter``: streams 1m/5m/15m, 10 days of 1d history,
``prefetch_days`` 5); ``--orders`` trades it (``SmaCrossTrader``). The sessions are the last S
of the calendar up to 2025-06-30; the daily history starts 30 days before the first. Each
command runs in its own process, as a user runs it; its peak RSS is the kernel's (``wait4``),
as ``/usr/bin/time -v`` reports it. A store already made (same N and S) is reused.

``--peers`` also runs the peers benchmark's engines (``benchmarks.peers``) on the same store,
each in a fresh process timed from reading the data to the answer, with the time of a year
(252 sessions) extrapolated from theirs; simcore's figure to set beside them is its engine's
``engine_s`` (its end-to-end time also writes the results and the report).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks.peers import ENGINES, run_once
from benchmarks.workload import session_config_json
from simcore.time import TimeManager

LAST_DAY = date(2025, 6, 30)
COUNTER = "simcore.strategies.sma_cross:SmaCrossCounter"
TRADER = "simcore.strategies.sma_cross:SmaCrossTrader"


def measured(command: list[str]) -> tuple[float, float, str]:
    """Run ``command``: (wall seconds, peak RSS in MiB, its output's last lines)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with process.stdout:  # type: ignore[union-attr]
        output = process.stdout.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, output


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def sessions(count: int) -> list[date]:
    days = TimeManager().trading_days(LAST_DAY - timedelta(days=2 * count + 30), LAST_DAY)
    if len(days) < count:
        raise SystemExit(f"fewer than {count} sessions before {LAST_DAY}")
    return days[-count:]


def run(symbols: int, session_count: int, folder: Path, orders: bool, peers: list[str]) -> dict:
    days = sessions(session_count)
    store = folder / f"u{symbols}x{session_count}"
    row = {"symbols": symbols, "sessions": session_count, "bars_1m": symbols * session_count * 390}
    if not (store / "bars").is_dir():
        seconds, peak, _ = measured([
            sys.executable, "-m", "simcore", "data", "synth", "--symbols", str(symbols),
            "--start", days[0].isoformat(), "--end", days[-1].isoformat(),
            "--daily-start", (days[0] - timedelta(days=30)).isoformat(), "--store", str(store),
        ])  # fmt: skip
        row |= {"synth_s": seconds, "synth_peak_mb": peak, "store_mb": folder_mb(store)}
    names = [f"S{i:04d}" for i in range(symbols)]
    config = session_config_json(
        names, prefetch_days=5, name=f"U{symbols}x{session_count}", dates=(days[0], days[-1])
    )
    config_file = folder / f"u{symbols}x{session_count}.json"
    config_file.write_text(json.dumps(config))
    out = folder / f"out-u{symbols}x{session_count}{'-orders' if orders else ''}"
    seconds, peak, _ = measured([
        sys.executable, "-m", "simcore", "backtest", str(config_file), "--store", str(store),
        "--out", str(out), "--strategy", TRADER if orders else COUNTER,
    ])  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    row |= {
        "backtest_s": seconds,
        "backtest_peak_mb": peak,
        "results_mb": folder_mb(out),
        "engine_s": metrics["backtest"]["total_seconds"],
    }
    for peer in peers:
        result, peak = run_once(ENGINES[peer], store, symbols)
        row[peer] = {
            "seconds": result["seconds"],
            "peak_mb": peak,
            "bars_per_s": result["bars"] / result["seconds"],
            "year_s": result["seconds"] * 252 / session_count,
            "crosses": result.get("crosses"),
        }
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, nargs="*", default=[1000])
    parser.add_argument("--sessions", type=int, nargs="*", default=[21, 62])
    parser.add_argument("--orders", action="store_true", help="trade: SmaCrossTrader")
    parser.add_argument("--data", type=Path, default=None, help="keep the stores here")
    parser.add_argument(
        "--peers", nargs="*", default=[], choices=["nautilus", "backtrader", "polars-limit"]
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.data or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for symbols in args.symbols:
            for count in args.sessions:
                row = run(symbols, count, folder, args.orders, args.peers)
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
