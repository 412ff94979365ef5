"""Derived bars equal a Polars group_by_dynamic reference, and are never emitted early."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.local.store import BARS_1M
from adapters.local.synth import SynthSpec, generate
from simcore.bars import Bar, ohlcv_aggregations
from simcore.consolidation import BarConsolidator
from simcore.time import TimeManager

MINUTE = 60_000_000_000
DAYS = (date(2025, 7, 2), date(2025, 7, 3))  # a full day and an early close (13:00)


def minute_bars(gap_rate: float, seed: int) -> pl.DataFrame:
    spec = SynthSpec(("AAA",), DAYS[0], DAYS[-1], seed=seed, gap_rate=gap_rate)
    return generate(spec, TimeManager())[BARS_1M].with_columns(
        pl.col("timestamp").dt.epoch("ns").alias("ns")
    )


def consolidate(frame: pl.DataFrame, minutes: int, alignment: str, tm: TimeManager):
    """Run the consolidator day by day; return (derived bars, [(bar, emitted_at_ns)])."""
    emitted = []
    for day in DAYS:
        session = tm.get_trading_session(day)
        open_ns = int(session.regular_open.timestamp()) * 10**9
        close_ns = int(session.regular_close.timestamp()) * 10**9
        c = BarConsolidator(minutes * MINUTE, MINUTE, open_ns, close_ns, alignment)
        rows = frame.filter((pl.col("ns") >= open_ns) & (pl.col("ns") < close_ns))
        for r in rows.iter_rows(named=True):
            now = r["ns"] + MINUTE
            for bar in c.update(
                Bar(r["ns"], r["open"], r["high"], r["low"], r["close"], r["volume"])
            ):
                emitted.append((bar, now, close_ns))
        for bar in c.flush_until(close_ns):
            emitted.append((bar, close_ns, close_ns))
    out = [b for b, _, _ in emitted]
    return out, emitted


def reference(frame: pl.DataFrame, minutes: int, offset: str) -> list[Bar]:
    ref = (
        frame.sort("timestamp")
        .group_by_dynamic("timestamp", every=f"{minutes}m", offset=offset, label="left")
        .agg(*ohlcv_aggregations())
    )
    return [
        Bar(r[0], r[1], r[2], r[3], r[4], r[5])
        for r in ref.with_columns(pl.col("timestamp").dt.epoch("ns")).iter_rows()
    ]


@pytest.mark.parametrize(
    ("minutes", "alignment", "offset"),
    [
        (5, "session", "0m"),
        (15, "session", "0m"),
        (30, "session", "0m"),
        (60, "session", "30m"),
        (60, "clock", "0m"),
    ],
)
@pytest.mark.parametrize("gap_rate", [0.0, 0.15])
def test_equals_group_by_dynamic_including_early_close_and_missing_bars(
    minutes, alignment, offset, gap_rate
):
    frame = minute_bars(gap_rate, seed=5)
    got, _ = consolidate(frame, minutes, alignment, TimeManager())
    assert got == reference(frame, minutes, offset)


def test_early_close_cuts_the_last_hourly_bar_at_13_00():
    tm = TimeManager()
    _, emitted = consolidate(minute_bars(0.0, seed=1), 60, "session", tm)
    early_close = tm.get_trading_session(DAYS[1]).regular_close
    last_bar, emitted_at, _ = emitted[-1]
    assert emitted_at == int(early_close.timestamp()) * 10**9  # the 12:30-13:00 bar, at 13:00
    assert last_bar.timestamp == emitted_at - 30 * MINUTE


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    gap=st.sampled_from([0.0, 0.05, 0.3]),
    minutes=st.sampled_from([5, 10, 15, 60]),
)
def test_no_derived_bar_is_emitted_before_its_window_ends(seed, gap, minutes):
    _, emitted = consolidate(minute_bars(gap, seed), minutes, "session", TimeManager())
    for bar, emitted_at, close_ns in emitted:
        window_end = min(bar.timestamp + minutes * MINUTE, close_ns)
        assert emitted_at >= window_end


def test_consolidator_rejects_what_it_cannot_build():
    with pytest.raises(ValueError, match="whole multiple"):
        BarConsolidator(90 * 10**9, MINUTE, 0, 10 * MINUTE)
    c = BarConsolidator(5 * MINUTE, MINUTE, 10 * MINUTE, 20 * MINUTE)
    with pytest.raises(ValueError, match="outside the session"):
        c.update(Bar(0, 1, 1, 1, 1, 1))
