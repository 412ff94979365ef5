"""Backtests on ``data_api: "polygon"``: Polygon's own client (``massive``) against the loopback
emulator of its aggregates API. What the run reads is fetched into the store once, and the run
equals the local run on the same data; a missing key and a live session are clear messages."""

from __future__ import annotations

import json

import pytest

from adapters.local.store import ParquetStore
from adapters.polygon.emulator import PolygonEmulator
from simcore.backtest import resolve_strategy, run_backtest
from simcore.outputs import frame_digest
from simcore.time import LiveClock
from tests.alpaca_support import et, live_config
from tests.test_alpaca_backtest import config
from tests.test_cli_live import run_cli

KEY = "polygon-test-key-0123"


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


def test_a_missing_key_and_a_live_session_are_clear_messages(
    emulator, tmp_path, monkeypatch, capsys
):
    path = tmp_path / "polygon.json"
    path.write_text(config("polygon").model_dump_json())
    monkeypatch.delenv("MASSIVE_API_KEY")
    assert run_cli(["backtest", str(path), "--store", str(tmp_path / "s")]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "MASSIVE_API_KEY is not set" in err
    live = live_config().model_dump(mode="json")
    live["api_config"]["data_api"] = "polygon"
    live["metadata"]["strategy"] = "simcore.strategies.sma_cross:SmaCrossCounter"
    (tmp_path / "live.json").write_text(json.dumps(live))
    assert run_cli(["live", str(tmp_path / "live.json"), "--store", str(tmp_path / "s")]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "its live stream is not built yet" in err
