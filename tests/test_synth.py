"""The synthetic generator: deterministic, calendar-aware, realistic enough to test against."""

from __future__ import annotations

from datetime import date, time

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from simcore.store.parquet import BARS_1D, BARS_1M, BARS_1S, QUOTES, ParquetStore
from simcore.store.sample import SAMPLE_SPEC, ensure_sample
from simcore.store.schema import ohlcv_aggregations
from simcore.store.synth import SynthSpec, block_size, generate, write_synthetic
from simcore.time import TimeManager

SPEC = SynthSpec(
    ("AAA", "BBB"), date(2025, 6, 30), date(2025, 7, 8), date(2025, 6, 2), seed=11, quotes=True
)


def test_same_spec_same_data_and_another_seed_differs(tm: TimeManager):
    first, second = generate(SPEC, tm), generate(SPEC, TimeManager())
    for dataset in first:
        assert_frame_equal(first[dataset], second[dataset])
    other = generate(SynthSpec(SPEC.symbols, SPEC.minute_start, SPEC.minute_end, seed=12), tm)
    assert not first[BARS_1M]["close"].equals(other[BARS_1M]["close"])


def test_symbols_are_independent_of_each_other(tm: TimeManager):
    alone_spec = SynthSpec(("BBB",), SPEC.minute_start, SPEC.minute_end, SPEC.daily_start, seed=11)
    alone = generate(alone_spec, tm)[BARS_1M]
    together = generate(SPEC, tm)[BARS_1M].filter(pl.col("symbol") == "BBB")
    assert_frame_equal(alone, together)


def test_follows_the_calendar_with_holiday_and_early_close(tm: TimeManager):
    bars = generate(SPEC, tm)[BARS_1M].with_columns(
        pl.col("timestamp").dt.convert_time_zone(tm.timezone).alias("local")
    )
    days = bars.group_by(pl.col("local").dt.date().alias("day"), "symbol").agg(
        pl.len(), pl.col("local").min().alias("first"), pl.col("local").max().alias("last")
    )
    assert date(2025, 7, 4) not in days["day"].to_list()  # Independence Day
    early = days.filter(pl.col("day") == date(2025, 7, 3)).row(0, named=True)
    assert (early["len"], early["first"].time(), early["last"].time()) == (
        210,
        time(9, 30),
        time(12, 59),
    )
    full = days.filter(pl.col("day") == date(2025, 7, 2)).row(0, named=True)
    assert full["len"] == 390 and full["last"].time() == time(15, 59)


def test_intraday_volume_is_u_shaped(tm: TimeManager):
    bars = generate(SPEC, tm)[BARS_1M]
    local_time = pl.col("timestamp").dt.convert_time_zone(tm.timezone).dt.time()
    minute = bars.filter(tm.utc_to_local_date_expr(pl.col("timestamp")) != date(2025, 7, 3))
    minute = minute.with_columns(local_time.alias("t"))
    open_hour = minute.filter(pl.col("t") < time(10, 0))["volume"].mean()
    midday = minute.filter((pl.col("t") >= time(12, 0)) & (pl.col("t") < time(13, 0)))[
        "volume"
    ].mean()
    last_half_hour = minute.filter(pl.col("t") >= time(15, 30))["volume"].mean()
    assert open_hour > 1.8 * midday and last_half_hour > 1.8 * midday


def test_daily_bars_agree_with_the_minute_bars(tm: TimeManager):
    data = generate(SPEC, tm)
    minute = data[BARS_1M].with_columns(tm.utc_to_local_date_expr(pl.col("timestamp")).alias("day"))
    agg = minute.sort("timestamp").group_by("symbol", "day").agg(*ohlcv_aggregations())
    daily = data[BARS_1D].with_columns(tm.utc_to_local_date_expr(pl.col("timestamp")).alias("day"))
    joined = agg.join(daily, on=["symbol", "day"], suffix="_d")
    assert joined.height == agg.height == 2 * 6
    for col in ("open", "high", "low", "close", "volume"):
        assert (joined[col] == joined[f"{col}_d"]).all(), col
    history = daily.filter(pl.col("day") < date(2025, 6, 30))
    assert tm.count_trading_days(date(2025, 6, 2), date(2025, 6, 27)) == 19  # Juneteenth closed
    assert history.height == 2 * 19


def test_second_bars_add_up_to_the_minute_bars_gaps_and_early_close_included(
    tm: TimeManager,
):
    spec = SynthSpec(
        ("AAA", "BBB"), date(2025, 7, 2), date(2025, 7, 3), gap_rate=0.05, seconds=True
    )
    data = generate(spec, tm)
    seconds, minutes = data[BARS_1S], data[BARS_1M]
    assert seconds.height == 60 * minutes.height  # a missing minute has no seconds either
    assert (seconds["timestamp"].dt.second().unique().len()) == 60
    built = (
        seconds.sort("timestamp")
        .group_by("symbol", pl.col("timestamp").dt.truncate("1m"), maintain_order=True)
        .agg(*ohlcv_aggregations())
        .sort("symbol", "timestamp")
    )
    assert_frame_equal(built, minutes.sort("symbol", "timestamp").select(built.columns))
    inside = seconds.select(
        (pl.col("low") <= pl.min_horizontal("open", "close")).all(),
        (pl.col("high") >= pl.max_horizontal("open", "close")).all(),
        ((pl.col("close") * 100).round(6) == (pl.col("close") * 100).round(0)).all(),  # cents
    )
    assert inside.row(0) == (True, True, True)


def test_gaps_and_bad_rows_are_injected_and_counted(tmp_path, tm: TimeManager):
    spec = SynthSpec(
        ("AAA",), date(2025, 7, 7), date(2025, 7, 11), seed=3, gap_rate=0.05, bad_rows=8
    )
    report = write_synthetic(ParquetStore(tmp_path), spec, tm)
    minute = next(p for p in report.parts if p.clean.dataset == BARS_1M).clean
    assert minute.rejected_by_reason == {
        "duplicate": 2,
        "high_below_low": 2,
        "missing_value": 2,
        "negative_volume": 2,
    }
    kept = minute.rows_kept
    assert 0.9 * 5 * 390 < kept < 0.99 * 5 * 390  # about 5% of 1,950 minutes missing


def test_bundled_sample_is_generated_once_with_the_configs_symbols(tmp_path):
    store = ParquetStore(tmp_path / "store")
    assert ensure_sample(store) is not None
    assert ensure_sample(store) is None  # a store with data is left alone
    assert store.symbols(BARS_1M) == list(SAMPLE_SPEC.symbols) == store.symbols(QUOTES)
    summary = {(s.dataset.label, s.symbol): s for s in store.summary()}
    assert summary[("bars 1d", "ALFA")].first.date() <= date(2024, 7, 1)  # a year of history
    size = sum(p.stat().st_size for p in store.root.rglob("*.parquet"))
    assert size < 5_000_000


@pytest.mark.parametrize("block_rows", [1, 3 * 390 * 4])
def test_a_synth_in_blocks_writes_the_store_of_one_in_a_single_block(tmp_path, tm, block_rows):
    """The generator's memory is a block's; the store it writes is the same whatever the
    blocks: the same files, byte for byte, and the same report."""
    spec = SynthSpec(
        ("AAA", "BBB", "CCC", "DDD", "EEE"), date(2025, 7, 7), date(2025, 7, 10),
        daily_start=date(2025, 6, 2), seed=4, gap_rate=0.02, bad_rows=4, quotes=True,
    )  # fmt: skip
    assert block_size(spec, tm, block_rows) < len(spec.symbols)
    whole = write_synthetic(ParquetStore(tmp_path / "whole"), spec, tm, block_rows=10**9)
    blocks = write_synthetic(ParquetStore(tmp_path / "blocks"), spec, tm, block_rows=block_rows)

    def files(root):
        return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}

    assert files(tmp_path / "whole") == files(tmp_path / "blocks")
    assert len(blocks.parts) == len(whole.parts) == 3  # one per dataset, the blocks folded in
    for a, b in zip(whole.parts, blocks.parts, strict=True):
        assert (a.clean.dataset, a.clean.rows_read, a.clean.rows_kept, a.written) == (
            b.clean.dataset, b.clean.rows_read, b.clean.rows_kept, b.written
        )  # fmt: skip
        assert a.clean.rejected_by_reason == b.clean.rejected_by_reason
        assert b.clean.clean.is_empty()  # the clean rows are in the store, not in the report
    assert whole.rejected_rows.equals(blocks.rejected_rows)
    assert whole.rejected_by_reason()["duplicate"] == 5  # bad rows there to be compared
