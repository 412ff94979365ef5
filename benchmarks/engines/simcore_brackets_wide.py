"""simcore with wide brackets: ``simcore_brackets`` with its legs 5% away, so that they seldom
fill and the run trades as ``simcore_orders`` does (the same fills, to within a few): what the
legs' bookkeeping costs, apart from the extra trading that 1% legs make."""

from __future__ import annotations

from pathlib import Path

from benchmarks.engines import cli
from benchmarks.engines.simcore_brackets import SmaCrossBracketTrader
from benchmarks.engines.simcore_engine import run as run_simcore


class SmaCrossWideBracketTrader(SmaCrossBracketTrader):
    width = 0.05


def run(store: Path, count: int) -> dict:
    return run_simcore(store, count, SmaCrossWideBracketTrader)


if __name__ == "__main__":
    cli(run)
