"""simcore's statistics against QuantStats' on the same daily returns (``returns.parquet``,
``Results.returns()``): equal to 1e-9 where the definitions are the same, and where they are
not, each side is its own definition (docs/reference/statistics.md says which and why)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import simcore

qs = pytest.importorskip("quantstats")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def results(sample_store, tmp_path_factory):
    """Two months of the sample traded at every 5m SMA(20) cross, against DLTA."""
    doc = json.loads((REPO / "configs" / "example_backtest.json").read_text())
    doc["backtest_config"] |= {"start_date": "2025-06-02", "end_date": "2025-07-31"}
    doc["session_data_config"] |= {"streams": ["1m", "5m"], "benchmark": "DLTA"}
    doc["metadata"]["strategy"] = "simcore.strategies.sma_cross:SmaCrossTrader"
    doc["trading_config"] |= {"max_open_positions": 4}
    config = simcore.config_from_dict(doc)
    out = tmp_path_factory.mktemp("run")
    return simcore.run(config, store=sample_store.root, out=out, report=False)


def test_the_returns_are_a_series_quantstats_takes(results):
    returns = results.returns()
    assert len(returns) == len(results.summary["trading_days"]) == 42
    assert returns.index.is_monotonic_increasing and not returns.isna().any()
    table = results.table("returns")
    start = results.statistics["start_equity"]
    assert np.cumprod(1 + returns.to_numpy())[-1] * start == pytest.approx(
        results.statistics["end_equity"], rel=1e-12
    )
    assert table["equity"][-1] == pytest.approx(results.statistics["end_equity"], abs=1e-9)
    assert results.statistics["trades"] > 20  # the comparison is of a run that traded


def test_the_same_definitions_give_the_same_figures(results):
    r, stats = results.returns(), results.statistics
    assert stats["sharpe"] == pytest.approx(qs.stats.sharpe(r, periods=252), abs=1e-9)
    assert stats["sortino"] == pytest.approx(qs.stats.sortino(r, periods=252), abs=1e-9)
    assert stats["volatility"] == pytest.approx(qs.stats.volatility(r, periods=252), abs=1e-9)
    assert stats["cagr"] == pytest.approx(qs.stats.cagr(r, periods=252), abs=1e-9)
    assert stats["total_return"] == pytest.approx(qs.stats.comp(r), abs=1e-9)


def test_against_the_benchmark(results):
    r, b = results.returns(), results.returns(benchmark=True)
    bench = results.summary["benchmark"]
    assert bench["symbol"] == "DLTA" and b.name == "DLTA" and not b.isna().any()
    greeks = qs.stats.greeks(r, b, periods=252)
    assert bench["beta"] == pytest.approx(greeks["beta"], abs=1e-9)
    assert bench["alpha"] == pytest.approx(greeks["alpha"], abs=1e-9)
    assert bench["correlation"] == pytest.approx(r.corr(b), abs=1e-9)
    # QuantStats' information ratio is not annualised; simcore's is (x sqrt(252))
    information = qs.stats.information_ratio(r, b) * math.sqrt(252)
    assert bench["information_ratio"] == pytest.approx(information, abs=1e-9)
    assert bench["tracking_error"] == pytest.approx((r - b).std() * math.sqrt(252), abs=1e-9)
    closes = results.table("returns")["benchmark_close"]
    assert bench["total_return"] == pytest.approx(qs.stats.comp(b), abs=1e-9)
    assert closes.null_count() == 0


def test_where_the_definitions_differ(results):
    """Drawdown: simcore's follows every bar's equity, QuantStats' the daily closes; on the
    daily closes they are the same. Win rate and profit factor: simcore's are of round trips
    (flat to flat), QuantStats' of days."""
    r, stats = results.returns(), results.statistics
    equity = results.table("equity")
    daily = results.table("returns")
    start = stats["start_equity"]
    levels = np.concatenate(([start], daily["equity"].to_numpy()))
    daily_drawdown = float(np.min(levels / np.maximum.accumulate(levels) - 1))
    assert daily_drawdown == pytest.approx(qs.stats.max_drawdown(r), abs=1e-9)
    intraday = equity["equity"].to_numpy()
    assert stats["max_drawdown"] <= daily_drawdown  # every bar sees at least the daily falls
    assert stats["max_drawdown"] == pytest.approx(
        float(
            np.min(intraday / np.maximum.accumulate(np.concatenate(([start], intraday)))[1:] - 1)
        ),
        abs=1e-9,
    )
    days_won = float((r > 0).sum() / (r != 0).sum())
    assert qs.stats.win_rate(r) == pytest.approx(days_won, abs=1e-9)
    assert qs.stats.profit_factor(r) == pytest.approx(r[r >= 0].sum() / -r[r < 0].sum(), abs=1e-9)
    fills = pl.read_parquet(results.folder / "fills.parquet")
    assert fills.height and stats["win_rate"] is not None  # of round trips, from the fills
