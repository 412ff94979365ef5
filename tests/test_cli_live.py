"""`simcore live` as a user runs it, against the loopback emulator: Ctrl-C mid-session writes
everything received (exit 130), the user's keys appear in no output, file or log, and orders go
through Alpaca's paper account (real money only with --live-money)."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from pathlib import Path

import polars as pl
import pytest

from adapters.alpaca.emulator.server import AlpacaEmulator
from simcore.app.cli.main import main
from simcore.engine.analysis import Strategy
from simcore.time import LiveClock
from tests.alpaca_support import KEYS, et, live_config

SPEED = 600.0


class BuysAtTheFirstBar(Strategy):
    """Buys 10 of each symbol on its first 5m bar."""

    subscriptions = ("5m",)

    def on_bar(self, ctx, symbol, interval, bar):
        if not ctx.position(symbol).quantity and not ctx.open_orders(symbol):
            ctx.order(symbol, 10)


def write_config(
    folder: Path,
    trade_api: str = "paper",
    strategy: str = "simcore.strategies.sma_cross:SmaCrossCounter",
) -> Path:
    doc = live_config(trade_api=trade_api).model_dump(mode="json")
    doc["metadata"]["strategy"] = strategy
    path = folder / "live.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def emulator(sample_store, monkeypatch):
    """The emulator at 09:25 on the session clock (the CLI's --clock-start must agree)."""
    yield from serving(sample_store, monkeypatch, et(9, 25))


@pytest.fixture
def emulator_at_1245(sample_store, monkeypatch):
    yield from serving(sample_store, monkeypatch, et(12, 45))


def serving(sample_store, monkeypatch, start):
    clock = LiveClock(start, SPEED)
    with AlpacaEmulator(sample_store, clock, key=KEYS.key, secret=KEYS.secret) as emu:
        monkeypatch.setenv("APCA_API_KEY_ID", KEYS.key)
        monkeypatch.setenv("APCA_API_SECRET_KEY", KEYS.secret)
        monkeypatch.setenv("SIMCORE_ALPACA_DATA_URL", emu.rest_url)
        monkeypatch.setenv("SIMCORE_ALPACA_STREAM_URL", emu.stream_url)
        monkeypatch.setenv("SIMCORE_ALPACA_TRADING_URL", emu.rest_url)
        monkeypatch.setenv("SIMCORE_ALPACA_TRADING_STREAM_URL", emu.trading_stream_url)
        yield emu


def run_cli(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    return int(exited.value.code or 0)


def run_live_cli(
    tmp_path: Path, data_api: str, clock_start: str, speed: float, streams=("1m", "5m", "15m")
) -> Path:
    """`simcore live` on ``live_config`` read from ``data_api`` (its emulator's URLs already in
    the environment), with the rehearsal clock; returns the results folder."""
    live = live_config(streams=streams).model_dump(mode="json")
    live["api_config"]["data_api"] = data_api
    live["metadata"]["strategy"] = "simcore.strategies.sma_cross:SmaCrossCounter"
    (tmp_path / "live.json").write_text(json.dumps(live))
    argv = ["live", str(tmp_path / "live.json"), "--store", str(tmp_path / "s")]
    argv += ["--out", str(tmp_path / "out"), "--clock-start", clock_start]
    assert run_cli([*argv, "--clock-speed", str(speed)]) == 0
    return tmp_path / "out"


def test_ctrl_c_mid_session_writes_every_bar_received_and_exits_130(
    emulator, tmp_path, capsys, caplog
):
    config = write_config(tmp_path)
    out = tmp_path / "out"
    argv = ["live", str(config), "--out", str(out), "--store", str(tmp_path / "store")]
    argv += ["--clock-start", "2025-07-03T09:25:00-04:00", "--clock-speed", str(SPEED)]
    interrupted_at: list[float] = []

    def interrupt() -> None:
        interrupted_at.append(__import__("time").perf_counter())
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(3.0, interrupt)  # about 09:55 on the session clock
    timer.start()
    try:
        with caplog.at_level(logging.DEBUG):
            code = run_cli(argv)
    finally:
        timer.cancel()
        timer.join()
    assert code == 130
    captured = capsys.readouterr()
    assert "interrupted: everything received is written" in captured.err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["summary"]["status"] == "interrupted"
    bars = pl.read_parquet(out / "bars.parquet").filter(pl.col("source") == "STREAMED")
    written = {
        (r["symbol"], int(r["timestamp"].timestamp()) * 10**9) for r in bars.iter_rows(named=True)
    }
    sent = [m for m in emulator.sent if m.kind == "b"]
    # every bar sent well before the interrupt was received and written; nothing else was.
    # "Well before": half a second of wall time (5 session minutes), a bound a loaded 2-core
    # machine meets; 50 ms was not always enough for the feed's thread to take a frame in
    received_for_sure = {(m.symbol, m.time_ns) for m in sent if m.wall < interrupted_at[0] - 0.5}
    assert len(received_for_sure) > 2 * 15  # the session had run about half an hour
    assert received_for_sure <= written <= {(m.symbol, m.time_ns) for m in sent}
    # and the keys were in none of it: not printed, not logged, not written (the journal too)
    texts = [captured.out, captured.err, caplog.text]
    texts += [p.read_bytes().decode("latin-1") for p in out.rglob("*") if p.is_file()]
    assert any(p.suffix == ".jsonl" for p in out.rglob("*"))
    for text in texts:
        assert KEYS.secret not in text and KEYS.key not in text


def test_rejected_keys_end_live_with_a_message_not_a_retry_loop(
    emulator, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("APCA_API_SECRET_KEY", "wrong-secret")
    config = write_config(tmp_path)
    code = run_cli(
        ["live", str(config), "--store", str(tmp_path / "store"), "--out", str(tmp_path / "o")]
    )
    assert code == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "Alpaca refused the keys (403)" in err and "wrong-secret" not in err


def test_live_trades_through_the_alpaca_paper_account_and_says_so(
    emulator_at_1245, tmp_path, capsys
):
    emulator = emulator_at_1245
    strategy = "tests.test_cli_live:BuysAtTheFirstBar"
    config = write_config(tmp_path, trade_api="alpaca", strategy=strategy)
    out = tmp_path / "out"
    argv = ["live", str(config), "--out", str(out), "--store", str(tmp_path / "store")]
    argv += ["--clock-start", "2025-07-03T12:45:00-04:00", "--clock-speed", str(SPEED)]
    assert run_cli(argv) == 0
    # the trading URL points at the emulator: the line names it, not Alpaca's paper API
    told = " ".join(capsys.readouterr().err.split())
    assert (
        f"orders go to {emulator.rest_url} (SIMCORE_ALPACA_TRADING_URL), as a paper account" in told
    )
    fills = pl.read_parquet(out / "fills.parquet")
    assert sorted(fills["symbol"]) == ["ALFA", "BRVO"] and fills["quantity"].sum() == 20
    # the account at the emulated Alpaca is what the run wrote
    held = pl.read_parquet(out / "positions.parquet").filter(pl.col("quantity") != 0)
    assert dict(held.select("symbol", "quantity").iter_rows()) == emulator.desk.positions()
    assert sum(r.startswith("POST /v2/orders") for r in emulator.rest_requests) == 2


def test_live_money_needs_alpaca_trading_and_is_never_the_default(emulator, tmp_path, capsys):
    config = write_config(tmp_path, trade_api="paper")
    argv = ["live", str(config), "--live-money", "--store", str(tmp_path / "store")]
    assert run_cli(argv) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert (
        "--live-money sends orders to a broker with real money, but api_config.trade_api is 'paper'"
        in err
    )
    assert not emulator.rest_requests  # refused before anything was asked of Alpaca
    replay = json.loads(write_config(tmp_path, trade_api="alpaca").read_text())
    replay["api_config"]["data_api"] = "local"
    (tmp_path / "replay.json").write_text(json.dumps(replay))
    argv[1] = str(tmp_path / "replay.json")
    assert run_cli(argv) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert (
        "--live-money trades on a provider's market data, but api_config.data_api is 'local'" in err
    )
