"""The conformance suite: what every provider must do against its loopback emulator, with the
provider's own client library (``tests/conformance/providers.py`` builds each).

History equals the emulator's data exactly, through paging, rate limits and server errors; a
live session receives every bar once and in order, after a dropped connection too; gap fills
arrive for bars the stream never sent; an outage at the open loses nothing; orders round-trip and the account reconciles after the
order stream reconnects; a provider's refusal is a clear message without the secret.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from simcore.config import SessionConfig
from simcore.engine.analysis import Strategy
from simcore.errors import DataError, UserError
from simcore.live.session import LiveOptions, run_live
from simcore.providers import GapSource, HistoryApi, LiveFeed
from simcore.runtime.run import run_session
from simcore.runtime.system import SystemManager
from simcore.store.parquet import BARS_1M, ParquetStore
from simcore.time import LiveClock, TimeManager
from simcore.trading.broker import AccountBroker
from tests.alpaca_support import DAY, et, live_config, ns, store_bars, streamed_bars
from tests.conformance.providers import PROVIDERS, Outage, Provider

NAMES = list(PROVIDERS)
SPEED = 1200.0  # a session minute is 50 ms; the session joins at 12:20 and runs to 13:00
DROPPED_AT, MISSING = ns(et(12, 35)), {("ALFA", ns(et(12, 38))), ("BRVO", ns(et(12, 39)))}


def session(provider: Provider, source_store, folder, start, speed, outage, strategy_for=None,
            config: SessionConfig | None = None):  # fmt: skip
    """One live session of the sample's early-close day against the provider's emulator;
    ``strategy_for(served)`` builds the strategy (it may inject faults through ``served``)."""
    clock = LiveClock(start, speed)
    with provider.serve(source_store, clock, outage, folder) as served:
        config = config or live_config()
        api = config.api_config.model_copy(update={"data_api": provider.name})
        config = config.model_copy(update={"api_config": api})
        system = SystemManager(config, clock)
        tm = system.get_time_manager()
        adapters = served.adapters(ParquetStore(folder / "store"), tm)
        broker = served.broker_factory(tm) if config.api_config.trade_api != "paper" else None
        strategy = strategy_for(served) if strategy_for else Strategy()
        result = run_live(
            system, adapters.source.store, strategy, adapters.source,
            served.feed(speed), clock, adapters.gap_source, folder / "out",
            LiveOptions(sessions=1, lead_seconds=30), None, broker,
        )  # fmt: skip
        account = (
            {"positions": served.account_positions, "orders": served.account_orders}
            if broker
            else {}
        )
        return result, served.stream_connections, account, strategy


@pytest.fixture(scope="module", params=NAMES)
def outage_run(request, sample_store, tmp_path_factory):
    """Per provider, one session joined at 12:20 through a dropped connection at 12:35, with
    two bars the stream never sends (the gap filler must bring them)."""
    provider = PROVIDERS[request.param]
    if provider.live:
        pytest.skip(provider.live)
    folder = tmp_path_factory.mktemp(f"conformance-{provider.name}")
    outage = Outage(drop_streams_at=[DROPPED_AT], missing=MISSING)
    result, connections, _, _ = session(provider, sample_store, folder, et(12, 20), SPEED, outage)
    return provider, result, connections


# ---------------------------------------------------------------------- the contract


@pytest.mark.parametrize("name", NAMES)
def test_the_adapters_are_what_the_engine_asks_for(name, sample_store, tmp_path):
    provider = PROVIDERS[name]
    clock = LiveClock(et(16, 0), 1.0)
    with provider.serve(sample_store, clock, Outage(), tmp_path) as served:
        tm = TimeManager("US_EQUITY", "EQUITY", "live", clock=clock)
        adapters = served.adapters(ParquetStore(tmp_path / "store"), tm)
        assert adapters.history is None or isinstance(adapters.history, HistoryApi)
        assert isinstance(adapters.gap_source, GapSource)
        assert provider.live or isinstance(served.feed(1.0), LiveFeed)
        assert adapters.source.streamable("ALFA") >= {"1m"}
        if provider.trades:
            assert isinstance(served.broker_factory(tm)(None, None, None), AccountBroker)


# ---------------------------------------------------------------------- history


@pytest.mark.parametrize("name", NAMES)
def test_history_equals_the_emulators_data_through_pages_429_and_500(name, sample_store, tmp_path):
    provider = PROVIDERS[name]
    clock = LiveClock(et(16, 0), 1.0)  # after the close: the whole day is history
    outage = Outage(rate_limited=2, server_errors=1, page_limit=700)
    with provider.serve(sample_store, clock, outage, tmp_path) as served:
        tm = TimeManager("US_EQUITY", "EQUITY", "live", clock=clock)
        adapters = served.adapters(ParquetStore(tmp_path / "store"), tm)
        days = tm.trading_days(date(2025, 6, 23), DAY)
        got = adapters.source.history(["ALFA", "BRVO"], "1m", days).collect()
    expected = sample_store.read(BARS_1M, ["ALFA", "BRVO"], et(0, 0).replace(day=23, month=6),
                                 et(23, 59))  # fmt: skip
    columns = ["symbol", "timestamp", "open", "high", "low", "close", "volume"]
    got = got.select(columns).sort("symbol", "timestamp")
    expected = expected.select(columns).sort("symbol", "timestamp")
    assert got.height == expected.height > 2 * 5 * 200
    assert_frame_equal(got, expected, check_dtypes=False)


# ---------------------------------------------------------------------- live


def test_live_every_bar_arrives_once_and_in_order_after_a_dropped_connection(
    outage_run, sample_store
):
    _, result, connections = outage_run
    assert connections >= 2  # the drop happened and the feed came back
    assert_frame_equal(streamed_bars(result), store_bars(sample_store))
    released = result.tables["bars"].filter(pl.col("interval") == "1m")
    for symbol in ("ALFA", "BRVO"):
        times = released.filter(pl.col("symbol") == symbol)["timestamp"]
        assert times.is_sorted() and times.n_unique() == times.len()


def test_gap_fills_arrive_for_bars_the_stream_never_sent(outage_run):
    _, result, _ = outage_run
    fills = result.tables["gap_fills"]
    missing = fills.filter(pl.col("bar") >= et(12, 38), pl.col("bar") <= et(12, 39))
    assert missing.filter(pl.col("outcome") == "filled").height == 2
    # the morning before the session was joined came the same way
    assert fills.filter(pl.col("bar") < et(12, 20), pl.col("outcome") == "filled").height > 300


@pytest.mark.parametrize("name", NAMES)
def test_an_outage_at_the_open_loses_nothing(name, sample_store, tmp_path):
    """The provider's stream is down from the open to 09:40 (connections dropped and refused):
    the session starts all the same, says so in its gap fills, and ends with every bar."""
    provider = PROVIDERS[name]
    if provider.live:
        pytest.skip(provider.live)
    outage = Outage(down=[(ns(et(9, 30)), ns(et(9, 40)))])
    result, connections, _, _ = session(provider, sample_store, tmp_path, et(9, 28), SPEED, outage)
    assert connections >= 2  # refused during the outage, connected after it
    assert_frame_equal(streamed_bars(result), store_bars(sample_store))
    fills = result.tables["gap_fills"].filter(pl.col("outcome") == "filled")
    during = fills.filter(pl.col("bar") < et(9, 40))
    assert during.height >= 2 * 10 - 2  # the outage's minutes (less the sample's missing ones)


# ---------------------------------------------------------------------- trading


class BuysThenSells(Strategy):
    """Buys 10 of each symbol on the 12:30 5m bar and sells them on the 12:45 one; drops the
    provider's order stream after the first fill."""

    subscriptions = ("5m",)

    def __init__(self, drop):
        self.drop, self.fills = drop, 0

    def on_bar(self, ctx, symbol, interval, bar):
        if bar.timestamp in (ns(et(12, 30)), ns(et(12, 45))):
            ctx.order(symbol, 10 if bar.timestamp == ns(et(12, 30)) else -5)

    def on_fill(self, ctx, fill):
        self.fills += 1
        if self.fills == 1:
            self.drop()


@pytest.mark.parametrize("name", NAMES)
def test_orders_round_trip_never_twice_and_the_account_reconciles_after_a_reconnect(
    name, sample_store, tmp_path
):
    provider = PROVIDERS[name]
    if not provider.trades:
        paper = f"{name} trades with simcore's paper broker (tests/test_paper_broker.py)"
        pytest.skip(getattr(provider, "no_trading", paper))
    result, _, account, strategy = session(
        provider, sample_store, tmp_path, et(12, 20), 300.0, Outage(lost_placements=2),
        lambda served: BuysThenSells(served.drop_trading_streams), live_config(trade_api=name),
    )  # fmt: skip
    assert strategy.fills == 4  # the order stream was dropped after the first
    fills = result.tables["fills"]
    assert fills["quantity"].sum() == 2 * 10 + 2 * 5
    engine = result.tables["positions"].filter(pl.col("quantity") != 0)
    assert (
        dict(engine.select("symbol", "quantity").iter_rows())
        == account["positions"]
        == {
            "ALFA": 5.0,
            "BRVO": 5.0,
        }
    )
    # two placements were taken but answered 500: looked up, never sent twice
    assert account["orders"] == result.tables["orders"].height == 4


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize("name", NAMES)
def test_refused_credentials_are_a_clear_message_without_the_secret(name, sample_store, tmp_path):
    provider = PROVIDERS[name]
    if not provider.credentials:
        pytest.skip(f"{name} needs no credentials")
    clock = LiveClock(et(16, 0), 1.0)
    with provider.serve(sample_store, clock, Outage(), tmp_path) as served:
        tm = TimeManager("US_EQUITY", "EQUITY", "live", clock=clock)
        history = served.history(ParquetStore(tmp_path / "store"), tm, bad_credentials=True)
        with pytest.raises(UserError, match="refused") as refused:
            history.check_keys("ALFA")
    assert "not-the-secret" not in str(refused.value)


@pytest.mark.parametrize("name", NAMES)
def test_a_symbol_the_provider_does_not_have_is_a_clear_message(name, sample_store, tmp_path):
    provider = PROVIDERS[name]
    config = SessionConfig.model_validate(
        {
            "session_name": "an unknown symbol",
            "backtest_config": {
                "start_date": "2025-07-03", "end_date": "2025-07-03", "speed_multiplier": 0.0
            },
            "session_data_config": {"symbols": ["ALFA", "NOPE"], "streams": ["1m", "5m"]},
            "trading_config": live_config().trading_config.model_dump(),
            "api_config": {"data_api": name, "trade_api": "paper"},
        }
    )  # fmt: skip
    with provider.serve(sample_store, LiveClock(et(18, 0), 1.0), Outage(), tmp_path) as served:
        system = SystemManager(config)
        adapters = served.adapters(ParquetStore(tmp_path / "store"), system.get_time_manager())
        with pytest.raises(DataError, match=r"no (bars|data) at all for: NOPE"):
            run_session(system, adapters.source.store, Strategy(), adapters.source, None)


@pytest.mark.parametrize("name", NAMES)
def test_a_rate_limit_that_outlasts_the_retries_is_a_clear_message(name, sample_store, tmp_path):
    provider = PROVIDERS[name]
    if not provider.credentials:
        pytest.skip(f"{name} has no API to be rate-limited by")
    clock = LiveClock(et(16, 0), 1.0)
    with provider.serve(sample_store, clock, Outage(rate_limited=100), tmp_path) as served:
        tm = TimeManager("US_EQUITY", "EQUITY", "live", clock=clock)
        history = served.history(ParquetStore(tmp_path / "store"), tm)
        with pytest.raises(DataError, match="kept failing"):
            history.fetch(["ALFA"], "1m", [DAY])


def test_the_registry_serves_every_provider_a_config_may_name():
    """A config validates its provider names against a closed vocabulary (so that a typo is
    a message with a suggestion); the registry must build every one of them, and nothing else."""
    from typing import get_args

    from adapters.registry import PROVIDERS
    from simcore.config.vocabulary import DataApi, TradeApi

    named = set(get_args(DataApi)) | (set(get_args(TradeApi)) - {"paper"})
    assert named == set(PROVIDERS)
