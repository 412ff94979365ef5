"""Prices across AAPL's 7-for-1 split of 2014-06-09 (the LEAN sample), in each adjustment mode:
historical indicators that make sense across it, continuous adjusted prices, positions split in
raw mode, and a dividend paid in raw mode."""

from __future__ import annotations

import polars as pl
import pytest

from simcore.app.backtest import run_backtest
from simcore.engine.analysis import Strategy
from simcore.strategies.buy_and_hold import BuyAndHold
from tests.test_backtest import make_config

HISTORICAL = {
    "data": [{"trailing_days": 5, "intervals": ["1d"], "apply_to": "all"}],
    "indicators": {"high_52w": {"type": "trailing_max", "period": "52w", "field": "high"}},
}


def aapl(mode: str, **trading):
    config = make_config(
        ["AAPL"], "2014-06-05", "2014-06-09", ("1m", "1d"), HISTORICAL, price_adjustment=mode
    )
    if trading:
        limits = config.trading_config.model_copy(update=trading)
        config = config.model_copy(update={"trading_config": limits})
    return config


def session_view(result) -> pl.DataFrame:
    """Per session: the 52-week high the strategy had, and its day's first and last price."""
    t = result.tables
    high = t["historical_indicators"].filter(pl.col("indicator") == "high_52w")
    bars = t["bars"].filter(pl.col("interval") == "1m")
    days = bars.group_by("session_date").agg(
        pl.col("open").first().alias("first_open"), pl.col("close").last().alias("last_close")
    )
    return high.join(days, on="session_date").sort("session_date")


def test_the_52_week_high_is_right_across_the_split_only_when_adjusted(lean_store):
    store, _ = lean_store
    raw = session_view(run_backtest(aapl("raw"), store, Strategy()))
    # raw: on the split day the trailing high is in pre-split dollars, seven times the price
    assert raw["value"][-1] / raw["first_open"][-1] > 6.5
    for mode in ("split", "adjusted"):
        view = session_view(run_backtest(aapl(mode), store, Strategy()))
        ratios = (view["first_open"] / view["value"]).to_list()
        assert all(0.9 < r < 1.1 for r in ratios), (mode, ratios)  # near its 52-week high
        # continuous: the split day opens within 2% of the day before's close
        assert abs(view["first_open"][-1] / view["last_close"][-2] - 1) < 0.02


def test_buy_and_hold_through_the_split_keeps_its_value_in_every_mode(lean_store):
    store, _ = lean_store
    limits = {"max_per_trade": 100_000.0, "max_per_symbol": 100_000.0}
    equity_at_close = {}
    for mode in ("raw", "split", "adjusted"):
        result = run_backtest(aapl(mode, **limits), store, BuyAndHold())
        equity = result.tables["equity"]
        closes = equity.group_by("session_date", maintain_order=True).agg(pl.col("equity").last())
        equity_at_close[mode] = closes["equity"].to_list()
        assert result.summary["price_adjustment"] == mode
        if mode == "raw":  # the shares were split with the price: 7 new for each old
            (action,) = result.tables["corporate_actions"].iter_rows(named=True)
            assert action["kind"] == "split" and action["value"] == pytest.approx(7.0)
            assert action["shares_after"] == action["shares_before"] * 7
    # the same account whatever the prices are expressed in (to a few dollars of rounding)
    for mode in ("split", "adjusted"):
        for a, b in zip(equity_at_close["raw"], equity_at_close[mode], strict=True):
            assert abs(a - b) < 0.005 * a
    assert equity_at_close["raw"][-1] > 90_000  # no artificial 86% loss on the split day


def test_a_cash_dividend_is_paid_on_raw_prices(lean_store):
    store, _ = lean_store
    # SPY's factor file: the row of 2013-09-19 is the last day before an ex-dividend date
    config = make_config(
        ["SPY"], "2013-09-19", "2013-09-20", ("1d",), HISTORICAL, price_adjustment="raw"
    )
    limits = config.trading_config.model_copy(
        update={"max_per_trade": 100_000.0, "max_per_symbol": 100_000.0}
    )
    config = config.model_copy(update={"trading_config": limits})

    class BuyFirst(Strategy):
        subscriptions = ("1d",)

        def on_session_start(self, ctx, session):
            if not ctx.position("SPY").quantity and not ctx.open_orders():
                ctx.buy("SPY", 100)

    result = run_backtest(config, store, BuyFirst())
    dividends = result.tables["corporate_actions"].filter(pl.col("kind") == "dividend")
    assert dividends.height == 1
    row = dividends.row(0, named=True)
    assert 0.5 < row["value"] < 1.2 and row["cash"] == pytest.approx(100 * row["value"])
