"""session_data storage: zero-copy views, O(1) appends that survive growth, no look-ahead."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simcore.engine.bars import Bar, BarSeries
from simcore.engine.session_data import SessionData
from simcore.errors import ClockError

MINUTE = 60_000_000_000


def make_bar(i: int) -> Bar:
    return Bar(i * MINUTE, 100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i, 1000.0 + i)


@given(st.integers(0, 3000), st.integers(1, 64))
def test_appends_match_a_reference_list_across_growth(count, capacity):
    series = BarSeries(capacity)
    bars = [make_bar(i) for i in range(count)]
    for bar in bars:
        series.append(*bar)
    view = series.view()
    assert len(series) == len(view) == count
    assert [view.bar(i) for i in range(count)] == bars
    assert series.last() == (bars[-1] if bars else None)


def test_views_are_zero_copy_and_read_only():
    series = BarSeries(16)
    for i in range(10):
        series.append(*make_bar(i))
    view = series.view(2, 8)
    assert np.shares_memory(view.close, series.view().close)
    assert view.close.base is not None  # a slice of the live column, not a copy
    with pytest.raises(ValueError):
        view.close[0] = 0.0


def test_old_views_stay_valid_after_the_columns_grow():
    series = BarSeries(4)
    for i in range(4):
        series.append(*make_bar(i))
    before = series.view()
    for i in range(4, 100):
        series.append(*make_bar(i))
    assert before.timestamp.tolist() == [i * MINUTE for i in range(4)]
    assert len(series.view()) == 100


def test_time_order_is_enforced():
    series = BarSeries()
    series.append(*make_bar(5))
    with pytest.raises(ValueError, match="increasing"):
        series.append(*make_bar(5))
    with pytest.raises(ValueError, match="increasing"):
        series.extend(
            {name: np.array([v]) for name, v in zip(Bar._fields, make_bar(3), strict=True)}
        )


def test_a_bar_cannot_be_appended_before_it_is_complete():
    now = [0]
    data = SessionData(now_ns=lambda: now[0], symbols=("A",))
    bar = make_bar(0)  # the 00:00 one-minute bar, complete at 00:01
    with pytest.raises(ClockError, match="look-ahead"):
        data.append_bar("A", "1m", bar, end_ns=MINUTE)
    now[0] = MINUTE
    data.append_bar("A", "1m", bar, end_ns=MINUTE)
    assert data.get_bars("A", "1m").bar(0) == bar
    assert len(data.get_bars("A", "5m")) == 0


def test_history_is_kept_apart_from_the_session_and_survives_clear_session():
    data = SessionData(now_ns=lambda: 10**18, symbols=("A",))
    history = {
        name: np.array(values)
        for name, values in zip(
            Bar._fields, zip(*[make_bar(i) for i in range(3)], strict=True), strict=True
        )
    }
    data.set_historical_bars("A", "1d", history)
    data.append_bar("A", "1m", make_bar(10), end_ns=11 * MINUTE)
    data.set_quality("1m", np.array([98.5]))
    data.set_historical_indicator("A", "avg_volume", 1234.0)
    data.clear_session()
    assert len(data.get_historical_bars("A", "1d")) == 3
    assert len(data.get_bars("A", "1m")) == 0 and data.get_quality("A", "1m") is None
    assert data.get_historical_indicator("A", "avg_volume") == 1234.0
    data.clear()
    with pytest.raises(KeyError, match="avg_volume"):
        data.get_historical_indicator("A", "avg_volume")
    with pytest.raises(ValueError, match="percentage"):
        data.set_historical_quality("A", "1m", 101.0)


def test_view_to_polars_keeps_values_and_utc_times():
    series = BarSeries()
    for i in range(3):
        series.append(*make_bar(i))
    frame = series.view().to_polars()
    assert frame.columns == list(Bar._fields)
    assert frame["close"].to_list() == [100.5, 101.5, 102.5]
    assert str(frame.schema["timestamp"]) == "Datetime(time_unit='ns', time_zone='UTC')"


def test_revealing_a_slot_before_its_end_is_refused():
    from simcore.engine.bars import RevealedBars

    now = [0]
    data = SessionData(now_ns=lambda: now[0], symbols=("A", "B"))
    present = np.array([[True, True], [False, True]])
    values = {name: np.ones((2, 2)) for name in Bar._fields[1:]}
    bars = RevealedBars(present, values, np.array([0, MINUTE]), np.array([MINUTE, 2 * MINUTE]))
    data.attach_derived("1m", bars)
    with pytest.raises(ClockError, match="look-ahead"):
        data.reveal("1m", 0)
    now[0] = MINUTE
    assert data.reveal("1m", 0).tolist() == [0]  # B has no bar in slot 0
    with pytest.raises(ClockError, match="look-ahead"):
        data.reveal("1m", 1)
    now[0] = 2 * MINUTE
    assert data.reveal("1m", 1).tolist() == [0, 1]
    assert len(data.get_bars("A", "1m")) == 2 and len(data.get_bars("B", "1m")) == 1
    assert data.last_values("1m", np.array([0, 1]), ("close",))["close"].tolist() == [1.0, 1.0]
