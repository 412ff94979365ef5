"""The live streaming phase as plain logic: when a minute is released, what a late bar does, and
derived bars built window by window equal the backtest's vectorised build."""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.engine.gap_fill import GapFiller
from simcore.engine.processor import _derive, _derive_window, _empty_windows, _Windows
from simcore.live.intake import Correction, LiveStream
from simcore.providers import LiveItem
from simcore.store.parquet import ParquetStore
from simcore.store.source import LocalDataSource
from simcore.time import TimeManager

DAY = date(2025, 7, 2)
MINUTE = 60_000_000_000


def empty_grid(symbols=("AAA", "BBB")):
    tm = TimeManager()
    return LocalDataSource(ParquetStore("/nonexistent"), tm).empty_session_bars(symbols, "1m", DAY)


def bar(symbol: str, grid, slot: int, close: float = 10.0, kind: str = "bar") -> LiveItem:
    return LiveItem(kind, symbol, grid.open_ns + slot * MINUTE, (close, close, close, close, 100.0))


def test_a_minute_is_released_when_complete_or_when_its_grace_has_passed():
    grid = empty_grid()
    stream = LiveStream("1m", grid, lambda: 0, grace_ns=2_000_000_000)
    end0 = grid.open_ns + MINUTE
    assert stream.accept(bar("AAA", grid, 0)) == (0, 0)
    assert stream.due_slots(end0).size == 0  # BBB's bar may still come
    assert stream.due_slots(end0 + 2_000_000_000).tolist() == [0]  # the grace has passed
    stream.accept(bar("BBB", grid, 0))
    assert stream.due_slots(end0 - 1).size == 0  # complete, but the minute has not ended
    assert stream.due_slots(end0).tolist() == [0]  # complete and ended: no need to wait
    stream.release(np.array([0]))
    assert stream.next_due_ns() == end0 + MINUTE + 2_000_000_000
    stream.accept(bar("AAA", grid, 1))
    stream.accept(bar("BBB", grid, 1))  # both in before the minute ended on our clock
    assert stream.next_due_ns() == end0 + MINUTE  # due at its end: no wait for the grace


def test_after_release_a_bar_is_a_correction_and_a_repeat_is_a_duplicate():
    grid = empty_grid()
    stream = LiveStream("1m", grid, lambda: 123, grace_ns=0)
    stream.accept(bar("AAA", grid, 0, 10.0))
    stream.release(np.array([0]))
    assert stream.accept(bar("AAA", grid, 0, 10.0)) is None  # the same bar again
    assert stream.counts.duplicates == 1
    late = stream.accept(bar("BBB", grid, 0, 20.0))
    assert isinstance(late, Correction) and late.kind == "late" and late.old is None
    updated = stream.accept(bar("AAA", grid, 0, 11.0, kind="updated"))
    assert updated.kind == "updated" and updated.old[3] == 10.0 and updated.new[3] == 11.0
    assert grid.values["close"][0, 0] == 11.0  # applied, and recorded
    assert len(stream.counts.corrections) == 2
    assert stream.accept(bar("ZZZ", grid, 1)) is None and stream.counts.unknown_symbol == 1


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from([5, 15, 60]), st.floats(0.0, 0.9))
def test_property_window_by_window_equals_the_vectorised_build(seed, minutes, missing):
    grid = empty_grid(("A", "B", "C"))
    rng = np.random.default_rng(seed)
    grid.present[:] = rng.random(grid.present.shape) >= missing
    for name in ("open", "high", "low", "close"):
        grid.values[name][:] = np.where(
            grid.present, rng.uniform(1, 100, grid.present.shape), np.nan
        )
    grid.values["volume"][:] = np.where(
        grid.present, rng.integers(1, 1000, grid.present.shape), 0.0
    )
    length = minutes * MINUTE
    starts = np.arange(grid.open_ns, grid.close_ns, length, dtype=np.int64)
    ends = np.minimum(starts + length, grid.close_ns)
    windows = _Windows(f"{minutes}m", "1m", starts, ends, (starts - grid.open_ns) // MINUTE)
    whole = _derive(grid, windows)
    windows.bars = _empty_windows(grid, windows)
    for k in range(len(starts)):
        _derive_window(grid, windows, k)
    assert np.array_equal(windows.bars.present, whole.present)
    for name, values in whole.values.items():
        assert np.array_equal(windows.bars.values[name], values, equal_nan=True), name


def test_gap_filling_tells_filled_no_trades_and_unfillable_apart():
    filler = GapFiller(max_retries=2, retry_interval_ns=10)
    for slot in (3, 4, 7):
        filler.missing(0, "1m", slot, slot * MINUTE, now_ns=0)
    assert filler.due(5) == []  # the first try waits one interval: the bar may come late
    requests = filler.due(10)
    assert [r.slots for r in requests] == [(3, 4), (7,)]  # one request per run of minutes
    filler.attempted(requests[0], answered=True, now_ns=10)
    filler.attempted(requests[1], answered=False, now_ns=10)
    assert filler.arrived(0, "1m", 3)
    for request in filler.due(20):
        filler.attempted(request, answered=request.slots == (4,), now_ns=20)
    outcomes = {g.slot: g.outcome for g in filler.gaps.values()}
    assert outcomes == {3: "filled", 4: "no_trades", 7: "unfillable"}
    assert filler.no_trade_counts(1, "1m") == [1] and filler.next_due_ns() is None
    assert filler.open_count() == 0 and filler.filled_count() == 1


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["miss", "arrive", "fill"]), st.integers(0, 2), st.integers(0, 9)
        ),
        max_size=60,
    )
)
def test_gap_counts_kept_as_gaps_change_equal_a_recount(steps):
    """The filler keeps its open, filled and no-trades counts as it goes (a late join has
    thousands of gaps); they must equal a count over every gap after any sequence of events."""
    filler = GapFiller(max_retries=2, retry_interval_ns=1)
    for now, (action, symbol, slot) in enumerate(steps, start=1):
        if action == "miss":
            filler.missing(symbol, "1s", slot, slot, now)
        elif action == "arrive":
            filler.arrived(symbol, "1s", slot)
        else:
            for request in filler.due(now):
                filler.attempted(request, answered=slot % 2 == 0, now_ns=now)
    outcomes = [g.outcome for g in filler.gaps.values()]
    assert filler.open_count() == outcomes.count("open")
    assert filler.filled_count() == outcomes.count("filled")
    no_trades = [0, 0, 0]
    for g in filler.gaps.values():
        no_trades[g.symbol] += g.outcome == "no_trades"
    assert filler.no_trade_counts(3, "1s") == no_trades
    open_due = [g.next_try_ns for g in filler.gaps.values() if g.outcome == "open"]
    assert filler.next_due_ns() == (min(open_due) if open_due else None)
