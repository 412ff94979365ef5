"""``data_api: "polygon"``: Polygon's own client (``massive``) against the loopback emulator of
its aggregates API and websocket. A backtest fetches what it reads into the store once and
equals the local run on the same data; `simcore live` streams the day's minutes; a missing key
is a clear message."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from datetime import UTC, date, datetime

import polars as pl
import pytest
from massive.websocket.models import Market, parse
from polars.testing import assert_frame_equal

from adapters.polygon.emulator.server import _FORMS, PolygonEmulator
from adapters.polygon.feed import PolygonFeed
from adapters.polygon.keys import PolygonKey
from simcore.app.backtest import resolve_strategy, run_backtest
from simcore.results.writing import frame_digest
from simcore.store.parquet import BARS_1M, BARS_1S, ParquetStore
from simcore.store.synth import SynthSpec, write_synthetic
from simcore.time import LiveClock, TimeManager
from tests.alpaca_support import et, store_bars
from tests.test_alpaca_backtest import config
from tests.test_cli_live import run_cli, run_live_cli

KEY = "polygon-test-key-0123"
OHLCV = ["symbol", "timestamp", "open", "high", "low", "close", "volume"]


@pytest.fixture
def emulator(sample_store, monkeypatch):
    with PolygonEmulator(sample_store, LiveClock(et(18, 0)), key=KEY) as emu:
        monkeypatch.setenv("MASSIVE_API_KEY", KEY)
        monkeypatch.setenv("SIMCORE_POLYGON_URL", emu.rest_url)
        yield emu


def test_a_backtest_on_polygon_fetches_once_and_equals_the_local_run(
    emulator, sample_store, tmp_path
):
    store = ParquetStore(tmp_path / "store")
    first = run_backtest(config("polygon"), store, resolve_strategy(config("polygon"), None))
    assert first.metrics.fetched["bars"] > 0 and first.metrics.fetched["rows_rejected"] == 0
    local = run_backtest(config("local"), sample_store, resolve_strategy(config("local"), None))
    for name in ("bars", "quality", "historical_indicators", "signals"):
        assert frame_digest(first.tables[name]) == frame_digest(local.tables[name]), name
    requests_before = len(emulator.rest_requests)
    again = run_backtest(config("polygon"), store, resolve_strategy(config("polygon"), None))
    assert len(emulator.rest_requests) == requests_before  # nothing fetched twice
    assert again.metrics.fetched["requests"] == 0


def test_a_missing_key_is_a_clear_message(emulator, tmp_path, monkeypatch, capsys):
    path = tmp_path / "polygon.json"
    path.write_text(config("polygon").model_dump_json())
    monkeypatch.delenv("MASSIVE_API_KEY")
    assert run_cli(["backtest", str(path), "--store", str(tmp_path / "s")]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "MASSIVE_API_KEY is not set" in err


def test_simcore_live_on_polygon_streams_every_minute(sample_store, tmp_path, monkeypatch):
    speed = 600.0
    with PolygonEmulator(sample_store, LiveClock(et(12, 45), speed), key=KEY) as emu:
        monkeypatch.setenv("MASSIVE_API_KEY", KEY)
        monkeypatch.setenv("SIMCORE_POLYGON_URL", emu.rest_url)
        monkeypatch.setenv("SIMCORE_POLYGON_STREAM_URL", emu.stream_url)
        out = run_live_cli(tmp_path, "polygon", "2025-07-03T12:45:00-04:00", speed)
    bars = pl.read_parquet(out / "bars.parquet").filter(pl.col("interval") == "1m")
    assert_frame_equal(
        bars.select("symbol", "timestamp", "open", "close").sort("symbol", "timestamp"),
        store_bars(sample_store).select("symbol", "timestamp", "open", "close"),
        check_dtypes=False,
    )


@pytest.fixture(scope="module")
def seconds_store(tmp_path_factory) -> ParquetStore:
    """Two symbols' 2025-06-30..07-03 with 1s bars that add up to their 1m bars, and quotes."""
    spec = SynthSpec(("ALFA", "BRVO"), date(2025, 6, 30), date(2025, 7, 3), date(2025, 6, 2))
    store = ParquetStore(tmp_path_factory.mktemp("seconds") / "store")
    write_synthetic(store, replace(spec, quotes=True, seconds=True), TimeManager())
    return store


def test_live_on_polygon_streams_second_aggregates_where_1s_is_asked(
    seconds_store, tmp_path, monkeypatch
):
    """``["1s", "1m", "quotes"]`` on Polygon: 1s STREAMED from second aggregates (``A``), 1m
    GENERATED from them, quotes from ``Q``. Joined at 12:56 on an early-close day: the
    session's earlier seconds are gaps, asked of REST second aggregates; the last minutes come
    from the socket. Every second is there as stored, or recorded as a gap not filled (on a
    loaded machine the fills may not land before the 13:00 close): none is lost silently."""
    speed = 30.0
    with PolygonEmulator(seconds_store, LiveClock(et(12, 56), speed), key=KEY) as emu:
        monkeypatch.setenv("MASSIVE_API_KEY", KEY)
        monkeypatch.setenv("SIMCORE_POLYGON_URL", emu.rest_url)
        monkeypatch.setenv("SIMCORE_POLYGON_STREAM_URL", emu.stream_url)
        streams = ("1s", "1m", "5m", "quotes")
        out = run_live_cli(tmp_path, "polygon", "2025-07-03T12:56:00-04:00", speed, streams)
        from_socket = {(sym, ns) for _, sym, ns in emu.sent}
        quotes_sent = emu.stream.timed_sent.get("Q", 0)
    marking = pl.read_parquet(out / "marking.parquet").filter(pl.col("symbol") == "ALFA")
    assert dict(marking.select("stream", "mark").iter_rows()) == {
        "1s": "STREAMED", "1m": "GENERATED", "5m": "GENERATED", "quotes": "STREAMED",
    }  # fmt: skip
    bars = pl.read_parquet(out / "bars.parquet").with_columns(pl.col("timestamp").dt.epoch("ns"))
    gaps = pl.read_parquet(out / "gap_fills.parquet")
    unfilled = gaps.filter(pl.col("outcome") != "filled").select(
        "symbol", timestamp=pl.col("bar").dt.epoch("ns")
    )
    open_, close = datetime(2025, 7, 3, 13, 30, tzinfo=UTC), datetime(2025, 7, 3, 17, 0, tzinfo=UTC)
    joined = int(datetime(2025, 7, 3, 16, 57, tzinfo=UTC).timestamp() * 1e9)
    for interval, dataset in (("1s", BARS_1S), ("1m", BARS_1M)):
        stored = (
            seconds_store.read(dataset, ["ALFA", "BRVO"], open_, close)
            .filter(pl.col("timestamp") < close)
            .with_columns(pl.col("timestamp").dt.epoch("ns"))
        )
        got = bars.filter(pl.col("interval") == interval).select(OHLCV)
        # what arrived equals the store's bar, whether it came from the socket or a fill
        assert_frame_equal(
            got.sort("symbol", "timestamp"),
            stored.join(got.select("symbol", "timestamp"), on=["symbol", "timestamp"])
            .select(OHLCV)
            .sort("symbol", "timestamp"),
            check_dtypes=False,
        )
        lost = stored.join(got, on=["symbol", "timestamp"], how="anti")
        if interval == "1s":  # a second not there is a gap on record, never lost silently
            assert lost.join(unfilled, on=["symbol", "timestamp"], how="anti").is_empty()
        # from the first whole minute after the join to 12:59:30, the socket brought everything
        window = (pl.col("timestamp") >= joined) & (pl.col("timestamp") < joined + 150 * 10**9)
        assert lost.filter(window).is_empty()
    assert len(from_socket) >= 2 * 150
    live_figures = json.loads((out / "metrics.json").read_text())["live"]
    assert live_figures["gap_fill_requests"] >= 1
    page = (out / "report.html").read_text()  # simcore live leaves its report too
    assert "<h2>Live session</h2>" in page and "Gap fills" in page
    # one quote per symbol and minute: every one sent once subscribed was taken, but for those
    # stamped at the close (they race the session's end)
    assert quotes_sent >= 2 and quotes_sent - 2 <= live_figures["quotes_received"] <= quotes_sent


def test_the_socket_messages_the_feed_takes_parsed_by_the_client():
    """What the emulator sends for a second aggregate, a quote and a trade, parsed by massive's
    own parser, becomes the engine's bar, quote and trade; a status message is not data."""
    ns = 1_751_547_600_000_000_000  # 2025-07-03 13:00 UTC
    bar = {"symbol": "ALFA", "ns": ns, "open": 10.0, "high": 10.5, "low": 9.5, "close": 10.25,
           "volume": 300.0, "vwap": 10.1}  # fmt: skip
    quote = {"symbol": "ALFA", "ns": ns + 5_000_000, "bid_price": 10.2, "bid_size": 300.0,
             "ask_price": 10.3, "ask_size": 100.0}  # fmt: skip
    trade = {"symbol": "ALFA", "ns": ns + 7_000_000, "price": 10.26, "size": 50.0}
    frames = [_FORMS["A"](bar), _FORMS["Q"](quote), _FORMS["T"](trade)]
    frames.append({"ev": "status", "status": "success", "message": "subscribed to: A.ALFA"})
    messages = parse(json.loads(json.dumps(frames)), logging.getLogger("test"), Market.Stocks)
    feed = PolygonFeed(PolygonKey(KEY))
    asyncio.run(feed._handle(messages))
    items = [feed.inbox.get_nowait() for _ in range(feed.inbox.qsize())]
    assert [(i.kind, i.symbol, i.time_ns, i.values) for i in items] == [
        ("bar", "ALFA", ns, (10.0, 10.5, 9.5, 10.25, 300.0)),
        ("quote", "ALFA", ns + 5_000_000, (10.2, 300.0, 10.3, 100.0)),
        ("trade", "ALFA", ns + 7_000_000, (10.26, 50.0)),
    ]
    assert feed.topics(["ALFA"], ("1s", "quotes", "ticks")) == ["A.ALFA", "Q.ALFA", "T.ALFA"]
