"""One module per engine; each runs the benchmark task on a workload store and prints one JSON
line: bars, bars_5m, bars_15m, crosses, seconds (from data on disk to the answer)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def cli(run) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--symbols", type=int, required=True)
    args = parser.parse_args()
    print(json.dumps(run(args.store, args.symbols)))
