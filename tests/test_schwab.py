"""``data_api: "schwab"``: schwab-py's real ``Client`` against the loopback emulator, its fixed
host carried there by an httpx transport. A backtest fetches what it reads once and equals the
local run on the same data; an expired access token is refreshed through the emulator's token
endpoint; a missing or too-old token file is a message saying how to create one; `simcore live`
streams every minute through the streamer whose address the preferences answer gave."""

from __future__ import annotations

import json

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from adapters.schwab.emulator.server import SchwabEmulator
from adapters.schwab.feed import SchwabFeed
from simcore.app.backtest import resolve_strategy, run_backtest
from simcore.results.writing import frame_digest
from simcore.store.parquet import ParquetStore
from simcore.time import LiveClock
from tests.alpaca_support import et, live_config, store_bars
from tests.test_alpaca_backtest import config
from tests.test_cli_live import run_cli, run_live_cli


@pytest.fixture
def emulator(sample_store, monkeypatch, tmp_path):
    with SchwabEmulator(sample_store, LiveClock(et(18, 0))) as emu:
        monkeypatch.setenv("SCHWAB_API_KEY", "app-key")
        monkeypatch.setenv("SCHWAB_APP_SECRET", "app-secret-0123")
        monkeypatch.setenv("SCHWAB_TOKEN_PATH", str(tmp_path / "token.json"))
        monkeypatch.setenv("SIMCORE_SCHWAB_URL", emu.rest_url)
        yield emu


def rehearse(monkeypatch, emu: SchwabEmulator, folder) -> None:
    """The environment of a user rehearsing against the emulator, with a fresh token file."""
    monkeypatch.setenv("SCHWAB_API_KEY", "app-key")
    monkeypatch.setenv("SCHWAB_APP_SECRET", "app-secret-0123")
    monkeypatch.setenv("SCHWAB_TOKEN_PATH", str(emu.token_file(folder / "token.json")))
    monkeypatch.setenv("SIMCORE_SCHWAB_URL", emu.rest_url)


def test_a_backtest_on_schwab_fetches_once_and_equals_the_local_run(
    emulator, sample_store, tmp_path
):
    token = emulator.token_file(tmp_path / "token.json", age_days=1)  # access token expired
    store = ParquetStore(tmp_path / "store")
    first = run_backtest(config("schwab"), store, resolve_strategy(config("schwab"), None))
    assert "POST /v1/oauth/token" in emulator.rest_requests  # refreshed, then used
    assert json.loads(token.read_text())["token"]["access_token"] == emulator.access_token
    local = run_backtest(config("local"), sample_store, resolve_strategy(config("local"), None))
    for name in ("bars", "quality", "historical_indicators", "signals"):
        assert frame_digest(first.tables[name]) == frame_digest(local.tables[name]), name
    requests_before = len(emulator.rest_requests)
    again = run_backtest(config("schwab"), store, resolve_strategy(config("schwab"), None))
    assert len(emulator.rest_requests) == requests_before and again.metrics.fetched["requests"] == 0


def test_a_missing_or_expired_token_says_how_to_create_one(emulator, tmp_path, capsys):
    path = tmp_path / "schwab.json"
    path.write_text(config("schwab").model_dump_json())
    argv = ["backtest", str(path), "--store", str(tmp_path / "s")]
    assert run_cli(argv) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "no Schwab token file at" in err and "client_from_manual_flow" in err
    emulator.token_file(tmp_path / "token.json", age_days=8)
    assert run_cli(argv) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "older than seven days" in err and "client_from_manual_flow" in err
    assert emulator.refresh_token not in err and emulator.access_token not in err


def test_simcore_live_on_schwab_streams_every_minute(sample_store, tmp_path, monkeypatch):
    speed = 600.0
    with SchwabEmulator(sample_store, LiveClock(et(12, 45), speed)) as emu:
        rehearse(monkeypatch, emu, tmp_path)
        streams = ("1m", "5m", "15m", "quotes")
        out = run_live_cli(tmp_path, "schwab", "2025-07-03T12:45:00-04:00", speed, streams)
        assert emu.connections_opened >= 1  # the streamer's address came from the preferences
        quotes_sent = emu.stream.timed_sent.get("LEVELONE_EQUITIES", 0)
    bars = pl.read_parquet(out / "bars.parquet").filter(pl.col("interval") == "1m")
    assert_frame_equal(
        bars.select("symbol", "timestamp", "open", "close").sort("symbol", "timestamp"),
        store_bars(sample_store).select("symbol", "timestamp", "open", "close"),
        check_dtypes=False,
    )
    # quotes through LEVELONE_EQUITIES, one a minute per symbol: every one the streamer sent
    # once subscribed was taken, but for those stamped at the 13:00 close (they race the
    # session's end)
    marking = pl.read_parquet(out / "marking.parquet")
    assert set(marking.filter(pl.col("stream") == "quotes")["mark"]) == {"STREAMED"}
    quotes = json.loads((out / "metrics.json").read_text())["live"]["quotes_received"]
    assert quotes_sent >= 2 and quotes_sent - 2 <= quotes <= quotes_sent


def test_level_one_deltas_are_merged_into_whole_quotes():
    """Schwab's level one sends only the fields that changed: a quote is put once its bid,
    ask, sizes and time are all known, and later deltas keep the fields they do not carry."""
    feed = SchwabFeed(client=None)  # type: ignore[arg-type] - no connection: the handler only
    full = {"key": "ALFA", "BID_PRICE": 10.0, "ASK_PRICE": 10.02, "BID_SIZE": 300,
            "ASK_SIZE": 200, "QUOTE_TIME_MILLIS": 1_000}  # fmt: skip
    feed._handle_quotes({"content": [{"key": "ALFA", "BID_PRICE": 9.99}]})
    assert feed.inbox.empty()  # only a bid: not a quote yet
    feed._handle_quotes({"content": [full]})
    feed._handle_quotes(
        {"content": [{"key": "ALFA", "ASK_PRICE": 10.03, "QUOTE_TIME_MILLIS": 2_000}]}
    )
    first, second = feed.inbox.get_nowait(), feed.inbox.get_nowait()
    assert (first.kind, first.time_ns, first.values) == (
        "quote",
        10**9,
        (10.0, 300.0, 10.02, 200.0),
    )
    assert (second.time_ns, second.values) == (2 * 10**9, (10.0, 300.0, 10.03, 200.0))


def test_schwab_trading_is_real_money_unless_rehearsed_and_trades_with_the_emulator(
    sample_store, tmp_path, monkeypatch, capsys
):
    live = live_config(trade_api="schwab").model_dump(mode="json")
    live["api_config"]["data_api"] = "schwab"
    live["metadata"]["strategy"] = "tests.test_cli_live:BuysAtTheFirstBar"
    (tmp_path / "live.json").write_text(json.dumps(live))
    argv = ["live", str(tmp_path / "live.json"), "--store", str(tmp_path / "s")]
    monkeypatch.delenv("SIMCORE_SCHWAB_URL", raising=False)
    assert run_cli(argv) == 1  # Schwab has no paper account: never by default
    assert "pass --live-money to confirm" in " ".join(capsys.readouterr().err.split())
    speed = 600.0
    with SchwabEmulator(sample_store, LiveClock(et(12, 45), speed)) as emu:
        rehearse(monkeypatch, emu, tmp_path)
        argv += ["--out", str(tmp_path / "out"), "--clock-start", "2025-07-03T12:45:00-04:00"]
        assert run_cli([*argv, "--clock-speed", str(speed)]) == 0
        account = emu.desk.positions()
    assert "orders go to the Schwab emulator" in capsys.readouterr().err
    fills = pl.read_parquet(tmp_path / "out" / "fills.parquet")
    assert sorted(fills["symbol"]) == ["ALFA", "BRVO"] and fills["quantity"].sum() == 20
    held = pl.read_parquet(tmp_path / "out" / "positions.parquet").filter(pl.col("quantity") != 0)
    assert dict(held.select("symbol", "quantity").iter_rows()) == account
    # as if killed (no end, no results): --resume is refused before anything runs, since
    # Schwab's broker does not journal its dealings
    (journal,) = (tmp_path / "out" / "journal").glob("*.jsonl")
    journal.write_text("".join(journal.read_text().splitlines(keepends=True)[:-1]))
    (tmp_path / "out" / "manifest.json").unlink()
    capsys.readouterr()
    with SchwabEmulator(sample_store, LiveClock(et(13, 30), speed)) as emu:
        rehearse(monkeypatch, emu, tmp_path)
        assert run_cli([*argv[:-2], "--resume"]) == 1
        assert emu.desk.book.orders == {}  # nothing reached the broker
    err = " ".join(capsys.readouterr().err.split())
    assert "--resume: trading through 'schwab'" in err and "not resumed" in err
