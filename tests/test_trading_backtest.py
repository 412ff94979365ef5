"""Trading through the whole pipeline: no fill from the past, day orders at an early close, the
statistics against a hand computation, and the same fills data-driven, replayed and live."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simcore.app.backtest import run_backtest
from simcore.config import SessionConfig
from simcore.engine.analysis import Strategy
from simcore.results.statistics import statistics
from tests.alpaca_support import et, live_config, run_against_emulator


def config(start="2025-07-01", end="2025-07-03", symbols=("ALFA", "BRVO"), speed=0.0, **trading):
    return SessionConfig.model_validate(
        {
            "session_name": "trading",
            "backtest_config": {"start_date": start, "end_date": end, "speed_multiplier": speed},
            "session_data_config": {"symbols": list(symbols), "streams": ["1m", "5m", "15m"]},
            "trading_config": {
                "max_buying_power": 1e6,
                "max_per_trade": 1e6,
                "max_per_symbol": 1e6,
                "max_open_positions": 10,
            }
            | trading,
            "api_config": {"data_api": "local", "trade_api": "paper"},
        }
    )


class RandomTrader(Strategy):
    """Random orders of every kind, on random 5m bars (seeded: the same every run)."""

    subscriptions = ("5m",)

    def __init__(self, seed: int = 0):
        self.rng = random.Random(seed)

    def on_bar(self, ctx, symbol, interval, bar):
        if self.rng.random() > 0.3:
            return
        kind = self.rng.choice(["market", "limit", "stop", "stop_limit"])
        size = self.rng.choice([-20, -5, 5, 20])
        offset = bar.close * self.rng.uniform(-0.004, 0.004)
        prices = {}
        if kind in ("limit", "stop_limit"):
            prices["limit_price"] = round(bar.close + offset, 2)
        if kind in ("stop", "stop_limit"):
            prices["stop_price"] = round(bar.close - offset, 2)
        ctx.order(symbol, size, type=kind, tif=self.rng.choice(["day", "gtc", "ioc"]), **prices)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), slippage=st.sampled_from([0.0, 5.0]))
def test_property_no_fill_uses_a_price_from_before_its_order_or_a_bar_already_seen(
    seed, slippage, sample_store
):
    result = run_backtest(config(slippage_bps=slippage), sample_store, RandomTrader(seed))
    t = result.tables
    fills = t["fills"].join(t["orders"].select("order_id", "placed", "type"), on="order_id")
    bars = t["bars"].filter(pl.col("interval") == "1m").select("symbol", "timestamp", "low", "high")
    joined = fills.join(
        bars, left_on=["symbol", "time"], right_on=["symbol", "timestamp"], how="left"
    )
    assert joined.height == fills.height > 0
    # the bar it filled on started at or after the order was placed: never one it had seen
    assert (joined["time"] >= joined["placed"]).all()
    assert joined["low"].null_count() == 0  # and it is a real bar of that symbol
    slack = joined["high"] * slippage / 1e4 + 1e-4  # slipped prices are rounded to 1/10,000
    assert (
        (joined["price"] >= joined["low"] - slack) & (joined["price"] <= joined["high"] + slack)
    ).all()
    # the account adds up: cash moved by exactly the fills and their fees
    signed = pl.when(pl.col("side") == "buy").then(-1.0).otherwise(1.0) * pl.col("quantity")
    flow = t["fills"].select((signed * pl.col("price") - pl.col("fee")).sum()).item()
    assert t["equity"]["cash"][-1] == pytest.approx(1e6 + flow)


class DayLimit(Strategy):
    subscriptions = ("15m",)

    def on_session_start(self, ctx, session):
        self.placed = False

    def on_bar(self, ctx, symbol, interval, bar):
        if not self.placed:
            self.placed = True
            ctx.buy(symbol, 10, type="limit", limit_price=round(bar.close * 0.5, 2))


def test_a_day_order_expires_at_an_early_close(sample_store):
    result = run_backtest(config("2025-07-03", "2025-07-03", ("ALFA",)), sample_store, DayLimit())
    expired = result.tables["order_events"].filter(pl.col("event") == "expired")
    assert expired["time"].to_list() == [datetime(2025, 7, 3, 17, 0, tzinfo=UTC)]  # 13:00 ET


def test_statistics_against_a_hand_computation():
    t = [datetime(2025, 7, d, 14, 0, tzinfo=UTC) for d in (1, 2, 3)]
    equity = pl.DataFrame(
        {
            "session_date": [date(2025, 7, d) for d in (1, 2, 3)],
            "timestamp": t,
            "equity": [1100.0, 990.0, 1188.0],
            "invested": [True, True, False],
        }
    )
    fills = pl.DataFrame(
        {
            "time": t[:1] + t[2:] + t[2:],
            "symbol": ["X", "X", "Y"],
            "side": ["buy", "sell", "buy"],
            "quantity": [10.0, 10.0, 1.0],
            "price": [100.0, 118.0, 10.0],
            "fee": [1.0, 1.0, 0.0],
        }
    )
    s = statistics(equity, fills, 1000.0)
    returns = [0.1, -0.1, 0.2]  # 1000 -> 1100 -> 990 -> 1188
    mean = sum(returns) / 3
    std = math.sqrt(sum((r - mean) ** 2 for r in returns) / 2)
    assert s.total_return == pytest.approx(0.188) and s.net_profit == pytest.approx(188.0)
    assert s.cagr == pytest.approx(1.188 ** (252 / 3) - 1)
    assert s.volatility == pytest.approx(std * math.sqrt(252))
    assert s.sharpe == pytest.approx(mean / std * math.sqrt(252))
    assert s.sortino == pytest.approx(mean / math.sqrt(0.01 / 3) * math.sqrt(252))
    assert s.max_drawdown == pytest.approx(-0.1)  # 1100 -> 990
    assert s.max_drawdown_peak.startswith("2025-07-01") and s.max_drawdown_trough.startswith(
        "2025-07-02"
    )
    assert s.trades == 1 and s.win_rate == 1.0 and s.average_win == pytest.approx(178.0)
    assert s.fees == 2.0 and s.exposure == pytest.approx(2 / 3)
    assert s.turnover == pytest.approx((1000 + 1180 + 10) / ((1100 + 990 + 1188) / 3))


class EveryQuarterHour(Strategy):
    """Buys 10 on one 15m bar, sells them on the next: trades all day, deterministically."""

    subscriptions = ("15m",)

    def on_bar(self, ctx, symbol, interval, bar):
        held = ctx.position(symbol).quantity
        ctx.order(symbol, -held if held else 10)


def each_kind():
    from tests.test_alpaca_contingent import EachKind  # brackets, a replace, OCO, trailing

    return EachKind()


@pytest.mark.parametrize(
    ("make", "fills"), [(EveryQuarterHour, 2 * 13), (each_kind, 6)], ids=["simple", "contingent"]
)
def test_the_same_fills_data_driven_replayed_and_live_on_the_emulator(
    sample_store, tmp_path, make, fills
):
    symbols = ("ALFA", "BRVO")
    day = "2025-07-03"
    data_driven = run_backtest(config(day, day, symbols), sample_store, make())
    replay = run_backtest(config(day, day, symbols, 2000.0), sample_store, make())
    live_cfg = live_config(symbols).model_copy(update={"trading_config": config().trading_config})
    live = run_against_emulator(
        sample_store, tmp_path, et(8, 30), 3600.0, make(), config=live_cfg
    ).result
    columns = ["time", "symbol", "side", "quantity", "price", "fee"]
    expected = data_driven.tables["fills"].select(columns)
    # simple: 14 quarter hours to 13:00, the last order expires
    assert expected.height == fills
    if replay.tables["overruns"].height == 0:  # no overrun: the same sequence of work
        assert replay.tables["fills"].select(columns).equals(expected)
    assert live.tables["fills"].select(columns).equals(expected)


def _max_drawdown_by_walking(values: list[float], times: list, start: float):
    """The deepest fall from a running peak, walked one point at a time (the reference)."""
    worst, peak, peak_at, result = 0.0, start, None, (0.0, None, None)
    for value, moment in zip(values, times, strict=True):
        if value > peak:
            peak, peak_at = value, moment
        fall = value / peak - 1 if peak > 0 else 0.0
        if fall < worst:
            worst = fall
            result = (fall, peak_at and peak_at.isoformat(), moment.isoformat())
    return result


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([0.0, 90.0, 95.5, 100.0, 100.0, 104.25, 110.0, 120.0]), max_size=40),
    st.sampled_from([0.0, 100.0, 105.0]),
)
def test_max_drawdown_equals_walking_the_equity(values, start):
    from simcore.results.statistics import _max_drawdown

    times = [datetime(2025, 7, 1, tzinfo=UTC) + timedelta(minutes=i) for i in range(len(values))]
    equity = pl.DataFrame(
        {"timestamp": times, "equity": values},
        schema={"timestamp": pl.Datetime("us", "UTC"), "equity": pl.Float64},
    )
    assert _max_drawdown(equity, start) == _max_drawdown_by_walking(values, times, start)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 11), st.sampled_from(["AAA", "BBB", "CCC"]), st.integers(-3, 3)),
        max_size=25,
    ),
    st.sets(st.tuples(st.integers(0, 11), st.sampled_from(["AAA", "BBB", "CCC"])), max_size=30),
)
def test_equity_marks_what_is_held_at_each_time_at_the_last_close(trades, bar_cells):
    """Market value at each streamed time = sum over symbols of the shares held then (every fill
    at or before it) times the symbol's last close then (0 before its first bar)."""
    from simcore.results.trading_tables import StreamedMarks, equity_table

    minute = 60_000_000_000
    bars = pl.DataFrame(
        {
            "session_date": [date(2025, 7, 1)] * len(bar_cells),
            "symbol": [s for _, s in sorted(bar_cells)],
            "timestamp": [t * minute for t, _ in sorted(bar_cells)],
            "close": [100.0 + t + ord(s[0]) / 10 for t, s in sorted(bar_cells)],
            "source": ["STREAMED"] * len(bar_cells),
        },
        schema_overrides={
            "session_date": pl.Date,
            "symbol": pl.String,
            "timestamp": pl.Int64,
            "close": pl.Float64,
            "source": pl.String,
        },
    ).with_columns(pl.col("timestamp").cast(pl.Datetime("ns", "UTC")))
    trades = [(t, s, q) for t, s, q in trades if q]
    fills = pl.DataFrame(
        {
            "time": [t * minute for t, _, _ in trades],
            "symbol": [s for _, s, _ in trades],
            "side": ["buy" if q > 0 else "sell" for _, _, q in trades],
            "quantity": [float(abs(q)) for _, _, q in trades],
            "price": [50.0] * len(trades),
            "fee": [0.0] * len(trades),
        },
        schema_overrides={
            "time": pl.Int64,
            "symbol": pl.String,
            "side": pl.String,
            "quantity": pl.Float64,
            "price": pl.Float64,
            "fee": pl.Float64,
        },
    ).with_columns(pl.col("time").cast(pl.Datetime("ns", "UTC")))
    equity = equity_table(StreamedMarks.of_bars(bars), fills, 1e4)
    for row in equity.iter_rows(named=True):
        t = int(row["timestamp"].timestamp()) * 10**9 // minute
        expected, invested = 0.0, False
        for symbol in sorted({s for _, s, _ in trades}):
            held = sum(q for u, s, q in trades if s == symbol and u <= t)
            closes = [
                (u, 100.0 + u + ord(s[0]) / 10) for u, s in bar_cells if s == symbol and u <= t
            ]
            expected += held * (max(closes)[1] if closes else 0.0)
            invested |= held != 0
        assert row["market_value"] == pytest.approx(expected, rel=1e-12, abs=1e-9)
        assert row["invested"] == invested


def test_equity_from_the_recorded_bars_equals_equity_from_the_bars_table(sample_store):
    """A run marks its equity from the bars it recorded (their times and closes, per session);
    the same marks read off its bars table give the same table, to the bit."""
    from simcore.results.trading_tables import StreamedMarks, equity_table

    result = run_backtest(config(), sample_store, RandomTrader(7))
    t = result.tables
    assert t["fills"].height > 0 and t["equity"]["market_value"].abs().sum() > 0
    again = equity_table(StreamedMarks.of_bars(t["bars"]), t["fills"], 1e6, t["corporate_actions"])
    assert again.equals(t["equity"])
    assert (
        result.summary["bars_streamed"] == t["bars"].filter(pl.col("source") == "STREAMED").height
    )
    assert (
        result.summary["bars_generated"] == t["bars"].filter(pl.col("source") == "GENERATED").height
    )
