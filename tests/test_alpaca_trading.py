"""Trading through Alpaca (``trade_api: "alpaca"``): alpaca-py's real TradingClient and
TradingStream against the loopback emulator's account, which fills orders on the bars it
publishes with the paper broker's rules.

What must hold: the engine's account is Alpaca's (the same fills, positions and cash) whatever
the faults — refused orders, partial fills, trade updates lost or a dropped stream, 429 and 500
answers to a submission (never a second order) — and, where Alpaca fills as the paper broker
would, the fills are those of the data-driven backtest of the same strategy. The account's
positions and open orders are the engine's from the start (reconciliation)."""

from __future__ import annotations

import polars as pl
import pytest

from adapters.alpaca.broker import AlpacaBroker, real_money_warning
from adapters.alpaca.emulator.trading import TradingFaults
from simcore.app.backtest import run_backtest
from simcore.config import SessionConfig
from simcore.config.models import TradingConfig
from simcore.engine.analysis import Strategy
from simcore.trading.orders import OrderBook
from simcore.trading.portfolio import Portfolio
from tests.alpaca_support import KEYS, LiveRun, et, live_config, ns, run_against_emulator

FROM = ns(et(12, 40))  # the live session joins at 12:35; it trades on bars from 12:40
SPEED = 150.0  # a session minute is 400 ms: an order reaches Alpaca well before the next bar
EVENT_COLUMNS = ["time", "order_id", "symbol", "event", "filled_quantity"]
FILL_COLUMNS = ["time", "order_id", "symbol", "side", "quantity", "price"]


class EveryFiveMinutes(Strategy):
    """From 12:40, buys ``size`` on one 5m bar and sells what it holds on the next."""

    subscriptions = ("5m",)

    def __init__(self, size: float = 10):
        self.size = size
        self.heard: list[tuple[str, str]] = []
        self.filled: list[tuple[str, float]] = []

    def on_bar(self, ctx, symbol, interval, bar):
        if bar.timestamp < FROM:
            return
        held = ctx.position(symbol).quantity
        ctx.order(symbol, -held if held else self.size)

    def on_order_update(self, ctx, event):
        self.heard.append((event.order_id, event.kind))

    def on_fill(self, ctx, fill):
        self.filled.append((fill.order_id, fill.quantity))


class BuyOnce(EveryFiveMinutes):
    """Buys ``size`` of each symbol on the 12:40 bar, and nothing more."""

    def on_bar(self, ctx, symbol, interval, bar):
        if bar.timestamp == FROM:
            ctx.order(symbol, self.size)


def trading_config(**extra) -> dict:
    return {
        "max_buying_power": 1e5,
        "max_per_trade": 1e4,
        "max_per_symbol": 2e4,
        "max_open_positions": 2,
    } | extra


def backtest_config(**trading) -> SessionConfig:
    """The data-driven backtest of the same day and strategy: the fills Alpaca must match."""
    config = SessionConfig.model_validate(
        {
            "session_name": "the same, data-driven",
            "backtest_config": {
                "start_date": "2025-07-03",
                "end_date": "2025-07-03",
                "speed_multiplier": 0.0,
            },
            "session_data_config": {"symbols": ["ALFA", "BRVO"], "streams": ["1m", "5m", "15m"]},
            "trading_config": trading_config(**trading),
            "api_config": {"data_api": "local", "trade_api": "paper"},
        }
    )
    return config


def through_alpaca(sample_store, tmp_path, strategy, *, trading=None, prepare=None, **limits):
    config = live_config(trade_api="alpaca").model_copy(
        update={"trading_config": TradingConfig.model_validate(trading_config(**limits))}
    )
    return run_against_emulator(
        sample_store, tmp_path, et(12, 35), SPEED, strategy, config=config, trading=trading,
        prepare=prepare,
    )  # fmt: skip


def agrees_with_alpaca(run: LiveRun) -> None:
    """The engine's account is the emulated Alpaca account: each order's filled quantity and
    average price, every position, the cash; and Alpaca holds no order the engine did not
    send (a retried submission was never a second order)."""
    desk, broker = run.emulator.desk, run.broker
    orders = run.result.tables["orders"]
    sent = orders.filter(pl.col("status") != "rejected")
    assert len(desk.book.orders) == sent.height
    ours_at_alpaca = {alpaca_id: ours for ours, alpaca_id in desk.alpaca_id.items()}
    for row in sent.iter_rows(named=True):
        order = broker.book.orders[row["order_id"]]
        theirs = desk.book.orders[ours_at_alpaca[order.broker_id]]
        in_a_group = order.parent_id is not None or (
            order.order_class == "oco" and order.leg == "stop_loss"
        )
        if order.reason != "open at Alpaca when the session started" and not in_a_group:
            assert desk.by_client[f"simcore-{broker.run_tag}-{order.id}"] == theirs.id
        assert row["filled_quantity"] == theirs.filled_quantity
        if theirs.filled_quantity:
            assert row["average_fill_price"] == pytest.approx(theirs.average_fill_price)
    positions = broker.portfolio
    assert {s: positions.quantity(s) for s in positions.open_positions()} == desk.positions()
    assert positions.cash == pytest.approx(desk.portfolio.cash)


def assert_same(got: pl.DataFrame, expected: pl.DataFrame) -> None:
    """The same rows, in time order; within one time, two orders' rows may come in either
    order: a fill found by asking Alpaca (every half second here) is booked
    when it is found, which can be before or after the stream's update of another order."""
    key = ["time", "order_id"]
    assert got["time"].is_sorted(), got
    in_order = got.sort(key, maintain_order=True)
    wanted = expected.sort(key, maintain_order=True)
    exact = [pl.col(pl.Datetime).cast(pl.Int64), pl.col(pl.Float64).cast(pl.String)]
    differ = pl.concat([in_order, wanted], how="vertical").with_columns(exact)
    with pl.Config(tbl_rows=-1, tbl_width_chars=200):
        assert in_order.equals(wanted), f"got, then expected (exact):\n{differ}"


SCENARIOS = {
    "clean": None,
    "trade updates lost": TradingFaults(lose_updates=3),
    "429 and 500 answers to submissions": TradingFaults(submit_429=2, submit_500=2),
}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=list(SCENARIOS))
def test_alpaca_fills_as_the_backtest_whatever_the_faults(scenario, sample_store, tmp_path):
    faults = SCENARIOS[scenario]
    strategy = EveryFiveMinutes()
    run = through_alpaca(sample_store, tmp_path, strategy, trading=faults)
    expected = run_backtest(backtest_config(), sample_store, EveryFiveMinutes())
    fills = run.result.tables["fills"].select(FILL_COLUMNS)
    events = run.result.tables["order_events"].select(EVENT_COLUMNS)
    assert fills.height == 6  # 12:45, 12:50, 12:55 for two symbols; the 13:00 orders expire
    assert_same(fills, expected.tables["fills"].select(FILL_COLUMNS))
    assert_same(events, expected.tables["order_events"].select(EVENT_COLUMNS))
    agrees_with_alpaca(run)
    # the strategy heard every event once, in the order the book has them
    assert strategy.heard == [(r[1], r[3]) for r in events.iter_rows()]
    assert [f[0] for f in strategy.filled] == fills["order_id"].to_list()
    if scenario == "trade updates lost":
        assert len(run.emulator.desk.lost) == 3  # those fills were found by asking
    if scenario.startswith("429"):
        assert sum(r == "POST /v2/orders" for r in run.emulator.rest_requests) == 8 + 2


def test_a_dropped_trade_stream_reconnects_and_nothing_is_missed(sample_store, tmp_path):
    class DropsTheStream(EveryFiveMinutes):
        def on_fill(self, ctx, fill):
            super().on_fill(ctx, fill)
            if len(self.filled) == 2:
                emulator.drop_trading_streams()

    def prepare(emu) -> None:
        nonlocal emulator
        emulator = emu

    emulator = None
    strategy = DropsTheStream()
    run = through_alpaca(sample_store, tmp_path, strategy, prepare=prepare)
    assert run.emulator.trading_connections >= 2
    expected = run_backtest(backtest_config(), sample_store, EveryFiveMinutes())
    fills = run.result.tables["fills"].select(FILL_COLUMNS)
    assert_same(fills, expected.tables["fills"].select(FILL_COLUMNS))
    agrees_with_alpaca(run)


def test_partial_fills_are_booked_as_alpaca_reports_them(sample_store, tmp_path):
    cap = 0.0002  # 4 to 30 shares of a sample minute's volume
    strategy = BuyOnce(size=40)
    run = through_alpaca(
        sample_store, tmp_path, strategy, trading=TradingFaults(max_participation=cap),
        max_per_trade=2e4,
    )  # fmt: skip
    events = run.result.tables["order_events"]
    assert events.filter(pl.col("event") == "partially_filled").height >= 2
    agrees_with_alpaca(run)
    # the paper broker's participation cap is the emulator's: the same fills, bar by bar
    config = backtest_config(max_per_trade=2e4, max_participation=cap)
    expected = run_backtest(config, sample_store, BuyOnce(size=40)).tables["fills"]
    assert_same(run.result.tables["fills"].select(FILL_COLUMNS), expected.select(FILL_COLUMNS))


def test_an_order_alpaca_refuses_is_a_rejection_the_strategy_hears_of(sample_store, tmp_path):
    strategy = BuyOnce()
    run = through_alpaca(sample_store, tmp_path, strategy, trading=TradingFaults(reject_orders=1))
    rejections = run.result.tables["rejections"]
    assert rejections.height == 1
    refused = rejections.row(0, named=True)
    assert refused["rule"] == "broker" and "insufficient buying power" in refused["message"]
    assert (refused["order_id"], "rejected") in strategy.heard
    assert run.result.tables["fills"].height == 1  # the other symbol's order went through
    agrees_with_alpaca(run)


def test_the_account_alpaca_holds_is_the_engines_from_the_first_bar(sample_store, tmp_path):
    seen: dict[str, float] = {}

    class Looks(Strategy):
        subscriptions = ("5m",)

        def on_bar(self, ctx, symbol, interval, bar):
            seen.setdefault("ALFA", ctx.position("ALFA").quantity)
            seen.setdefault("cash", ctx.cash)
            seen.setdefault("open orders", len(ctx.open_orders("BRVO")))

    def prepare(emulator) -> None:  # the account before the session: 30 ALFA, a resting bid
        desk = emulator.desk
        position = desk.portfolio.position("ALFA")
        position.quantity, position.average_price = 30.0, 100.0
        desk.portfolio.cash -= 3000.0
        order = {"symbol": "BRVO", "side": "buy", "qty": "5", "type": "limit"}
        order |= {"limit_price": "1.00", "time_in_force": "gtc"}
        assert desk.handle("POST", "/v2/orders", {}, order)[0] == 200

    run = through_alpaca(sample_store, tmp_path, Looks(), prepare=prepare)
    assert seen == {"ALFA": 30.0, "cash": 97_000.0, "open orders": 1}
    orders = run.result.tables["orders"]
    resting = orders.row(0, named=True)
    assert resting["symbol"] == "BRVO" and resting["status"] == "accepted"  # GTC: still there
    assert resting["reason"] == "open at Alpaca when the session started"
    positions = run.result.tables["positions"].filter(pl.col("symbol") == "ALFA")
    assert positions["quantity"].to_list() == [30.0]
    agrees_with_alpaca(run)


def test_paper_unless_real_money_is_asked_for():
    book, portfolio = OrderBook(), Portfolio(cash=0.0)
    config = TradingConfig.model_validate(trading_config())
    paper = AlpacaBroker(config, book, portfolio, keys=KEYS)
    live = AlpacaBroker(config, book, portfolio, keys=KEYS, paper=False)
    assert paper.client._base_url == "https://paper-api.alpaca.markets"
    assert live.client._base_url == "https://api.alpaca.markets"
    assert "paper" in real_money_warning(True) and "real money" in real_money_warning(False)
