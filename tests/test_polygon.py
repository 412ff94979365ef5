"""``data_api: "polygon"``: Polygon's own client (``massive``) against the loopback emulator of
its aggregates API and websocket. A backtest fetches what it reads into the store once and
equals the local run on the same data; `simcore live` streams the day's minutes; a missing key
is a clear message."""

from __future__ import annotations

import json

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from adapters.local.store import ParquetStore
from adapters.polygon.emulator import PolygonEmulator
from simcore.backtest import resolve_strategy, run_backtest
from simcore.outputs import frame_digest
from simcore.time import LiveClock
from tests.alpaca_support import et, live_config, store_bars
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
        live = live_config().model_dump(mode="json")
        live["api_config"]["data_api"] = "polygon"
        live["metadata"]["strategy"] = "simcore.strategies.sma_cross:SmaCrossCounter"
        (tmp_path / "live.json").write_text(json.dumps(live))
        argv = ["live", str(tmp_path / "live.json"), "--store", str(tmp_path / "s")]
        argv += ["--out", str(tmp_path / "out"), "--clock-start", "2025-07-03T12:45:00-04:00"]
        assert run_cli([*argv, "--clock-speed", str(speed)]) == 0
    bars = pl.read_parquet(tmp_path / "out" / "bars.parquet").filter(pl.col("interval") == "1m")
    assert_frame_equal(
        bars.select("symbol", "timestamp", "open", "close").sort("symbol", "timestamp"),
        store_bars(sample_store).select("symbol", "timestamp", "open", "close"),
        check_dtypes=False,
    )
