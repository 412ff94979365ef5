"""A damaged store: every command names the damaged file and what to do, none ends in a trace."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from simcore.app.backtest import resolve_strategy, run_backtest
from simcore.app.cli.main import main
from simcore.config import load_config
from simcore.store.integrity import DamagedStoreError
from simcore.store.parquet import BARS_1D, BARS_1M, ParquetStore
from simcore.store.synth import SynthSpec, write_synthetic
from simcore.time import TimeManager

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def damaged(sample_store: ParquetStore, tmp_path: Path) -> tuple[ParquetStore, Path]:
    """A copy of the sample whose July 1m file of ALFA is cut short (as by a failed copy)."""
    store = ParquetStore(tmp_path / "store")
    shutil.copytree(sample_store.root, store.root)
    path = store.root / "bars" / "1m" / "ALFA" / "2025-07.parquet"
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)
    return store, path


def cli(*argv: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    return int(exited.value.code or 0)


def test_backtest_names_the_damaged_file_and_what_to_do(damaged):
    store, path = damaged
    config = load_config(REPO / "configs" / "single_day.json")
    with pytest.raises(DamagedStoreError) as refused:
        run_backtest(config, store, resolve_strategy(config, None))
    assert refused.value.problems[0].path == path
    message = str(refused.value)
    assert str(path) in message and "re-import" in message and "delete it" in message


def test_data_info_lists_the_damaged_file_and_goes_on(damaged, capsys):
    store, path = damaged
    assert cli("data", "info", "--store", str(store.root)) == 0
    printed = capsys.readouterr().out
    assert "1 damaged file(s)" in printed and "2025-07.parquet" in printed
    alfa = next(s for s in store.summary() if s.dataset == BARS_1M and s.symbol == "ALFA")
    assert alfa.files == 1 and len(alfa.damaged) == 1  # June still counted, July listed apart
    assert alfa.rows == pl.read_parquet(path.with_name("2025-06.parquet")).height


def test_data_check_reads_every_file_and_exits_1_on_a_problem(damaged, capsys):
    store, path = damaged
    assert cli("data", "check", "--store", str(store.root)) == 1
    assert str(path) in capsys.readouterr().out
    path.unlink()
    leftover = store.root / "bars" / "1m" / "BRVO" / ".2025-06.parquet.99.tmp"
    leftover.write_bytes(b"half")
    result = store.check()
    assert [p.path for p in result.problems] == [leftover]
    leftover.unlink()
    assert cli("data", "check", "--store", str(store.root)) == 0


def test_check_finds_rows_that_break_the_layout(tmp_path):
    store = ParquetStore(tmp_path / "store")
    tm = TimeManager()
    write_synthetic(store, SynthSpec(("AAA",), date(2025, 7, 1), date(2025, 7, 2)), tm)
    path = store.files(BARS_1D, "AAA")[0]
    frame = pl.read_parquet(path)
    frame.reverse().write_parquet(path)  # out of time order
    (problem,) = store.check().problems
    assert problem.path == path and "time order" in problem.problem
    frame.with_columns(pl.lit("BBB").alias("symbol")).write_parquet(path)
    assert "rows of BBB" in store.check().problems[0].problem


def test_importing_over_a_damaged_file_replaces_it_and_says_so(damaged):
    store, path = damaged
    tm = TimeManager()
    report = write_synthetic(
        store, SynthSpec(("ALFA",), date(2025, 7, 1), date(2025, 7, 31), seed=1), tm
    )
    replaced = [p for part in report.parts for p in part.written.damaged_replaced]
    assert replaced == [path]
    assert store.check(["ALFA"]).ok


def test_a_symbol_with_a_slash_is_one_folder_and_reads_back(tmp_path):
    store = ParquetStore(tmp_path / "store")
    tm = TimeManager()
    write_synthetic(store, SynthSpec(("BTC/USD",), date(2025, 7, 1), date(2025, 7, 1)), tm)
    assert store.symbols(BARS_1M) == ["BTC/USD"]
    assert (store.root / "bars" / "1m" / "BTC%2FUSD").is_dir()
    assert store.read(BARS_1M, ["BTC/USD"]).height == 390
    assert store.check().ok
