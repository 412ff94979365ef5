"""The run report: summaries that keep what matters when cut down, the page from the CLI, and
the page opened in a real headless browser (Debian's chromium; skipped, saying so, without it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.app.backtest import resolve_strategy, run_backtest
from simcore.config import load_config
from simcore.results.report import write_report
from simcore.results.report.data import RunFiles, equity_curve, quality_matrix, symbol_series
from tests.test_cli_live import run_cli

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def assert_every_chart_drawn(page: Path, tmp_path: Path) -> None:
    """Open ``page`` from its file in headless chromium: no script error, and every chart the
    page expects drawn (the page counts both in the DOM)."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=20000"]
    flags.append(f"--user-data-dir={tmp_path / 'profile'}")
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    root = re.search(r"<html[^>]*>", dom).group(0)
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert "data-errors" not in root, root  # no script error
    expected = int(re.search(r'data-expected="(\d+)"', body).group(1))
    assert re.search(r'data-charts="(\d+)"', body).group(1) == str(expected), body
    assert dom.count('class="main-svg"') >= expected  # plotly drew an svg for each


@pytest.fixture(scope="module")
def results(sample_store, tmp_path_factory) -> Path:
    """The quick start's backtest, written to a folder as `simcore backtest` writes it."""
    config = load_config(REPO / "configs" / "example_backtest.json")
    folder = tmp_path_factory.mktemp("run") / "out"
    run_backtest(config, sample_store, resolve_strategy(config, None), folder)
    return folder


def _run(folder: Path, equity: pl.DataFrame, summary: dict) -> RunFiles:
    return RunFiles(folder, summary, {}, {"equity": equity.lazy()})


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(50_000, 150_000, allow_nan=False), min_size=1, max_size=9_000),
)
def test_equity_cut_down_keeps_the_last_value_and_the_deepest_drawdown(values):
    start = datetime(2025, 7, 1, 13, 30, tzinfo=UTC)
    equity = pl.DataFrame(
        {
            "timestamp": [start + timedelta(minutes=k) for k in range(len(values))],
            "equity": values,
        }
    ).with_columns(pl.col("timestamp").dt.cast_time_unit("ns"))
    curve = equity_curve(_run(Path("."), equity, {}))
    assert len(curve["t"]) <= 4_000
    assert curve["equity"][-1] == round(values[-1], 2)
    peak, deepest = values[0], 0.0
    for v in values:
        peak = max(peak, v)
        deepest = min(deepest, v / peak - 1)
    assert min(curve["drawdown"]) == pytest.approx(deepest, abs=1e-6)
    assert curve["t"] == sorted(curve["t"])


def test_a_symbols_bars_merged_keep_their_range_and_times_are_the_exchanges(results):
    run = RunFiles.read(results)
    series = symbol_series(run)
    assert sorted(series) == run.summary["symbols"]
    bars = run.table("bars").filter((pl.col("interval") == "1m") & (pl.col("symbol") == "ALFA"))
    shown = series["ALFA"]["bars"]
    assert len(shown["timestamp"]) <= 1_500
    assert max(shown["high"]) == bars["high"].max() and min(shown["low"]) == bars["low"].min()
    assert shown["open"][0] == bars.sort("timestamp")["open"][0]
    first = datetime.fromtimestamp(shown["timestamp"][0] / 1000, UTC).replace(tzinfo=None)
    assert first == datetime(2025, 7, 1, 9, 30)  # the open, as New York reads it
    fills = run.table("fills").filter(pl.col("symbol") == "ALFA")
    assert len(series["ALFA"].get("fills", {}).get("price", [])) == fills.height


def test_quality_is_a_symbol_by_session_matrix_of_the_streamed_interval(results):
    matrix = quality_matrix(RunFiles.read(results))
    assert matrix["interval"] == "1m"
    assert matrix["symbols"] == ["ALFA", "BRVO", "CHRL", "DLTA"]
    assert len(matrix["sessions"]) == 6 and all(len(row) == 6 for row in matrix["z"])
    assert all(0 <= v <= 100 for row in matrix["z"] for v in row)


def test_backtest_writes_the_report_and_report_rewrites_it(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["backtest", str(REPO / "configs" / "single_day.json"), "--out", str(out)]
    assert run_cli(argv) == 0
    page = (out / "report.html").read_text()
    assert "report.html" in capsys.readouterr().out
    # plotly.js inlined: nothing is fetched when the page opens
    assert "Plotly" in page and not re.search(r"<(script|link)[^>]+(src|href)=", page)
    (out / "report.html").unlink()
    assert run_cli(["report", str(out)]) == 0
    assert (out / "report.html").is_file()
    assert run_cli([*argv, "--no-report", "--out", str(tmp_path / "quiet")]) == 0
    assert not (tmp_path / "quiet" / "report.html").exists()


def test_report_of_a_folder_that_is_not_a_run_is_a_message(tmp_path, capsys):
    assert run_cli(["report", str(tmp_path)]) == 1
    assert "not a results folder" in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "report.html").exists()


def two_months_against_a_benchmark(store, folder: Path) -> Path:
    """A run with trades, rejections and a benchmark: every section of the tearsheet."""
    import json

    import simcore

    doc = json.loads((REPO / "configs" / "example_backtest.json").read_text())
    doc["session_name"] = "Two months of SMA(20) crosses against DLTA"
    doc["backtest_config"] |= {"start_date": "2025-06-02", "end_date": "2025-07-31"}
    doc["session_data_config"] |= {"streams": ["1m", "5m", "15m"], "benchmark": "DLTA"}
    doc["metadata"]["strategy"] = "simcore.strategies.sma_cross:SmaCrossTrader"
    doc["trading_config"] |= {"max_open_positions": 3}
    simcore.run(simcore.config_from_dict(doc), store=store.root, out=folder, report=False)
    return folder


def a_live_replay(store, folder: Path) -> Path:
    path = folder.parent / "live.json"
    path.write_text((REPO / "configs" / "live_replay.json").read_text())
    argv = ["live", str(path), "--store", str(store.root), "--out", str(folder), "--no-report"]
    argv += ["--clock-start", "2025-07-08T14:00:00-04:00", "--clock-speed", "1800"]
    assert run_cli(argv) == 0
    return folder


def a_sweep(store, folder: Path) -> Path:
    argv = ["sweep", str(REPO / "configs" / "sweep_example.json"), "--serial", "--out", str(folder)]
    argv += ["--param", "fast=5,10", "--param", "slow=30,60", "--store", str(store.root)]
    assert run_cli(argv) == 0
    return folder


PAGES = {"backtest": two_months_against_a_benchmark, "live": a_live_replay, "sweep": a_sweep}


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)
@pytest.mark.parametrize("kind", sorted(PAGES))
def test_each_page_opens_in_a_headless_browser_with_every_chart_drawn(
    kind, sample_store, tmp_path, monkeypatch
):
    """The report of a backtest with trades and a benchmark, of a live session and of a sweep:
    no script error, every chart drawn. SIMCORE_UPDATE_SCREENSHOTS=1 writes the docs' pictures
    (docs/report-<kind>.png) from these pages."""
    monkeypatch.setenv("SIMCORE_STORE", str(sample_store.root))
    folder = PAGES[kind](sample_store, tmp_path / kind)
    page = folder / "report.html" if kind == "sweep" else write_report(folder)
    assert_every_chart_drawn(page, tmp_path)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    flags += ["--virtual-time-budget=20000", f"--user-data-dir={tmp_path / 'profile'}"]
    shot = tmp_path / f"report-{kind}.png"
    subprocess.run(
        [CHROMIUM, *flags, "--window-size=1280,2600", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    if os.environ.get("SIMCORE_UPDATE_SCREENSHOTS"):
        shutil.copyfile(shot, REPO / "docs" / f"report-{kind}.png")


def test_the_python_api_runs_a_config_built_in_code_and_reads_its_results(sample_store, tmp_path):
    """The notebook API: a config from a dict, a strategy class, the results as Polars frames,
    the same outputs as the CLI's run, and the report inline in Jupyter."""
    import json

    import simcore

    values = json.loads((REPO / "configs" / "single_day.json").read_text())
    config = simcore.config_from_dict(values)
    from simcore.strategies.sma_cross import SmaCrossTrader

    results = simcore.run(
        config, strategy=SmaCrossTrader, store=sample_store.root, out=tmp_path / "api"
    )
    assert results.summary["strategy"].endswith(":SmaCrossTrader")
    assert isinstance(results.fills, pl.DataFrame) and "price" in results.fills.columns
    assert results.statistics["end_equity"] == results.equity["equity"][-1]
    inline = results._repr_html_()  # a compact summary, not the 5 MB page
    assert len(inline) < 20_000 and "net profit" in inline and "<svg" in inline
    full = results.full_report()  # outside Jupyter the page's path; in it, the page in a frame
    if isinstance(full, Path):
        assert full == results.folder / "report.html" and full.is_file()
    else:
        assert "<iframe srcdoc=" in full.data
    again = simcore.Results.open(tmp_path / "api")
    assert again.names == results.names and again["orders"].equals(results.orders)
    with pytest.raises(simcore.app.api.UserError, match=r"session_data_config\.symbols"):
        simcore.config_from_dict(values | {"session_data_config": {"symbols": []}})
