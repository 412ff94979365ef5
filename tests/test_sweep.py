"""Strategy parameters and `simcore sweep`: the grid, checked before anything runs; every run
its own deterministic backtest, serially or on a local multi-node Ray cluster (Ray's own test
cluster), equal to the same config run alone; a failed or killed run marked, the others kept;
``--resume`` runs only what is missing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import ClassVar

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simcore.app.backtest import resolve_strategy, run_backtest
from simcore.config import load_config
from simcore.engine.analysis import Strategy
from simcore.engine.parameters import Parameter, coerce, resolve
from simcore.errors import UserError
from simcore.strategies.sma_cross import SmaCrossover
from simcore.sweep.grid import expand, parse_params
from tests.test_cli_live import run_cli
from tests.test_report import CHROMIUM, assert_every_chart_drawn

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "sweep_example.json"

# a strategy that fails for one value and kills its own process for another (written to a
# file, so that Ray's workers load it by path as the driver does)
FRAGILE = """
import os
from simcore.engine.parameters import Parameter
from simcore.strategies.sma_cross import SmaCrossover

class Fragile(SmaCrossover):
    parameters = {**SmaCrossover.parameters, "fate": Parameter(str, "live", "live, raise or die")}

    def on_start(self, ctx):
        if self.fate == "raise":
            raise RuntimeError("this run was told to fail")
        if self.fate == "die":
            os._exit(3)  # the worker process dies, as a killed one does
        super().on_start(ctx)
"""


class Tuned(Strategy):
    parameters: ClassVar[dict[str, Parameter]] = {
        "n": Parameter(int, 3, "a count"),
        "x": Parameter(float, 0.5, "a ratio"),
        "on": Parameter(bool, True, "a switch"),
        "name": Parameter(str, "a", "a label"),
    }


@given(st.integers(-(10**6), 10**6))
def test_an_int_parameter_takes_whole_numbers_from_json_and_text_only(value):
    assert coerce(int, value) == value and coerce(int, str(value)) == value
    assert coerce(int, float(value)) == value  # 5.0 from JSON is 5
    assert coerce(int, value + 0.5) is None and coerce(int, True) is None
    assert coerce(float, value) == float(value) and coerce(bool, value) is None


def test_parameters_resolve_to_defaults_and_every_problem_is_named():
    assert resolve(Tuned, {}) == {"n": 3, "x": 0.5, "on": True, "name": "a"}
    assert resolve(Tuned, {"n": "7", "on": "false"}) == {"n": 7, "x": 0.5, "on": False, "name": "a"}
    with pytest.raises(UserError) as problems:
        resolve(Tuned, {"m": 1, "n": 2.5, "on": 1})
    text = str(problems.value)
    assert "metadata.parameters.m: Tuned declares no parameter 'm'" in text
    assert "metadata.parameters.n: 2.5 is not an int" in text
    assert "metadata.parameters.on: 1 is not a bool" in text


def test_the_grid_is_every_combination_in_order_and_checked_before_anything_runs():
    runs = expand(parse_params(["fast=5,10", "slow=50,100"]), SmaCrossover, {"shares": 20})
    assert [r.values for r in runs] == [
        {"fast": 5, "slow": 50}, {"fast": 5, "slow": 100},
        {"fast": 10, "slow": 50}, {"fast": 10, "slow": 100},
    ]  # fmt: skip
    assert runs[1].name == "run-0002_fast=5_slow=100"
    listed = expand([{"fast": 5}, {"slow": 80}], SmaCrossover, {})
    assert [r.values for r in listed] == [{"fast": 5}, {"slow": 80}]
    for bad, message in (
        (["fast=5,x"], "'x' is not an int"),
        (["speed=1"], "declares no parameter 'speed'"),
        (["fast"], "write it as name=value1"),
    ):
        with pytest.raises(UserError, match=message):
            expand(parse_params(bad), SmaCrossover, {})
    with pytest.raises(UserError, match="the grid is empty"):
        expand({}, SmaCrossover, {})


def test_a_config_sets_parameters_and_the_summary_records_them(sample_store):
    config = load_config(CONFIG)
    strategy = resolve_strategy(config, None)
    assert (strategy.fast, strategy.slow, strategy.shares) == (10, 50, 20)
    result = run_backtest(config, sample_store, strategy)
    assert result.summary["parameters"] == {"fast": 10, "slow": 50, "shares": 20, "interval": "1m"}
    assert result.summary["orders"] > 0


def test_validate_names_a_parameter_the_strategy_does_not_declare(tmp_path, capsys):
    config = json.loads(CONFIG.read_text())
    config["metadata"]["parameters"] = {"fastt": 5, "slow": "fifty"}
    (tmp_path / "typo.json").write_text(json.dumps(config))
    assert run_cli(["validate", str(tmp_path / "typo.json")]) == 1
    printed = " ".join(capsys.readouterr().out.split())
    assert "metadata.parameters.fastt: SmaCrossover declares no parameter 'fastt'" in printed
    assert "metadata.parameters.slow: 'fifty' is not an int" in printed


def _sweep(tmp_path: Path, store, *extra: str) -> int:
    argv = ["sweep", str(CONFIG), "--store", str(store.root), "--out", str(tmp_path / "sweep")]
    return run_cli([*argv, *extra])


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def test_a_serial_sweep_ranks_its_runs_and_resume_runs_only_what_is_missing(
    sample_store, tmp_path, capsys
):
    assert (
        _sweep(tmp_path, sample_store, "--param", "fast=5,10", "--param", "slow=50", "--serial")
        == 0
    )
    out = tmp_path / "sweep"
    table = pl.read_parquet(out / "sweep.parquet")
    assert table["status"].to_list() == ["complete", "complete"]
    assert table["sharpe"].to_list() == sorted(table["sharpe"].to_list(), reverse=True)
    assert (out / "sweep.csv").is_file()
    if CHROMIUM is not None:  # the sweep's page: its bar chart and its fast x slow heatmap
        assert_every_chart_drawn(out / "report.html", tmp_path)
    first = out / "run-0001_fast=5_slow=50"
    kept = (first / "manifest.json").stat().st_mtime_ns
    shutil.rmtree(out / "run-0002_fast=10_slow=50")
    capsys.readouterr()
    argv = ["--param", "fast=5,10", "--param", "slow=50", "--serial"]
    assert _sweep(tmp_path, sample_store, *argv) == 1  # not without --resume
    assert "already holds a sweep" in " ".join(capsys.readouterr().err.split())
    assert _sweep(tmp_path, sample_store, *argv, "--resume") == 0
    printed = capsys.readouterr().out
    assert "1 done already" in printed and "[1/1] run-0002" in printed  # only the missing one
    assert (first / "manifest.json").stat().st_mtime_ns == kept  # not run again
    assert pl.read_parquet(out / "sweep.parquet")["status"].to_list() == ["complete"] * 2
    assert _sweep(tmp_path, sample_store, "--param", "fast=20", "--serial", "--resume") == 1
    assert "another config, strategy or grid" in " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--param", "fast=5,x"], "'x' is not an int"),
        (["--param", "speed=1"], "declares no parameter 'speed'"),
        ([], "the grid is empty"),
        (["--param", "fast=5", "--rank", "luck"], "rank by one of"),
        (["--param", "fast=5", "--address", "127.0.0.1:9"], "no Ray cluster answers there"),
    ],
)
def test_bad_sweep_input_is_a_message_and_writes_nothing(
    sample_store, tmp_path, capsys, argv, message
):
    assert _sweep(tmp_path, sample_store, *argv) == 1
    assert message in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "sweep").exists()


@pytest.fixture(scope="module")
def ray_cluster():
    """A local two-node Ray cluster (Ray's own test utility), one CPU per node."""
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    yield cluster.address
    if ray.is_initialized():
        ray.shutdown()
    cluster.shutdown()


@pytest.mark.parametrize("data", ["shared", "object"])
def test_a_sweep_on_a_two_node_ray_cluster_equals_each_config_run_alone(
    ray_cluster, sample_store, tmp_path, data
):
    argv = ["--param", "fast=5,20", "--param", "slow=50", "--address", ray_cluster, "--data", data]
    assert _sweep(tmp_path, sample_store, *argv) == 0
    config = load_config(CONFIG)
    for fast in (5, 20):
        params = {**config.metadata.parameters, "fast": fast, "slow": 50}
        alone = config.model_copy(
            update={"metadata": config.metadata.model_copy(update={"parameters": params})}
        )
        folder = tmp_path / f"alone-{fast}"
        run_backtest(alone, sample_store, resolve_strategy(alone, None), folder)
        ran = tmp_path / "sweep" / f"run-000{1 if fast == 5 else 2}_fast={fast}_slow=50"
        assert _manifest(ran) == _manifest(folder)


def test_a_failed_and_a_killed_run_are_marked_and_the_others_kept(
    ray_cluster, sample_store, tmp_path, capsys
):
    strategy_file = tmp_path / "fragile.py"
    strategy_file.write_text(FRAGILE)
    config = json.loads(CONFIG.read_text())
    config["metadata"]["strategy"] = f"{strategy_file}:Fragile"
    (tmp_path / "fragile.json").write_text(json.dumps(config))
    argv = ["sweep", str(tmp_path / "fragile.json"), "--store", str(sample_store.root)]
    argv += ["--out", str(tmp_path / "sweep"), "--param", "fate=live,raise,die"]
    assert run_cli([*argv, "--address", ray_cluster]) == 1  # some runs failed
    table = pl.read_parquet(tmp_path / "sweep" / "sweep.parquet").sort("run")
    assert table["status"].to_list() == ["complete", "failed", "failed"]
    errors = table["error"].to_list()
    assert "this run was told to fail" in errors[1]
    assert "Worker" in errors[2] or "died" in errors[2].lower()  # the process was killed
    assert _manifest(tmp_path / "sweep" / "run-0001_fate=live")["summary"]["status"] == "complete"


def test_a_strategy_class_given_to_simcore_run_gets_the_configs_parameters(sample_store, tmp_path):
    import simcore

    results = simcore.run(
        load_config(CONFIG), strategy=SmaCrossover, store=sample_store.root, out=tmp_path / "r"
    )
    assert results.summary["parameters"]["shares"] == 20  # metadata.parameters, not the default
