"""Real-time indicators, updated incrementally over symbol arrays, against plain references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.engine.indicators import IndicatorRequest


def reference(kind: str, closes, highs, lows, volumes, period: int, k: float = 2.0) -> list[float]:
    """Textbook definitions, one value at a time."""
    out, n = [], len(closes)
    if kind == "sma":
        return [
            float(np.mean(closes[i - period + 1 : i + 1])) if i >= period - 1 else math.nan
            for i in range(n)
        ]
    if kind == "bollinger":
        return [
            float(np.mean(closes[i - period + 1 : i + 1])) if i >= period - 1 else math.nan
            for i in range(n)
        ]
    if kind == "ema":
        alpha, value = 2 / (period + 1), math.nan
        for i in range(n):
            if i == period - 1:
                value = float(np.mean(closes[:period]))
            elif i >= period:
                value = value + alpha * (closes[i] - value)
            out.append(value if i >= period - 1 else math.nan)
        return out
    if kind in ("rsi", "atr"):
        pair_avg = None
        qs = []
        for i in range(n):
            if i == 0:
                out.append(math.nan)
                continue
            if kind == "rsi":
                change = closes[i] - closes[i - 1]
                q = (max(change, 0.0), max(-change, 0.0))
            else:
                q = (
                    max(
                        highs[i] - lows[i],
                        abs(highs[i] - closes[i - 1]),
                        abs(lows[i] - closes[i - 1]),
                    ),
                    0.0,
                )
            qs.append(q)
            if len(qs) == period:
                pair_avg = (sum(a for a, _ in qs) / period, sum(b for _, b in qs) / period)
            elif len(qs) > period:
                pair_avg = (
                    (pair_avg[0] * (period - 1) + q[0]) / period,
                    (pair_avg[1] * (period - 1) + q[1]) / period,
                )
            if pair_avg is None:
                out.append(math.nan)
            elif kind == "atr":
                out.append(pair_avg[0])
            else:
                gain, loss = pair_avg
                out.append(100.0 if loss == 0 else 100 - 100 / (1 + gain / loss))
        return out
    if kind == "vwap":
        pv = np.cumsum(
            (np.array(highs) + np.array(lows) + np.array(closes)) / 3 * np.array(volumes)
        )
        return list(pv / np.cumsum(volumes))
    raise AssertionError(kind)


prices = st.lists(st.floats(1, 1000, allow_nan=False), min_size=1, max_size=60)


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(["sma", "ema", "rsi", "atr", "vwap", "bollinger"]),
    period=st.integers(1, 15),
    closes=prices,
    seed=st.integers(0, 2**16),
)
def test_incremental_values_match_the_definitions(kind, period, closes, seed):
    rng = np.random.default_rng(seed)
    n = len(closes)
    closes = np.array(closes)
    highs = closes + rng.uniform(0, 2, n)
    lows = closes - rng.uniform(0, 2, n)
    volumes = rng.uniform(1, 1000, n)
    # three symbols; symbol 1 gets the series, 0 and 2 get other bars interleaved
    indicator = IndicatorRequest("x", "5m", kind, period=period).build(3)
    got = []
    for i in range(n):
        idx = np.array([0, 1, 2]) if i % 2 else np.array([1])
        bars = {
            "open": np.full(idx.size, closes[i]),
            "high": np.full(idx.size, highs[i])
            if idx.size == 1
            else np.array([5.0, highs[i], 7.0]),
            "low": np.full(idx.size, lows[i]) if idx.size == 1 else np.array([1.0, lows[i], 2.0]),
            "close": np.full(idx.size, closes[i])
            if idx.size == 1
            else np.array([3.0, closes[i], 4.0]),
            "volume": np.full(idx.size, volumes[i])
            if idx.size == 1
            else np.array([10.0, volumes[i], 20.0]),
        }
        indicator.update(idx, bars)
        got.append(indicator.value(1))
    expected = reference(kind, list(closes), list(highs), list(lows), list(volumes), period)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9, equal_nan=True)


def test_bollinger_bands_are_k_population_deviations():
    indicator = IndicatorRequest("bb", "5m", "bollinger", period=3, k=2.0).build(1)
    for value in (1.0, 2.0, 3.0):
        indicator.update(np.array([0]), {"close": np.array([value])})
    lower, middle, upper = indicator.bands(0)
    assert middle == 2.0 and upper - middle == middle - lower == pytest.approx(
        2 * np.std([1, 2, 3])
    )


def test_bad_requests_are_refused():
    with pytest.raises(ValueError, match="unknown indicator kind"):
        IndicatorRequest("x", "5m", "macd").build(1)
    with pytest.raises(ValueError, match="period"):
        IndicatorRequest("x", "5m", "sma", period=0).build(1)


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(["sma", "ema", "bollinger"]),
    period=st.integers(1, 15),
    rows=st.lists(st.tuples(prices.filter(lambda p: len(p) >= 3), st.booleans()), max_size=40),
)
def test_windows_moving_in_lockstep_give_the_same_bits_as_symbol_by_symbol(kind, period, rows):
    """While every symbol has had the same number of bars, a window writes one ring column for
    all; the values are those of the per-symbol path to the bit, before and after a bar for
    some symbols only ends the lockstep."""
    fast = IndicatorRequest("x", "5m", kind, period=period).build(3)
    slow = IndicatorRequest("x", "5m", kind, period=period).build(3)
    slow._lockstep = None  # the general path from the start
    for values, everyone in rows:
        idx = np.array([0, 1, 2]) if everyone else np.array([0, 2])
        bars = {"close": np.array(values[:3])[idx]}
        fast.update(idx, bars)
        slow.update(idx, bars)
        assert fast.current.tobytes() == slow.current.tobytes()
