"""The command line as a user runs it: real processes, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def simcore(*args: str, store: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if store is not None:
        env["SIMCORE_STORE"] = str(store)
    return subprocess.run(
        [sys.executable, "-m", "simcore", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_validate_accepts_every_bundled_config():
    configs = sorted(str(p) for p in (REPO / "configs").glob("*.json"))
    result = simcore("validate", *configs)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok ") == len(configs) >= 3


def test_validate_lists_every_problem_and_exits_1(tmp_path: Path):
    doc = json.loads((REPO / "configs" / "single_day.json").read_text())
    doc["mode"] = "paper"
    doc["trading_config"]["max_per_trade"] = 1e9
    doc["session_data_config"]["streams"] = ["1m", "7m"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    result = simcore("validate", str(bad))
    assert result.returncode == 1
    assert "3 problem(s)" in result.stdout
    for path in ("mode:", "trading_config.max_per_trade:", "session_data_config.streams[1]:"):
        assert path in result.stdout


def test_usage_errors_are_user_errors():
    assert simcore("validate").returncode == 1
    assert simcore("no-such-command").returncode == 1
    assert simcore("data", "import", "missing.csv", "--store", "/tmp/x").returncode == 1


def test_data_info_generates_the_sample_on_first_use(tmp_path: Path):
    store = tmp_path / "store"
    result = simcore("data", "info", store=store)
    assert result.returncode == 0, result.stderr
    assert "generated the bundled sample" in result.stdout
    assert "ALFA" in result.stdout and "quotes" in result.stdout
    again = simcore("data", "info", store=store)
    assert "generated" not in again.stdout


def test_import_reports_rejects_and_writes_them(tmp_path: Path):
    source = tmp_path / "in.csv"
    source.write_text(
        "timestamp,open,high,low,close,volume\n"
        "2025-07-02 09:30:00,10,11,9,10,100\n"
        "2025-07-02 09:31:00,10,11,9,10,-1\n"
    )
    rejects = tmp_path / "rejects.csv"
    result = simcore(
        "data",
        "import",
        str(source),
        "--symbol",
        "XYZ",
        "--tz",
        "America/New_York",
        "--rejects",
        str(rejects),
        "--store",
        str(tmp_path / "s"),
    )
    assert result.returncode == 0, result.stderr
    assert "negative_volume 1" in result.stdout
    assert "negative_volume" in rejects.read_text()


def test_backtest_runs_and_refusals_exit_1(tmp_path: Path):
    store = tmp_path / "store"
    result = simcore(
        "backtest", "configs/single_day.json", "--out", str(tmp_path / "out"), store=store
    )
    assert result.returncode == 0, result.stderr
    assert "Performance Metrics Summary:" in result.stdout and "signals" in result.stdout
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert set(manifest["tables"]) == {
        "bars",
        "gaps",
        "historical_indicators",
        "history_plan",
        "marking",
        "quality",
        "signals",
        "overruns",
        "orders",
        "order_events",
        "fills",
        "rejections",
        "positions",
        "equity",
        "corporate_actions",
        "returns",
    }
    assert (tmp_path / "out" / "metrics.json").exists()


def test_live_without_keys_says_which_are_missing(tmp_path: Path):
    env_free = {k: v for k, v in os.environ.items() if not k.startswith("APCA_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "simcore",
            "live",
            "configs/live_paper.json",
            "--store",
            str(tmp_path),
        ],
        cwd=REPO,
        env=env_free,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "APCA_API_KEY_ID and APCA_API_SECRET_KEY are not set" in " ".join(result.stderr.split())
    wrong_command = simcore("backtest", "configs/live_paper.json")
    assert wrong_command.returncode == 1 and "mode 'live'" in wrong_command.stderr
