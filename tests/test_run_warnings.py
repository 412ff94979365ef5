"""No silent surprises: a run says what it did and what looked wrong, and what it cannot have
meant is an error that says what to check (the cases of issue 20, tried as a user would)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from simcore.app.backtest import NoBarsError, StrictWarnings, resolve_strategy, run_backtest
from simcore.config import load_config
from simcore.store.parquet import ParquetStore
from simcore.store.synth import SynthSpec, write_synthetic
from simcore.time import TimeManager
from tests.test_cli_live import run_cli

REPO = Path(__file__).resolve().parents[1]


def config_file(tmp_path: Path, name: str = "c.json", **changes) -> Path:
    """single_day.json with ``changes`` (dotted paths) applied."""
    doc = json.loads((REPO / "configs" / "single_day.json").read_text())
    for dotted, value in changes.items():
        *parents, key = dotted.split("__")
        node = doc
        for part in parents:
            node = node[part]
        node[key] = value
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def test_dates_that_are_no_trading_days_are_said_by_validate_and_by_the_run(
    sample_store, tmp_path, capsys
):
    path = config_file(
        tmp_path, backtest_config__start_date="2025-07-05", backtest_config__end_date="2025-07-06"
    )
    assert run_cli(["validate", str(path)]) == 0
    told = " ".join(capsys.readouterr().out.split())
    assert "trading day: 2025-07-07 (1 session)" in told
    assert (
        "start_date 2025-07-05 is not a trading day (a Saturday): the run starts on the next one, 2025-07-07"
        in told
    )
    config = load_config(path)
    result = run_backtest(config, sample_store, resolve_strategy(config, None))
    assert result.summary["trading_days"] == ["2025-07-07"]
    assert any(
        "end_date 2025-07-06 is not a trading day (a Sunday)" in w
        for w in result.summary["warnings"]
    )


def test_a_csv_of_local_times_needs_its_zone_and_a_wrong_one_is_caught_twice(tmp_path, capsys):
    csv = tmp_path / "xyz.csv"
    rows = [
        f"2025-07-01 {9 + (30 + m) // 60:02d}:{(30 + m) % 60:02d}:00,10,10.5,9.5,10.2,1000"
        for m in range(30)
    ]
    csv.write_text("timestamp,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    store = tmp_path / "store"
    argv = ["data", "import", str(csv), "--symbol", "XYZ", "--store", str(store)]
    assert run_cli(argv) == 1  # no zone: refused, the choices named
    assert "--tz: America/New_York (the exchange's wall clock) or UTC" in " ".join(
        capsys.readouterr().err.split()
    )
    assert run_cli([*argv, "--tz", "UTC"]) == 0  # the wrong zone: stored, and said so
    told = " ".join(capsys.readouterr().out.split())
    assert "30 of 30 rows fall outside regular hours in --tz UTC" in told
    assert "import it again with --tz America/New_York" in told
    path = config_file(
        tmp_path,
        session_data_config__symbols=["XYZ"],
        session_data_config__streams=["1m", "5m"],
        session_data_config__historical={"data": [], "indicators": {}},
        backtest_config__start_date="2025-07-01",
        backtest_config__end_date="2025-07-01",
    )
    out = tmp_path / "out"
    assert run_cli(["backtest", str(path), "--store", str(store), "--out", str(out)]) == 1
    error = " ".join(capsys.readouterr().err.split())
    assert "streamed no bar: no symbol had a bar in the regular session of 2025-07-01" in error
    assert "30 bar(s) of XYZ on these days are outside regular hours" in error
    assert (out / "manifest.json").is_file() and (out / "report.html").is_file()  # to look at


def test_poor_quality_and_strict_runs(tmp_path):
    store = ParquetStore(tmp_path / "store")
    spec = SynthSpec(
        ("AAA", "BBB"), date(2025, 7, 1), date(2025, 7, 2), date(2025, 6, 2), seed=5, gap_rate=0.2
    )
    write_synthetic(store, spec, TimeManager())
    path = config_file(
        tmp_path,
        session_data_config__symbols=["AAA", "BBB"],
        session_data_config__historical={"data": [], "indicators": {}},
    )
    config = load_config(path)
    result = run_backtest(config, store, resolve_strategy(config, None))
    (poor,) = [w for w in result.summary["warnings"] if "quality under 95%" in w]
    assert poor.startswith("2 session(s) of a symbol ended with quality under 95%")
    with pytest.raises(StrictWarnings) as refused:
        run_backtest(config, store, resolve_strategy(config, None), tmp_path / "out", strict=True)
    assert "ended with 1 warning(s)" in str(refused.value) and poor in str(refused.value)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["summary"]["warnings"] == [poor]  # written first, then the run fails
    lenient = config_file(tmp_path, "lenient.json", session_data_config__historical={"data": [], "indicators": {}},
                          session_data_config__symbols=["AAA", "BBB"],
                          session_data_config__gap_filler={"warn_quality_below": 0.0})  # fmt: skip
    config = load_config(lenient)
    assert (
        run_backtest(config, store, resolve_strategy(config, None), strict=True).summary["warnings"]
        == []
    )


def test_a_run_that_streams_nothing_is_an_error_not_an_empty_success(sample_store, tmp_path):
    path = config_file(
        tmp_path, backtest_config__start_date="2024-01-02", backtest_config__end_date="2024-01-02"
    )
    config = load_config(path)
    with pytest.raises(NoBarsError, match="Check the symbols and the dates"):
        run_backtest(config, sample_store, resolve_strategy(config, None))


def test_the_summary_line_and_the_report_show_the_orders_and_the_warnings(
    sample_store, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("SIMCORE_STORE", str(sample_store.root))
    out = tmp_path / "out"
    assert (
        run_cli(["backtest", str(REPO / "configs" / "example_backtest.json"), "--out", str(out)])
        == 0
    )
    told = " ".join(capsys.readouterr().out.split())
    assert "orders 12 | fills 12 | rejected 0" in told
    assert "warning: CAGR, volatility, Sharpe and Sortino are annualised from 6 session(s)" in told
    page = (out / "report.html").read_text()
    assert "Warnings (1)" in page and "annualised from 6 session(s)" in page
