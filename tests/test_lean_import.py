"""The LEAN import on the real sample data in ../shared/data/lean (skipped when absent)."""

from __future__ import annotations

from datetime import date, datetime, time

import polars as pl
import pytest

from simcore.store.importers import read_lean_daily
from simcore.store.parquet import BARS_1D, BARS_1M, QUOTES
from simcore.time import TimeManager

NY = "America/New_York"


def per_day(store, symbol: str) -> dict[date, tuple[int, int]]:
    """{exchange-local date: (all rows, regular-session rows)} of a symbol's 1m bars."""
    tm = TimeManager()
    frame = store.read(BARS_1M, [symbol]).with_columns(
        tm.utc_to_local_date_expr(pl.col("timestamp")).alias("day")
    )
    grouped = frame.group_by("day").agg(pl.len(), (~pl.col("extended")).sum().alias("regular"))
    return {r["day"]: (r["len"], r["regular"]) for r in grouped.iter_rows(named=True)}


def test_row_counts_per_day_and_session(lean_store):
    store, report = lean_store
    spy = per_day(store, "SPY")
    assert spy[date(2013, 10, 4)] == (711, 390)
    assert spy[date(2013, 10, 7)] == (828, 390)
    assert spy[date(2023, 8, 3)] == (947, 390)
    aig = per_day(store, "AIG")
    assert aig[date(2013, 10, 7)] == (433, 389)  # one regular minute missing in the source
    ibm = per_day(store, "IBM")
    assert ibm[date(2013, 10, 4)][1] == 389 and ibm[date(2013, 10, 11)][1] == 389
    assert per_day(store, "TWX")[date(2014, 6, 23)] == (6, 6)
    assert sorted(per_day(store, "BAC")) == [date(2013, 10, d) for d in (4, 7, 8, 9, 10, 11)]
    bars_part = next(p for p in report.parts if p.clean.dataset == BARS_1M)
    assert bars_part.clean.rows_read == 18976 and bars_part.clean.rows_rejected == 0


def test_every_row_is_accounted_for(lean_store):
    _, report = lean_store
    assert report.rows_read == report.rows_written + report.rows_rejected
    # the only flaw the cleaner rejects in this sample: TWX quotes without a bid on 2014-06-09
    assert report.rejected_by_reason() == {"missing_value": 5}
    rejected = report.rejected_rows
    assert set(rejected["symbol"]) == {"TWX"} and rejected["bid_price"].null_count() == 5


def test_early_close_trades_after_the_bell_are_kept_and_flagged(lean_store):
    store, _ = lean_store
    assert per_day(store, "GOOG")[date(2015, 12, 24)] == (227, 210)  # 09:30-13:00 regular
    bars = store.read(BARS_1M, ["GOOG"]).with_columns(pl.col("timestamp").dt.convert_time_zone(NY))
    day = bars.filter(pl.col("timestamp").dt.date() == date(2015, 12, 24))
    regular = day.filter(~pl.col("extended"))["timestamp"]
    assert regular.min().time() == time(9, 30) and regular.max().time() == time(12, 59)
    assert (
        day.filter(pl.col("extended") & (pl.col("timestamp").dt.time() >= time(13, 0))).height > 0
    )
    assert per_day(store, "GOOG").keys() == {
        date(2015, 12, 23),
        date(2015, 12, 24),
        date(2015, 12, 28),
    }


def test_aapl_split_shows_in_raw_prices(lean_store):
    store, _ = lean_store
    tm = TimeManager()
    closes = (
        store.read(BARS_1M, ["AAPL"], regular_only=True)
        .with_columns(tm.utc_to_local_date_expr(pl.col("timestamp")).alias("day"))
        .group_by("day")
        .agg(pl.col("close").last())
        .sort("day")
    )
    before, after = closes["close"][1], closes["close"][2]
    assert 640 < before < 650 and 90 < after < 95
    assert 6.8 < before / after < 7.2  # 7-for-1, effective 2014-06-09, not adjusted


def test_prices_are_exact_dollars(lean_store):
    store, _ = lean_store
    first = store.read(BARS_1M, ["SPY"]).row(0, named=True)
    assert first["timestamp"] == datetime.fromisoformat("2013-10-04T08:06:00+00:00")
    assert first["open"] == 167.65  # 1676500 / 10000, no floating residue


def test_spy_daily_last_row_is_read_although_the_file_has_no_final_newline(lean_root):
    frame = read_lean_daily(lean_root / "equity/usa/daily/spy.zip", "SPY", TimeManager())
    assert frame.height == 5849
    last = frame.row(-1, named=True)
    assert last["timestamp"] == datetime.fromisoformat("2021-03-31T04:00:00+00:00")
    assert (last["close"], last["volume"]) == (396.33, 90673494.0)


def test_implausible_daily_volumes_are_flagged_and_kept(lean_store):
    store, report = lean_store
    daily = next(p for p in report.parts if p.clean.dataset == BARS_1D)
    flagged = {
        (r["symbol"], r["timestamp"].date())
        for r in daily.clean.suspect_volume.iter_rows(named=True)
    }
    assert ("AIG", date(2008, 9, 16)) in flagged  # 1.1 billion shares, 25x its median: the bailout
    assert ("AAPL", date(2000, 9, 29)) in flagged
    assert store.read(BARS_1D, ["AIG"]).filter(pl.col("volume") > 1e9).height >= 1  # kept


def test_quotes_are_stamped_at_the_end_of_their_minute(lean_store):
    store, _ = lean_store
    quotes = store.read(QUOTES, ["SPY"]).with_columns(pl.col("timestamp").dt.convert_time_zone(NY))
    first = quotes["timestamp"].min()
    # the source's first quote bar starts at 04:00:00 (ms 14400000); its close is known at 04:01
    assert first == datetime(2013, 10, 4, 4, 1, tzinfo=first.tzinfo)
    # a point-in-time quote at the opening bell (the 09:29 bar's close) belongs to the session
    at_open = quotes.filter(pl.col("timestamp").dt.time() == time(9, 30))
    assert at_open.height > 0 and not at_open["extended"].any()
    assert (quotes["bid_price"] <= quotes["ask_price"]).all()


def test_symbol_filter_and_bad_folder(lean_root, store, tm):
    from simcore.errors import DataError
    from simcore.store.importers import import_lean

    report = import_lean(
        store, lean_root, tm, symbols=["goog"], include_quotes=False, include_daily=False
    )
    assert store.symbols(BARS_1M) == ["GOOG"] and report.rows_written == 1091
    with pytest.raises(DataError, match="not a LEAN data folder"):
        import_lean(store, lean_root / "equity" / "usa" / "map_files", tm)
