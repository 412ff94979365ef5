"""The Parquet store: round trip, file pruning and predicate push-down, merge, atomic writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from simcore.errors import DataError
from simcore.store.parquet import BARS_1D, BARS_1M, QUOTES, Dataset, ParquetStore
from simcore.store.schema import BAR_SCHEMA, conform

T0 = datetime(2025, 6, 30, 13, 30, tzinfo=UTC)


def bars(symbol: str, start: datetime, n: int, price: float = 100.0) -> pl.DataFrame:
    ts = [start + timedelta(minutes=i) for i in range(n)]
    return conform(
        pl.DataFrame(
            {
                "symbol": [symbol] * n,
                "timestamp": ts,
                "open": [price + i for i in range(n)],
                "high": [price + i + 1 for i in range(n)],
                "low": [price + i - 1 for i in range(n)],
                "close": [price + i + 0.5 for i in range(n)],
                "volume": [1000.0 + i for i in range(n)],
                "extended": [False] * n,
            }
        ),
        "bars",
    )


def test_round_trip_keeps_schema_and_values(store: ParquetStore):
    frame = bars("AAA", T0, 5)
    result = store.write(BARS_1M, frame)
    assert (result.rows_written, result.rows_replaced, result.files) == (5, 0, 1)
    back = store.read(BARS_1M, ["AAA"])
    assert back.schema == pl.Schema(BAR_SCHEMA)
    assert_frame_equal(back, frame)


def test_layout_one_file_per_symbol_and_period(store: ParquetStore):
    # 2025-06-30 13:30 UTC + 2 days of minutes crosses into July: two monthly files
    store.write(BARS_1M, bars("AAA", T0, 3))
    store.write(BARS_1M, bars("AAA", T0 + timedelta(days=2), 3))
    store.write(BARS_1M, bars("BBB", T0, 3))
    names = sorted(str(p.relative_to(store.root)) for p in store.root.rglob("*.parquet"))
    assert names == [
        "bars/1m/AAA/2025-06.parquet",
        "bars/1m/AAA/2025-07.parquet",
        "bars/1m/BBB/2025-06.parquet",
    ]
    assert store.symbols(BARS_1M) == ["AAA", "BBB"]


def test_a_day_of_one_symbol_opens_one_file_with_the_filter_pushed_down(store: ParquetStore):
    for month_start in (T0 - timedelta(days=40), T0, T0 + timedelta(days=2)):
        store.write(BARS_1M, bars("AAA", month_start, 10))
        store.write(BARS_1M, bars("BBB", month_start, 10))
    day_start = T0 + timedelta(days=2)
    day_end = day_start + timedelta(hours=8)
    files = store.files(BARS_1M, "AAA", day_start, day_end)
    assert [f.name for f in files] == ["2025-07.parquet"]
    plan = store.scan(BARS_1M, ["AAA"], day_start, day_end).explain()
    scan_line = next(line for line in plan.splitlines() if "SCAN" in line)
    assert "AAA/2025-07.parquet" in scan_line and "BBB" not in plan and "2025-06" not in plan
    assert "SELECTION" in plan and "timestamp" in plan  # the predicate sits in the scan
    assert store.read(BARS_1M, ["AAA"], day_start, day_end).height == 10


def test_range_is_half_open_and_regular_only_filters_extended(store: ParquetStore):
    frame = bars("AAA", T0, 10).with_columns(pl.Series("extended", [True, True] + [False] * 8))
    store.write(BARS_1M, frame)
    got = store.read(BARS_1M, ["AAA"], T0 + timedelta(minutes=1), T0 + timedelta(minutes=5))
    assert got["timestamp"].to_list() == [T0 + timedelta(minutes=i) for i in range(1, 5)]
    assert store.read(BARS_1M, ["AAA"], regular_only=True).height == 8


def test_write_merges_and_replaces_same_timestamps(store: ParquetStore):
    store.write(BARS_1M, bars("AAA", T0, 10, price=100))
    result = store.write(BARS_1M, bars("AAA", T0 + timedelta(minutes=5), 10, price=200))
    assert (result.rows_written, result.rows_replaced) == (10, 5)
    back = store.read(BARS_1M, ["AAA"])
    assert back.height == 15
    assert back["timestamp"].is_sorted()
    assert back["open"][4] == 104 and back["open"][5] == 200  # new rows win


def test_interrupted_write_leaves_the_old_file_intact(store: ParquetStore, monkeypatch):
    store.write(BARS_1M, bars("AAA", T0, 10))
    path = store.files(BARS_1M, "AAA")[0]
    before = path.read_bytes()

    def crash_midway(self, file, **kwargs):
        with open(file, "wb") as handle:
            handle.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", crash_midway)
    with pytest.raises(DataError, match=r"cannot write .*disk full"):
        store.write(BARS_1M, bars("AAA", T0 + timedelta(minutes=3), 10, price=500))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    assert store.read(BARS_1M, ["AAA"])["open"].max() == 109


def test_missing_symbol_scans_empty_with_the_schema(store: ParquetStore):
    frame = store.read(QUOTES, ["NONE"], T0, T0 + timedelta(days=1))
    assert frame.is_empty() and "bid_price" in frame.columns


def test_unsupported_datasets_are_refused():
    with pytest.raises(DataError, match="derived by the engine"):
        Dataset("bars", "5m")
    with pytest.raises(DataError, match="unknown dataset kind"):
        Dataset("trades")


def test_naive_query_bounds_are_refused(store: ParquetStore):
    store.write(BARS_1D, bars("AAA", T0, 1))
    with pytest.raises(DataError, match="aware"):
        store.scan(BARS_1D, ["AAA"], datetime(2025, 1, 1))


def test_summary_counts_rows_and_ranges(store: ParquetStore):
    store.write(BARS_1M, bars("AAA", T0, 10).with_columns(pl.lit(True).alias("extended")))
    (summary,) = store.summary()
    assert (summary.symbol, summary.rows, summary.extended_rows, summary.files) == (
        "AAA",
        10,
        10,
        1,
    )
    assert summary.first == T0 and summary.last == T0 + timedelta(minutes=9)
