"""Stream marking by the design's rules, from what the source actually holds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simcore.config.vocabulary import BAR_INTERVALS, STREAMS, interval_sort_key
from simcore.engine.streams import Mark, mark_streams

G, S, I = Mark.GENERATED, Mark.STREAMED, Mark.IGNORED  # noqa: E741 - read as a table


def marks(plan, symbol="A"):
    return {d.stream: d.mark for d in plan.decisions if d.symbol == symbol}


def test_design_example_streams_1s_and_generates_the_rest():
    plan = mark_streams(["A"], ["1s", "1m", "10m"], "backtest", {"A": {"1s", "1m", "1d"}})
    assert marks(plan) == {"1s": S, "1m": G, "10m": G}
    assert plan.base["A"] == "1s"


def test_backtest_streams_the_smallest_base_needed_plus_quotes_never_ticks():
    plan = mark_streams(
        ["A"],
        ["1m", "5m", "15m", "1d", "quotes", "ticks"],
        "backtest",
        {"A": {"1s", "1m", "1d", "quotes", "ticks"}},
    )
    assert marks(plan) == {"1m": S, "5m": G, "15m": G, "1d": G, "quotes": S, "ticks": I}
    assert plan.generated_intervals("A") == ("5m", "15m", "1d")


def test_unrequested_base_is_streamed_for_generation():
    plan = mark_streams(["A"], ["5m", "1h"], "backtest", {"A": {"1m"}})
    (base,) = [d for d in plan.decisions if not d.requested]
    assert (base.stream, base.mark) == ("1m", S)
    assert marks(plan) == {"1m": S, "5m": G, "1h": G}


def test_per_symbol_availability_and_what_cannot_be_had():
    plan = mark_streams(
        ["A", "B", "C"],
        ["1s", "1m", "5m", "quotes"],
        "backtest",
        {"A": {"1m", "quotes"}, "B": {"1d"}, "C": set()},
    )
    assert marks(plan, "A") == {"1s": I, "1m": S, "5m": G, "quotes": S}
    assert marks(plan, "B") == {"1s": I, "1m": I, "5m": I, "quotes": I}
    assert marks(plan, "C") == {"1s": I, "1m": I, "5m": I, "quotes": I}
    reasons = {d.stream: d.reason for d in plan.decisions if d.symbol == "C"}
    assert "no stored bars" in reasons["1m"] and "no quotes" in reasons["quotes"]


def test_daily_only_store_streams_1d():
    plan = mark_streams(["A"], ["1d"], "backtest", {"A": {"1d", "1m"}})
    assert marks(plan) == {"1d": S}


def test_live_streams_one_base_the_provider_offers_and_generates_the_other_bars():
    offered = {"A": {"1m", "1d", "quotes", "ticks"}}
    plan = mark_streams(["A"], ["1m", "5m", "1d", "quotes", "ticks"], "live", offered)
    assert marks(plan) == {"1m": S, "5m": G, "1d": G, "quotes": S, "ticks": S}
    assert plan.live_channels() == ("1m", "quotes", "ticks")


def test_live_on_polygon_streams_seconds_only_where_asked():
    offered = {"A": {"1s", "1m", "quotes", "ticks"}}  # Polygon: A, AM, Q and T
    minutes = mark_streams(["A"], ["1m", "5m"], "live", offered)
    assert marks(minutes) == {"1m": S, "5m": G}
    assert minutes.live_channels() == ("1m",)  # no second aggregates for minute bars
    seconds = mark_streams(["A"], ["1s", "1m", "quotes"], "live", offered)
    assert marks(seconds) == {"1s": S, "1m": G, "quotes": S}
    assert seconds.live_channels() == ("1s", "quotes")


def test_live_without_a_bar_stream_ignores_bars_and_says_why():
    plan = mark_streams(["A"], ["1m", "quotes"], "live", {"A": {"quotes"}})
    assert marks(plan) == {"1m": I, "quotes": S}
    reasons = {d.stream: d.reason for d in plan.decisions}
    assert "no bars the provider streams" in reasons["1m"]


@given(
    requested=st.lists(st.sampled_from(STREAMS), min_size=1, unique=True),
    stored=st.sets(st.sampled_from(["1s", "1m", "1d", "quotes", "ticks"])),
    mode=st.sampled_from(["backtest", "live"]),
)
def test_marking_invariants(requested, stored, mode):
    plan = mark_streams(["A"], requested, mode, {"A": stored})
    got = marks(plan)
    assert set(requested) <= set(got)
    streamed_bars = [s for s, m in got.items() if m is S and s in BAR_INTERVALS]
    assert len(streamed_bars) <= 1  # one base per symbol, in either mode
    assert set(plan.live_channels()) == {s for s, m in got.items() if m is S}
    if mode == "backtest":
        assert got.get("ticks", I) is I
    for stream, mark in got.items():
        if mark is G:  # generated only from a streamed, smaller base
            assert streamed_bars and interval_sort_key(streamed_bars[0]) < interval_sort_key(stream)
        if mark is S:
            assert stream in stored


def test_unmarked_stream_lookup_is_an_error():
    plan = mark_streams(["A"], ["1m"], "backtest", {"A": {"1m"}})
    assert plan.mark("A", "1m") is S
    with pytest.raises(KeyError):
        plan.mark("A", "5m")
