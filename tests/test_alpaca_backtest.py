"""Backtests on ``data_api: "alpaca"``: what the run reads is fetched through the emulator into
the store once, the run equals the local run on the same data, and `simcore data fetch` brings
the same bars up front; `simcore emulate alpaca` serves until interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from adapters.alpaca.emulator.server import AlpacaEmulator
from simcore.app.backtest import resolve_strategy, run_backtest
from simcore.app.cli.main import main
from simcore.config import SessionConfig
from simcore.results.writing import frame_digest
from simcore.store.parquet import BARS_1D, BARS_1M, ParquetStore
from simcore.time import LiveClock
from tests.alpaca_support import KEYS, et

REPO = Path(__file__).resolve().parents[1]


def config(data_api: str) -> SessionConfig:
    doc = json.loads((REPO / "configs" / "single_day.json").read_text())
    doc["api_config"]["data_api"] = data_api
    doc["session_data_config"]["historical"] = {
        "data": [{"trailing_days": 5, "intervals": ["1d", "1m"], "apply_to": "all"}]
    }
    return SessionConfig.model_validate(doc)


@pytest.fixture
def emulator(sample_store, monkeypatch):
    with AlpacaEmulator(
        sample_store, LiveClock(et(18, 0)), key=KEYS.key, secret=KEYS.secret
    ) as emu:
        monkeypatch.setenv("APCA_API_KEY_ID", KEYS.key)
        monkeypatch.setenv("APCA_API_SECRET_KEY", KEYS.secret)
        yield emu


def test_a_backtest_on_alpaca_fetches_once_and_equals_the_local_run(
    emulator, sample_store, tmp_path
):
    store = ParquetStore(tmp_path / "store")
    env = {"SIMCORE_ALPACA_DATA_URL": emulator.rest_url}
    strategy = resolve_strategy(config("alpaca"), None)
    first = run_backtest(config("alpaca"), store, strategy, env=env)
    assert first.metrics.fetched["bars"] > 0 and first.metrics.fetched["rows_rejected"] == 0
    local = run_backtest(config("local"), sample_store, resolve_strategy(config("local"), None))
    for name in ("bars", "quality", "historical_indicators", "signals"):
        assert frame_digest(first.tables[name]) == frame_digest(local.tables[name]), name
    requests_before = len(emulator.rest_requests)
    again = run_backtest(config("alpaca"), store, resolve_strategy(config("alpaca"), None), env=env)
    assert len(emulator.rest_requests) == requests_before  # nothing fetched twice
    assert again.metrics.fetched["requests"] == 0


def test_data_fetch_brings_what_the_backtest_reads(emulator, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SIMCORE_ALPACA_DATA_URL", emulator.rest_url)
    path = tmp_path / "alpaca.json"
    path.write_text(config("alpaca").model_dump_json())
    store = tmp_path / "store"
    with pytest.raises(SystemExit) as exited:
        main(["data", "fetch", str(path), "--store", str(store)])
    assert exited.value.code in (0, None)
    assert "symbol-days new" in capsys.readouterr().out
    fetched = ParquetStore(store)
    assert fetched.symbols(BARS_1M) == ["ALFA", "BRVO"] and fetched.symbols(BARS_1D) == [
        "ALFA",
        "BRVO",
    ]
    requests_before = len(emulator.rest_requests)
    result = run_backtest(config("alpaca"), fetched, resolve_strategy(config("alpaca"), None),
                          env={"SIMCORE_ALPACA_DATA_URL": emulator.rest_url})  # fmt: skip
    assert len(emulator.rest_requests) == requests_before and result.summary["bars_streamed"] > 0


def test_emulate_alpaca_serves_until_interrupted(sample_store, tmp_path):
    env = dict(os.environ, SIMCORE_STORE=str(sample_store.root))
    env.pop("APCA_API_KEY_ID", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "simcore", "emulate", "alpaca",
         "--clock-start", "2025-07-03T18:00:00-04:00"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        lines = []
        while not any("REST" in line for line in lines):
            lines.append(process.stdout.readline())
        rest = next(line for line in lines if "REST" in line).split()[-1]
        answer = requests.get(
            f"{rest}/v2/stocks/bars",
            params={"symbols": "ALFA", "timeframe": "1Day", "start": "2025-07-01T00:00:00Z"},
            timeout=10,
        )
        assert answer.status_code == 200 and len(answer.json()["bars"]["ALFA"]) == 3
        assert rest.startswith("http://127.0.0.1:")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == 0
