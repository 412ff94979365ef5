"""Import and cleaning: exact counts per reason, nothing lost, timestamps and mappings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simcore.errors import DataError
from simcore.store.cleaning import clean_rows
from simcore.store.importers import import_frame
from simcore.store.parquet import BARS_1D, BARS_1M, QUOTES, ParquetStore
from simcore.store.table_files import parse_column_map, read_table
from simcore.time import TimeManager

# Naive New York wall-clock times; 2025-07-02 is a full session (09:30-16:00).
CSV = """time,o,h,l,c,vol
2025-07-02 09:31:00,10,11,9,10.5,100
2025-07-02 09:30:00,10,11,9,10.5,100
2025-07-02 09:32:00,NaN,11,9,10.5,100
2025-07-02 09:33:00,10,11,9,,100
2025-07-02 09:34:00,0,11,9,10.5,100
2025-07-02 09:35:00,10,11,9,10.5,-5
2025-07-02 09:36:00,10,9,11,10,100
2025-07-02 09:37:00,12,11,9,10.5,100
2025-07-02 09:38:00,10,11,9,11.5,100
2025-07-02 09:31:00,10,11,9,10.6,999
2025-07-02 09:31:00,10,11,9,10.7,999
not a time,10,11,9,10.5,100
2025-07-02 08:00:00,10,11,9,10.5,100
2025-07-02 16:00:00,10,11,9,10.5,100
2025-07-02 09:39:00,10,11,9,abc,100
"""
MAPPING = "timestamp=time,open=o,high=h,low=l,close=c,volume=vol"


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "bars.csv"
    path.write_text(CSV)
    return path


def test_bad_rows_are_counted_by_reason_exactly(
    csv_file: Path, store: ParquetStore, tm: TimeManager
):
    frame = read_table(
        csv_file,
        BARS_1M,
        tm,
        columns=parse_column_map(MAPPING),
        source_tz="America/New_York",
        symbol="XYZ",
    )
    part = import_frame(store, BARS_1M, frame, tm)
    c = part.clean
    assert c.rows_read == 15
    assert c.rejected_by_reason == {
        "missing_value": 3,  # NaN open, empty close, unparseable close
        "duplicate": 2,  # the 09:31 rows after the first
        "bad_timestamp": 1,
        "close_outside_range": 1,
        "high_below_low": 1,
        "negative_volume": 1,
        "non_positive_price": 1,
        "open_outside_range": 1,
    }
    assert c.rows_rejected == 11 and c.clean.height == 4
    assert c.reordered == 2  # 09:30 and 08:00 each came after 09:31
    assert c.extended == 2  # 08:00 and 16:00 are outside [09:30, 16:00)
    assert part.written.rows_written == 4
    stored = store.read(BARS_1M, ["XYZ"])
    assert stored["timestamp"].to_list() == [
        datetime(2025, 7, 2, 12, 0, tzinfo=UTC),
        datetime(2025, 7, 2, 13, 30, tzinfo=UTC),
        datetime(2025, 7, 2, 13, 31, tzinfo=UTC),
        datetime(2025, 7, 2, 20, 0, tzinfo=UTC),
    ]
    assert (
        stored.filter(pl.col("timestamp") == datetime(2025, 7, 2, 13, 31, tzinfo=UTC))[
            "close"
        ].item()
        == 10.5
    )
    assert stored["extended"].to_list() == [True, False, False, True]
    assert set(c.rejected["reason"]) == set(c.rejected_by_reason)


def test_timestamps_with_offsets_and_epochs(tmp_path: Path, tm: TimeManager):
    path = tmp_path / "q.csv"
    path.write_text(
        "symbol,timestamp,bid_price,bid_size,ask_price,ask_size\n"
        "AAA,2025-07-02T09:30:00-04:00,10,1,10.1,1\n"
        "AAA,2025-07-02T13:31:00Z,10,1,10.1,1\n"
    )
    frame = read_table(path, QUOTES, tm)
    assert frame["timestamp"].to_list() == [
        datetime(2025, 7, 2, 13, 30, tzinfo=UTC),
        datetime(2025, 7, 2, 13, 31, tzinfo=UTC),
    ]
    epoch = tmp_path / "e.csv"
    epoch.write_text("t,open,high,low,close,volume\n1751463000,1,1,1,1,1\n")
    with pytest.raises(DataError, match="epoch-unit"):
        read_table(epoch, BARS_1M, tm, columns={"timestamp": "t"}, symbol="A")


def test_parquet_input_and_mapping_errors(tmp_path: Path, tm: TimeManager):
    path = tmp_path / "d.parquet"
    pl.DataFrame(
        {
            "sym": ["A"],
            "ts": [datetime(2025, 7, 2)],
            "open": [1.0],
            "high": [1.0],
            "low": [1.0],
            "close": [1.0],
            "volume": [5],
        }
    ).write_parquet(path)
    frame = read_table(
        path,
        BARS_1D,
        tm,
        columns={"symbol": "sym", "timestamp": "ts"},
        source_tz="America/New_York",
    )
    assert frame["timestamp"].item() == datetime(2025, 7, 2, 4, 0, tzinfo=UTC)
    with pytest.raises(DataError, match="unknown store column"):
        read_table(path, BARS_1D, tm, columns={"price": "open"})
    with pytest.raises(DataError, match="no column"):
        read_table(path, BARS_1D, tm, columns={"symbol": "ticker"})
    with pytest.raises(DataError, match="store_name=file_name"):
        parse_column_map("timestamp")


def test_daily_bar_on_a_holiday_is_rejected(tm: TimeManager):
    frame = pl.DataFrame(
        {
            "symbol": ["A", "A"],
            "timestamp": [datetime(2025, 7, 3, 4, tzinfo=UTC), datetime(2025, 7, 4, 4, tzinfo=UTC)],
            "open": [1.0, 1.0],
            "high": [1.0, 1.0],
            "low": [1.0, 1.0],
            "close": [1.0, 1.0],
            "volume": [1.0, 1.0],
        }
    )
    result = clean_rows(frame, BARS_1D, tm)
    assert result.rejected_by_reason == {"not_a_session": 1}


price = st.one_of(st.floats(min_value=-5, max_value=50), st.just(float("nan")), st.none())
row = st.fixed_dictionaries(
    {
        "minute": st.integers(0, 30),
        "open": price,
        "high": price,
        "low": price,
        "close": price,
        "volume": st.one_of(st.floats(-10, 1e6), st.just(float("nan")), st.none()),
    }
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(row, max_size=40))
def test_every_row_is_either_kept_or_counted(rows, tm: TimeManager):
    frame = pl.DataFrame(
        {
            "symbol": ["A"] * len(rows),
            "timestamp": [
                datetime(2025, 7, 2, 13, 29, tzinfo=UTC) + timedelta(minutes=r["minute"])
                for r in rows
            ],
            **{k: [r[k] for r in rows] for k in ("open", "high", "low", "close", "volume")},
        },
        schema_overrides={k: pl.Float64 for k in ("open", "high", "low", "close", "volume")},
    )
    result = clean_rows(frame, BARS_1M, tm)
    assert result.rows_read == len(rows) == result.clean.height + result.rows_rejected
    assert sum(result.rejected_by_reason.values()) == result.rows_rejected
    clean = result.clean
    assert clean["timestamp"].is_sorted() and clean["timestamp"].n_unique() == clean.height
    assert (clean["low"] <= clean["high"]).all() and (clean["volume"] >= 0).all()
    assert (clean["open"] > 0).all() and (
        (clean["close"] >= clean["low"]) & (clean["close"] <= clean["high"])
    ).all()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "", "b!"]),  # two symbols, a missing and a bad one
            st.integers(0, 12),  # minute after 09:30
            st.sampled_from(["10.5", "11", "", "x", "-1"]),  # close: good, empty, text, <= 0
        ),
        min_size=1,
        max_size=40,
    ),
    block_rows=st.integers(1, 9),
    parquet=st.booleans(),
)
def test_a_file_imported_in_blocks_is_the_file_imported_whole(
    tmp_path_factory, tm: TimeManager, rows, block_rows, parquet
):
    """A file too big to hold is read, cleaned and written a block at a time, each block
    carrying its symbols' times to the next: the counts per reason, the reordered rows and the
    stored rows are the whole file's. The one case a block cannot see — a row at the time of
    an earlier one that is not its symbol's latest — replaces instead of being a duplicate:
    then the same times are stored, and the row is counted replaced instead of rejected."""
    from simcore.store.importers import import_file

    folder = tmp_path_factory.mktemp("blocks")
    text = "symbol,timestamp,open,high,low,close,volume\n" + "".join(
        f"{s},2025-07-02T{9 + (30 + m) // 60:02d}:{(30 + m) % 60:02d}:00-04:00,10,12,1,{c},5\n"
        for s, m, c in rows
    )
    path = folder / "bars.csv"
    path.write_text(text)
    if parquet:
        frame = pl.read_csv(path, infer_schema=False)
        path = folder / "bars.parquet"
        frame.write_parquet(path, row_group_size=block_rows)
    whole_store, block_store = ParquetStore(folder / "whole"), ParquetStore(folder / "blocks")
    whole = import_frame(whole_store, BARS_1M, read_table(path, BARS_1M, tm), tm)
    report = import_file(block_store, path, BARS_1M, tm, block_rows=block_rows)

    def stored(store: ParquetStore) -> pl.DataFrame:
        return store.read(BARS_1M, ["A", "B"]).sort("symbol", "timestamp")

    blocked = report.parts[0]
    assert blocked.clean.rows_read == whole.clean.rows_read == len(rows)
    assert blocked.clean.reordered == whole.clean.reordered
    assert (
        blocked.clean.rows_rejected + blocked.written.rows_replaced
    ) == whole.clean.rows_rejected
    # the rows a block cannot see: the first in its block at the time of a row of an earlier
    # block, which is not that symbol's latest time in the earlier blocks
    valid = [(s, m) for s, m, c in rows if s in ("A", "B") and c in ("10.5", "11")]
    latest: dict[str, int] = {}
    before: set[tuple[str, int]] = set()
    unseen = 0
    blocks = [rows[i : i + block_rows] for i in range(0, len(rows), block_rows)]
    for block in blocks:
        keys = [(s, m) for s, m, c in block if s in ("A", "B") and c in ("10.5", "11")]
        for key in dict.fromkeys(keys):
            symbol, minute = key
            unseen += key in before and minute != latest[symbol]
        for symbol, minute in keys:
            latest[symbol] = max(latest.get(symbol, minute), minute)
        before.update(keys)
    assert len(before) == len(set(valid))
    assert blocked.written.rows_replaced == unseen
    if unseen:
        keys = ["symbol", "timestamp"]
        assert stored(block_store).select(keys).equals(stored(whole_store).select(keys))
    else:
        assert stored(block_store).equals(stored(whole_store))
        assert blocked.clean.rejected_by_reason == whole.clean.rejected_by_reason


def test_an_import_in_blocks_leaves_no_spool_and_clears_a_killed_ones(tmp_path, tm: TimeManager):
    """A file of several blocks is spooled beside the store while it is imported: the spool
    goes when the import ends, and a killed import's (its process gone) goes at the next."""
    from simcore.store.importers import SPOOL_PREFIX, import_file

    store = ParquetStore(tmp_path / "store")
    killed = store.root / f"{SPOOL_PREFIX}{2**22 + 12345}"  # above any pid this machine gives
    (killed / "0000").mkdir(parents=True)
    path = tmp_path / "bars.csv"
    path.write_text(
        "symbol,timestamp,open,high,low,close,volume\n"
        + "".join(f"A,2025-07-02T10:{m:02d}:00-04:00,10,11,9,10,5\n" for m in range(10))
    )
    report = import_file(store, path, BARS_1M, tm, block_rows=3)
    assert report.rows_read == report.rows_written == 10
    assert list(store.root.glob(f"{SPOOL_PREFIX}*")) == []
    assert store.read(BARS_1M, ["A"]).height == 10
