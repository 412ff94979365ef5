"""The docs cannot rot: every Python code block of the README and of docs/ runs, on the bundled
sample, and the reference pages name every command, option, output table and column.

A page's ``python`` blocks run in order in one namespace (a later block may use an earlier
one's class), in a scratch folder that holds the repository's ``configs/``, with the bundled
sample as the store. Blocks tagged otherwise (``bash``, ``text``, ``json``) are not Python.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from simcore.store.parquet import ParquetStore

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text())


PAGES_WITH_CODE = [p for p in PAGES if python_blocks(p)]


def test_the_docs_have_python_to_run():
    assert len(PAGES_WITH_CODE) >= 4
    assert REPO / "README.md" in PAGES_WITH_CODE


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda p: str(p.relative_to(REPO)))
def test_every_python_block_runs(page: Path, sample_store: ParquetStore, tmp_path, monkeypatch):
    (tmp_path / "configs").symlink_to(REPO / "configs")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIMCORE_STORE", str(sample_store.root))
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    for number, block in enumerate(python_blocks(page), start=1):
        code = compile(block, f"{page.relative_to(REPO)} (block {number})", "exec")
        exec(code, namespace)
    if page.name == "README.md":  # its tour's strategy trades on the bundled sample
        results = namespace["results"]
        assert results.summary["fills"] > 0 and results.statistics["trades"] > 0


def test_the_commands_page_names_every_command_and_option():
    import typer.main

    from simcore.app.cli.main import app

    page = (REPO / "docs" / "reference" / "commands.md").read_text()
    sections = dict(re.findall(r"^## `(simcore [^`]+)`\n(.*?)(?=^## |\Z)", page, re.S | re.M))
    command = typer.main.get_command(app)
    missing = []

    def walk(group, path: str) -> None:
        if hasattr(group, "commands"):  # a group of commands
            for name, sub in group.commands.items():
                walk(sub, f"{path} {name}")
            return
        text = next((body for title, body in sections.items() if title.startswith(path)), None)
        if text is None:
            missing.append(path)
            return
        for param in group.params:
            for flag in (*param.opts, *param.secondary_opts):
                if flag.startswith("--") and flag != "--help" and flag not in text:
                    missing.append(f"{path} {flag}")

    walk(command, "simcore")
    assert missing == []


def test_the_outputs_page_names_every_table_and_column(sample_store, tmp_path):
    from simcore.app.backtest import resolve_strategy, run_backtest
    from simcore.config import load_config

    config = load_config(REPO / "configs" / "single_day.json")
    run_backtest(config, sample_store, resolve_strategy(config, None), tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    page = (REPO / "docs" / "reference" / "outputs.md").read_text()
    sections = dict(re.findall(r"^### `(\w+)\.parquet`\n(.*?)(?=^### |^## |\Z)", page, re.S | re.M))
    import polars as pl

    missing = []
    for table in manifest["tables"]:
        if table not in sections:
            missing.append(f"{table}.parquet")
            continue
        for column in pl.read_parquet_schema(tmp_path / "run" / f"{table}.parquet"):
            if f"`{column}`" not in sections[table]:
                missing.append(f"{table}.{column}")
    assert missing == []


def shell_lines(page: Path, after: str | None = None) -> list[list[str]]:
    """The command lines of a page's ``bash`` blocks (after the heading ``after``, if given)."""
    text = page.read_text()
    if after is not None:
        text = text[text.index(after) :]
    blocks = re.findall(r"^```bash\n(.*?)^```", text, re.S | re.M)
    return [b.strip().splitlines() for b in blocks]


def run_shell_line(line: str, cwd: Path, store: Path) -> subprocess.CompletedProcess:
    """One documented command, as a user would type it: ``simcore`` is this Python's."""
    words = shlex.split(line.split("  #")[0])
    assert words[0] == "simcore", line
    env = {**os.environ, "SIMCORE_STORE": str(store)}
    return subprocess.run(
        [sys.executable, "-m", "simcore", *words[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_readmes_commands_that_need_no_account_run_and_trade(sample_store, tmp_path):
    """Every shell block of the README past the quick start (which newcomer.sh runs in a fresh
    clone) runs as written: the live rehearsal replays a day of the sample and trades."""
    (tmp_path / "configs").symlink_to(REPO / "configs")
    blocks = shell_lines(REPO / "README.md", after="## A short tour")
    assert blocks, "the README's tour shows commands"
    for lines in blocks:
        for line in lines:
            done = run_shell_line(line, tmp_path, sample_store.root)
            assert done.returncode == 0, done.stderr[-2000:]
            outcome = re.search(r"orders (\d+) \| fills (\d+)", done.stdout)
            assert outcome and int(outcome.group(2)) > 0, done.stdout[-2000:]


def test_the_sweep_guide_runs_in_the_order_written(sample_store, tmp_path):
    pytest.importorskip("ray")
    (tmp_path / "configs").symlink_to(REPO / "configs")
    (first, on_ray, resumed), *_ = shell_lines(REPO / "docs" / "how-to" / "sweep.md")
    for line in (first, on_ray, resumed):
        done = run_shell_line(line, tmp_path, sample_store.root)
        assert done.returncode == 0, done.stderr[-2000:]
    assert "6 done already" in done.stdout
    again = run_shell_line(first, tmp_path, sample_store.root)
    assert again.returncode == 1
    assert "--resume runs what it lacks" in " ".join(again.stderr.split())


def test_the_resume_commands_run_as_written(sample_store, tmp_path):
    """The backtest page's two commands: the first killed (SIGKILL) after its first
    checkpoint, the second continues it; the results are those of a run never killed."""
    import signal
    import time

    (tmp_path / "configs").symlink_to(REPO / "configs")
    (first, resumed), *_ = shell_lines(
        REPO / "docs" / "concepts" / "backtest.md", after="## Resuming a killed backtest"
    )
    words = shlex.split(first.split("  #")[0])
    env = {**os.environ, "SIMCORE_STORE": str(sample_store.root)}
    process = subprocess.Popen(
        [sys.executable, "-m", "simcore", *words[1:], "--no-report"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    checkpoint = tmp_path / "out" / "example" / ".checkpoint" / "about.json"
    while process.poll() is None and not checkpoint.exists():
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    killed = process.wait() == -signal.SIGKILL
    done = run_shell_line(resumed, tmp_path, sample_store.root)
    assert done.returncode == 0, done.stderr[-2000:]
    assert killed == ("resuming after" in done.stderr)
    whole = run_shell_line(f"{first.split('  #')[0]} --out whole", tmp_path, sample_store.root)
    assert whole.returncode == 0, whole.stderr[-2000:]
    assert (tmp_path / "out" / "example" / "manifest.json").read_text() == (
        tmp_path / "whole" / "manifest.json"
    ).read_text()
