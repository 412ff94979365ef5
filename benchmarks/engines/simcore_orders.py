"""simcore with orders on: the same task, with SmaCrossTrader placing a market order at every
cross through the paper broker (what the trading path costs)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.engines import cli
from benchmarks.engines.simcore_engine import run as run_simcore
from simcore.strategies.sma_cross import SmaCrossTrader


def run(store: Path, count: int) -> dict:
    return run_simcore(store, count, SmaCrossTrader)


if __name__ == "__main__":
    cli(run)
