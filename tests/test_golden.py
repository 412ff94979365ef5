"""End-to-end golden snapshots of the bundled backtest configs on the bundled sample.

Each snapshot holds what a reviewer can read (marking, history plan, historical indicator
values, quality, signals, bar counts per interval) plus the content digest of every output
table. Update with ``pytest --snapshot-update`` only after reading the diff.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import pickle
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.app.backtest import resolve_strategy, run_backtest
from simcore.config import load_config
from simcore.results import writing
from simcore.results.writing import frame_digest
from tests.golden_support import GoldenJSON

REPO = Path(__file__).resolve().parents[1]


def _rows(frame: pl.DataFrame) -> list[dict]:
    out = []
    for row in frame.iter_rows(named=True):
        out.append(
            {
                k: (
                    None
                    if isinstance(v, float) and math.isnan(v)
                    else (str(v) if not isinstance(v, int | float | bool | type(None)) else v)
                )
                for k, v in row.items()
            }
        )
    return out


@pytest.mark.parametrize("name", ["example_backtest", "single_day"])
def test_backtest_outputs_match_golden(name, sample_store, snapshot):
    config = load_config(REPO / "configs" / f"{name}.json")
    result = run_backtest(config, sample_store, resolve_strategy(config, None))
    t = result.tables
    scalar_indicators = t["historical_indicators"].filter(pl.col("minute").is_null()).drop("minute")
    minute_indicators = t["historical_indicators"].filter(pl.col("minute").is_not_null())
    golden = {
        "summary": result.summary,
        "marking": _rows(t["marking"]),
        "history_plan": _rows(t["history_plan"]),
        "historical_indicators": _rows(scalar_indicators.with_columns(pl.col("value").round(6))),
        "minute_indicators_sha256": frame_digest(minute_indicators),
        "quality": _rows(t["quality"]),
        "gaps": _rows(t["gaps"]),
        "signals": _rows(t["signals"]),
        "bars_per_interval": _rows(
            t["bars"].group_by("interval", "source").len().sort("interval", "source")
        ),
        "orders": _rows(t["orders"]),
        "fills": _rows(t["fills"]),
        "rejections": _rows(t["rejections"]),
        "positions": _rows(t["positions"].with_columns(pl.col(pl.Float64).round(6))),
        "equity_last": _rows(t["equity"].tail(1)),
        "table_sha256": {k: frame_digest(v) for k, v in sorted(t.items())},
    }
    assert golden == snapshot(extension_class=GoldenJSON)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.text(max_size=4)), max_size=12),
    numbers=st.lists(st.one_of(st.none(), st.integers(-5, 5)), min_size=12, max_size=12),
)
def test_a_digest_is_the_same_whatever_the_slices_it_is_taken_in(values, numbers):
    """The manifest's digests are what the snapshots pin: hashing a text column a slice at a
    time (to bound its memory) must give the digest of the column hashed whole."""
    frame = pl.DataFrame(
        {
            "text": pl.Series(values, dtype=pl.String),
            "listed": pl.Series([[n] for n in numbers[: len(values)]], dtype=pl.List(pl.Int64)),
        }
    )
    whole = frame_digest(frame)
    original = writing.DIGEST_SLICE
    try:
        writing.DIGEST_SLICE = 3
        assert frame_digest(frame) == whole
    finally:
        writing.DIGEST_SLICE = original
    expected = hashlib.sha256()  # the definition, written out
    for name, dtype in frame.schema.items():
        text = "\x1f".join("\x00" if v is None else str(v) for v in frame[name].to_list())
        expected.update(f"{name}:{dtype}\n".encode() + hashlib.sha256(text.encode()).digest())
    assert whole == expected.hexdigest()


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), st.text(max_size=3)),
            st.one_of(st.none(), st.floats(allow_nan=False, width=64)),
            st.one_of(st.none(), st.integers(0, 2**40)),
        ),
        max_size=15,
    ),
    cuts=st.lists(st.integers(0, 15), max_size=4),
)
def test_a_table_written_in_parts_has_the_digest_of_the_whole(tmp_path_factory, rows, cuts):
    """A run's bars written a session at a time: the manifest's digest, taken as the parts are
    written or read back from them a column at a time, must be the digest of the table they
    make (empty parts too)."""
    schema = pl.Schema({"text": pl.String, "price": pl.Float64, "time": pl.Datetime("ns", "UTC")})
    whole = pl.DataFrame(rows, schema=schema, orient="row")
    folder = tmp_path_factory.mktemp("parts")
    bounds = [0, *sorted(min(c, whole.height) for c in cuts), whole.height]
    paths = []
    as_written = writing.TableDigest(schema)  # the recorder's: taken as each part is written
    for number, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        paths.append(folder / f"part-{number}.parquet")
        whole.slice(lo, hi - lo).write_parquet(paths[-1])
        as_written.update(whole.slice(lo, hi - lo))
    parted = writing.PartedTable(tuple(paths), schema)
    assert parted.height == whole.height
    assert parted.digest() == frame_digest(whole) == as_written.hexdigest()
    unpickled = pickle.loads(pickle.dumps(as_written))  # a checkpoint's: its hashes are lost
    assert unpickled.stale
    with pytest.raises(RuntimeError, match="lost its hashes"):
        unpickled.hexdigest()
    parted.write(folder / "out.parquet")
    assert pl.read_parquet(folder / "out.parquet").equals(whole)
