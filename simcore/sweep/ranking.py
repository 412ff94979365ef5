"""A sweep's table: every run's parameters, outcome and statistics, ranked by one statistic."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from simcore.errors import UserError
from simcore.results.formats import STATISTICS
from simcore.sweep.runner import Sweep

RANKABLE = tuple(key for key, _, kind in STATISTICS if kind != "text")


def check_rank(statistic: str) -> None:
    if statistic not in RANKABLE:
        raise UserError(f"--rank {statistic!r}: rank by one of {', '.join(RANKABLE)}")


def sweep_table(sweep: Sweep, rank: str, ascending: bool = False) -> pl.DataFrame:
    """One row per run of the grid (runs resumed from an earlier sweep included), best first
    by ``rank``; failed runs last, with their error."""
    rows = []
    for run in sweep.runs:
        manifest = sweep.out / run.name / "manifest.json"
        summary = json.loads(manifest.read_text()).get("summary", {}) if manifest.is_file() else {}
        outcome = sweep.outcomes.get(run.name, {})
        stats = summary.get("statistics") or {}
        status = outcome.get("status") or summary.get("status") or "missing"
        rows.append(
            {
                "run": run.name,
                **{f"param_{k}": str(v) for k, v in run.values.items()},
                "status": status,
                "error": outcome.get("error") or summary.get("error"),
                "seconds": outcome.get("seconds"),
                **{key: _number(stats.get(key)) for key in RANKABLE},
            }
        )
    table = pl.DataFrame(rows, infer_schema_length=None)
    ok = pl.col("status") == "complete"
    return (
        table.with_columns(ok.not_().alias("_failed"))
        .sort(["_failed", rank, "run"], descending=[False, not ascending, False], nulls_last=True)
        .drop("_failed")
        .with_row_index("rank", offset=1)
    )


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def write_table(table: pl.DataFrame, out: Path) -> None:
    table.write_parquet(out / "sweep.parquet")
    table.write_csv(out / "sweep.csv")
