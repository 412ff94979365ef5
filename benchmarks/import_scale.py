"""``simcore data import`` of one big file, end to end: wall time and the peak resident memory
of the command's process, against the file's size — the import reads, cleans and writes it a
block at a time (``simcore.store.table_files.read_blocks``), so its memory is a block's.

    python -m benchmarks.import_scale --data /work/bench/uni --store u1000x21
    python -m benchmarks.import_scale --data /work/bench/uni --store u1000x21 --parquet

The file is written once from a synthetic store (``benchmarks.universe`` makes them: 1,000
symbols x 21 sessions is 8.2M 1m bars), every symbol's bars in time order, a symbol after
another's session by session (the order a vendor's daily files concatenated have), and kept
beside the store. The import goes into a fresh store each time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

from benchmarks.universe import folder_mb, measured


def source_file(store: Path, parquet: bool) -> Path:
    """The store's 1m bars as one file (made once): session by session, symbol by symbol."""
    path = store.with_name(f"{store.name}-1m.{'parquet' if parquet else 'csv'}")
    if path.is_file():
        return path
    ordered = (
        pl.scan_parquet(store / "bars" / "1m" / "*" / "*.parquet")
        .select("symbol", "timestamp", "open", "high", "low", "close", "volume")
        .sort(pl.col("timestamp").dt.date(), "symbol", "timestamp")
    )
    aside = path.with_suffix(".partial")
    if parquet:
        ordered.sink_parquet(aside)
    else:
        ordered.sink_csv(aside)
    aside.rename(path)
    return path


def run(store: Path, parquet: bool) -> dict:
    # the file is made in a process of its own: a child forked from this one after it sorted
    # the file's rows would start with (and report) this process's peak
    make = f"from benchmarks.import_scale import *; source_file(Path({str(store)!r}), {parquet})"
    subprocess.run([sys.executable, "-c", make], check=True)
    path = source_file(store, parquet)
    target = Path(tempfile.mkdtemp(prefix="import-", dir=store.parent))
    try:
        command = [sys.executable, "-m", "simcore", "data", "import", str(path),
                   "--store", str(target), "--format", path.suffix[1:]]  # fmt: skip
        seconds, peak_mb, _ = measured(command)
        rows = pl.scan_parquet(target / "bars" / "1m" / "*" / "*.parquet").select(pl.len())
        return {
            "file": path.name,
            "file_mb": round(path.stat().st_size / 2**20, 1),
            "rows": rows.collect().item(),
            "import_s": round(seconds, 1),
            "import_peak_mb": round(peak_mb),
            "store_mb": round(folder_mb(target), 1),
        }
    finally:
        shutil.rmtree(target, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="where the stores are")
    parser.add_argument("--store", default="u1000x21", help="the synthetic store to export")
    parser.add_argument("--parquet", action="store_true", help="a Parquet file, not a CSV")
    args = parser.parse_args()
    print(json.dumps(run(args.data / args.store, args.parquet)))


if __name__ == "__main__":
    main()
