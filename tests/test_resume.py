"""Crash-safe backtests: a run killed with SIGKILL at any point continues with ``simcore backtest
--resume`` and ends with the uninterrupted run's manifest, byte for byte.

The runs are real ``simcore backtest`` processes over a synthetic store; the points they are
killed at are found on disk (a checkpoint naming a session, a results file being written) plus
a random delay from a seeded generator, so the test is the same every time it runs while the
kills land in different places of the run.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from simcore.app.backtest import resolve_strategy, run_backtest
from simcore.config import load_config
from simcore.runtime.checkpoint import ABOUT, FOLDER, CheckpointError, CheckpointWarning
from simcore.store.parquet import ParquetStore
from simcore.store.synth import SynthSpec, write_synthetic
from simcore.strategies.sma_cross import SmaCrossTrader
from simcore.time import TimeManager

SYMBOLS = tuple(f"S{n:02d}" for n in range(24))
START, END = date(2025, 5, 1), date(2025, 6, 13)  # 30 sessions


def config_json(record_bars: str) -> dict:
    return {
        "session_name": "resumable",
        "exchange_group": "US_EQUITY",
        "asset_class": "EQUITY",
        "mode": "backtest",
        "backtest_config": {
            "start_date": START.isoformat(),
            "end_date": END.isoformat(),
            "speed_multiplier": 0.0,
            "prefetch_days": 3,
            "record_bars": record_bars,
        },
        "session_data_config": {
            "symbols": list(SYMBOLS),
            "streams": ["1m", "5m", "15m"],
            "historical": {"data": [{"trailing_days": 5, "intervals": ["1d"], "apply_to": "all"}]},
        },
        "trading_config": {
            "max_buying_power": 1_000_000,
            "max_per_trade": 50_000,
            "max_per_symbol": 100_000,
            "max_open_positions": 10,
        },
        "api_config": {"data_api": "local", "trade_api": "paper"},
        "metadata": {"strategy": "simcore.strategies.sma_cross:SmaCrossTrader"},
    }


@pytest.fixture(scope="module")
def synth_store(tmp_path_factory: pytest.TempPathFactory) -> ParquetStore:
    store = ParquetStore(tmp_path_factory.mktemp("resume-store"))
    spec = SynthSpec(SYMBOLS, START, END, date(2025, 4, 1), seed=5)
    write_synthetic(store, spec, TimeManager())
    return store


@pytest.fixture(scope="module", params=["all", "derived"])
def case(request, synth_store: ParquetStore, tmp_path_factory: pytest.TempPathFactory):
    """A config file and the manifest of its uninterrupted run."""
    folder = tmp_path_factory.mktemp(f"resume-{request.param}")
    path = folder / "config.json"
    path.write_text(json.dumps(config_json(request.param)))
    config = load_config(path)
    result = run_backtest(config, synth_store, resolve_strategy(config, None), folder / "whole")
    assert result.summary["fills"] > 50  # the account carries across sessions
    manifest = (folder / "whole" / "manifest.json").read_text()
    assert not (folder / "whole" / FOLDER).exists()  # a complete run leaves no checkpoint
    return path, manifest, synth_store


def backtest(config: Path, store: ParquetStore, out: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "simcore", "backtest", str(config), "--out", str(out)]
    command += ["--store", str(store.root), "--no-report", *extra]
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def checkpointed_day(out: Path) -> date | None:
    try:
        return date.fromisoformat(json.loads((out / FOLDER / ABOUT).read_text())["day"])
    except (OSError, ValueError, KeyError):
        return None


def writing_results(out: Path) -> bool:
    return any(
        p.name.endswith(".partial") and not p.name.startswith(".state") for p in out.iterdir()
    )


def kill_when(process: subprocess.Popen, ready, delay: float) -> bool:
    """SIGKILL ``process`` ``delay`` seconds after ``ready()`` holds; False if it ended first."""
    while process.poll() is None:
        if ready():
            time.sleep(delay)
            if process.poll() is not None:
                return False
            process.send_signal(signal.SIGKILL)
            return process.wait() == -signal.SIGKILL
        time.sleep(0.002)
    return False


def finish(process: subprocess.Popen) -> None:
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err.decode()[-3000:]


def sessions_recorded(out: Path) -> int:
    """How many sessions the run has written parts of (a part per session, as it ends)."""
    return len(list((out / ".bars-parts").glob("bars-*.parquet")))


def killed_and_resumed(config: Path, store: ParquetStore, out: Path, generator) -> int:
    """Run to the end, killed once after a random number of sessions and once more a few
    sessions into the resumed run (plus a random delay each): the resumed runs go back to the
    last checkpoint, which may be sessions before. Returns how many kills landed."""
    days = TimeManager().trading_days(START, END)
    first = generator.randrange(1, len(days) // 2)
    kills = 0
    process = backtest(config, store, out)
    if kill_when(process, lambda: sessions_recorded(out) >= first,
                 generator.uniform(0, 0.02)):  # fmt: skip
        kills += 1
        process = backtest(config, store, out, "--resume")
        then = first + generator.randrange(2, 6)
        if kill_when(process, lambda: sessions_recorded(out) >= then,
                     generator.uniform(0, 0.02)):  # fmt: skip
            kills += 1
            process = backtest(config, store, out, "--resume")
    finish(process)
    return kills


def test_killed_at_random_points_and_resumed_gives_the_uninterrupted_manifest(case, tmp_path):
    config, manifest, store = case
    generator = random.Random(23)
    kills = 0
    for attempt in range(3):
        out = tmp_path / f"run{attempt}"
        kills += killed_and_resumed(config, store, out, generator)
        assert (out / "manifest.json").read_text() == manifest
        assert not (out / FOLDER).exists() and not (out / ".bars-parts").exists()
    assert kills >= 3  # a kill may come after a fast run's end on a loaded machine


def test_killed_while_writing_the_results_and_resumed(case, tmp_path):
    config, manifest, store = case
    out = tmp_path / "run"
    process = backtest(config, store, out)
    killed = kill_when(process, lambda: out.is_dir() and writing_results(out), 0.0)
    if killed:
        assert not (out / "manifest.json").exists()  # never a manifest over half the files
        process = backtest(config, store, out, "--resume")
    finish(process)
    assert (out / "manifest.json").read_text() == manifest


def test_resume_refuses_another_config_and_a_complete_run(case, tmp_path):
    config, manifest, store = case
    out = tmp_path / "run"
    process = backtest(config, store, out)
    assert kill_when(process, lambda: checkpointed_day(out) is not None, 0.0)
    other = tmp_path / "other.json"
    changed = json.loads(config.read_text())
    changed["trading_config"]["max_per_trade"] = 10_000
    other.write_text(json.dumps(changed))
    refused = subprocess.run(
        [sys.executable, "-m", "simcore", "backtest", str(other), "--out", str(out),
         "--store", str(store.root), "--no-report", "--resume"],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert refused.returncode == 1
    assert "different config" in refused.stderr and "trading_config" in refused.stderr
    finish(backtest(config, store, out, "--resume"))
    assert (out / "manifest.json").read_text() == manifest
    loaded = load_config(config)
    with pytest.raises(CheckpointError, match="its run is complete"):
        run_backtest(loaded, store, resolve_strategy(loaded, None), out, resume=True)


def test_resume_is_for_data_driven_backtests_with_checkpoints(case, tmp_path):
    config, _, store = case
    loaded = load_config(config)
    strategy = resolve_strategy(loaded, None)
    replay = loaded.model_copy(
        update={
            "backtest_config": loaded.backtest_config.model_copy(update={"speed_multiplier": 60.0})
        }
    )
    with pytest.raises(CheckpointError, match="data-driven"):
        run_backtest(replay, store, strategy, tmp_path / "a", resume=True)
    without = loaded.model_copy(
        update={"backtest_config": loaded.backtest_config.model_copy(update={"checkpoints": False})}
    )
    with pytest.raises(CheckpointError, match="checkpoints is false"):
        run_backtest(without, store, strategy, tmp_path / "b", resume=True)
    with pytest.raises(CheckpointError, match="no checkpoint there"):
        run_backtest(loaded, store, strategy, tmp_path / "c", resume=True)


class Interrupt:
    """An ``on_session_end`` that interrupts the run (as Ctrl-C does) after ``sessions``."""

    def __init__(self, sessions: int):
        self.left = sessions

    def __call__(self, day: date) -> None:
        self.left -= 1
        if self.left == 0:
            raise KeyboardInterrupt


@pytest.mark.parametrize(("first", "then"), [("sim", "threads"), ("threads", "sim")])
def test_an_interrupted_run_resumes_on_either_runtime(case, tmp_path, first, then):
    config, manifest, store = case
    loaded = load_config(config)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_backtest(loaded, store, resolve_strategy(loaded, None), out, Interrupt(7), first)
    interrupted = json.loads((out / "manifest.json").read_text())["summary"]
    assert interrupted["status"] == "interrupted" and checkpointed_day(out) is not None
    result = run_backtest(
        loaded, store, resolve_strategy(loaded, None), out, None, then, resume=True
    )
    assert result.metrics.resumed_after is not None
    assert (out / "manifest.json").read_text() == manifest


class Unpicklable(SmaCrossTrader):
    def on_start(self, ctx) -> None:
        super().on_start(ctx)
        self.note = lambda: "a lambda pickle cannot write"


def test_a_strategy_that_cannot_be_pickled_runs_without_checkpoints_and_says_so(case, tmp_path):
    config, _, store = case
    loaded = load_config(config)
    with pytest.warns(CheckpointWarning, match=r"cannot be pickled.*without checkpoints"):
        result = run_backtest(loaded, store, Unpicklable(), tmp_path / "a")
    assert result.summary["status"] == "complete"
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert "cannot be pickled" in metrics["checkpoints"]["off"]
    assert not (tmp_path / "a" / FOLDER).exists()
    with pytest.raises(CheckpointError, match="its run is complete"):
        run_backtest(loaded, store, Unpicklable(), tmp_path / "a", resume=True)
