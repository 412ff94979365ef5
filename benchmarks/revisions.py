"""simcore at another revision against this checkout, on the same workloads, in one run.

    python -m benchmarks.revisions be8ea5f              # W10 and W100, 5 rounds
    python -m benchmarks.revisions HEAD~3 --workloads 100 --rounds 7
    python -m benchmarks.revisions 5917625 --workloads 100 --orders   # trading, with brackets
    python -m benchmarks.revisions 5917625 --daily --workloads 500      # D500, daily bars

The revision is checked out into a temporary git worktree; each round runs, in fresh
processes and alternating, the revision's ``benchmarks.engines.simcore_engine``, this
checkout's, and the Polars limit, so that the machine's drift hits all three alike. Prints
each one's bars/s (median, min, max), its answers, and the ratios. Both sides must give the
same answers (bars and crosses): a change of speed that changes the outputs is no comparison.

``--orders`` compares the trading path instead: the revision's and this checkout's
``simcore_orders`` (market orders at each cross), and this checkout's ``simcore_brackets``
(a bracket on each entry) and ``simcore_brackets_wide`` (legs that seldom fill), each timed
against the revision's market orders. ``--daily`` runs the daily workload (D<N>, 2,366
sessions of 1d bars) instead, against its Polars limit.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import workload
from benchmarks.peers import run_once

REPO = Path(__file__).resolve().parents[1]
SIMCORE = "benchmarks.engines.simcore_engine"
LIMIT = "benchmarks.engines.polars_limit"
ORDERS = "benchmarks.engines.simcore_orders"
DAILY, DAILY_LIMIT = (
    "benchmarks.engines.daily.simcore_daily",
    "benchmarks.engines.daily.polars_daily",
)
BRACKETS = {
    "brackets": "benchmarks.engines.simcore_brackets",
    "wide brackets": "benchmarks.engines.simcore_brackets_wide",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision", help="a git revision of this repository")
    parser.add_argument("--workloads", type=int, nargs="*", default=[10, 100])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--data", type=Path, default=None, help="keep the workloads here")
    parser.add_argument(
        "--orders", action="store_true", help="the trading path: market orders and brackets"
    )
    parser.add_argument("--daily", action="store_true", help="the daily workload, D<N>")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        other = Path(tmp) / "revision"
        subprocess.run(
            [
                "git",
                "-C",
                str(REPO),
                "worktree",
                "add",
                "--detach",
                "-q",
                str(other),
                args.revision,
            ],
            check=True,
        )
        try:
            for count in args.workloads:
                make = workload.make_daily if args.daily else workload.make
                store = make(count, args.data or Path(tmp))
                engine = DAILY if args.daily else ORDERS if args.orders else SIMCORE
                sides = {args.revision: (other, engine), "this": (REPO, engine)}
                if args.orders:
                    sides.update({name: (REPO, module) for name, module in BRACKETS.items()})
                else:
                    sides["limit"] = (REPO, DAILY_LIMIT if args.daily else LIMIT)
                rates: dict[str, list[float]] = {name: [] for name in sides}
                answers: dict[str, dict] = {}
                for _ in range(args.rounds):
                    for name, (folder, module) in sides.items():
                        result, _ = run_once(module, store, count, folder)
                        rates[name].append(result["bars"] / result["seconds"])
                        answers[name] = {
                            k: result.get(k) for k in ("bars_5m", "bars_15m", "crosses", "fills")
                            if k in result
                        }  # fmt: skip
                name = (
                    f"D{count}: {count} symbols x 2,366 days"
                    if args.daily
                    else (f"W{count}: {count} symbols x 20 days")
                )
                print(f"{name}, {args.rounds} rounds")
                for name, values in rates.items():
                    print(
                        f"  {name:>12}: {statistics.median(values):>12,.0f} bars/s "
                        f"({min(values):,.0f}-{max(values):,.0f}) {answers[name]}"
                    )
                median = {name: statistics.median(values) for name, values in rates.items()}
                if args.orders:  # time against the revision's market orders
                    for name in ("this", *BRACKETS):
                        print(f"  {name} time / {args.revision}'s orders: "
                              f"{median[args.revision] / median[name]:.3f}")  # fmt: skip
                else:
                    print(
                        f"  this / {args.revision}: {median['this'] / median[args.revision]:.3f}; "
                        f"share of the limit: {median[args.revision] / median['limit']:.0%} -> "
                        f"{median['this'] / median['limit']:.0%}"
                    )
                if answers["this"] != answers[args.revision]:
                    print(
                        "  the answers differ: not a comparison of the same work", file=sys.stderr
                    )
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(other)], check=False
            )


if __name__ == "__main__":
    main()
