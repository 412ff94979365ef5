"""Random mutations of the bundled configs: simcore answers each with a report, a clean run or a
user error — never another exception (which the CLI would show as an internal error, exit 2).

Mutations replace a value anywhere in the document with one of a pool of plausible and
implausible JSON values, delete keys, add keys, or wrap a value in a list or an object. The
second property keeps only mutants that validate, and runs them as backtests on the sample.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from simcore.app.backtest import resolve_strategy, run_backtest
from simcore.config import validate_text
from simcore.errors import UserError

REPO = Path(__file__).resolve().parents[1]
CONFIGS = {p.name: json.loads(p.read_text()) for p in sorted((REPO / "configs").glob("*.json"))}
# the sample's own configs, which a backtest can run on the bundled data
RUNNABLE = ("example_backtest.json", "single_day.json")

VALUES = [
    None, True, False, 0, -1, 1, 2, 3, 1.5, -0.5, 1e308, "", "x", "all",
    "2030-01-02", "1899-01-01", "2025-07-05", "2025-07-03", "2025-06-02", "2024-06-03",
    "1s", "1m", "5m", "1h", "1d", "quotes", "ticks", "minute", "daily",
    "US_EQUITY", "CRYPTO", "FOREX", "COMMODITIES", "EQUITY", "OPTIONS", "FUTURES",
    "live", "backtest", "local", "alpaca", "paper", "clock", "session",
    "10d", "52w", "0d", "3m", "2y", "trailing_max", "trailing_min", "trailing_average",
    [], {}, [1], {"a": 1}, ["ALFA"], ["1m"], ["ZZZ"], ["1m", "5m"],
]  # fmt: skip


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def _spot(draw, doc: dict) -> tuple[Any, Any]:
    """A random place in the document: its container and its key (or index)."""
    path = draw(st.sampled_from(_paths(doc)[1:]))
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    return parent, path[-1]


@st.composite
def mutants(draw, names=tuple(CONFIGS)) -> tuple[str, dict]:
    name = draw(st.sampled_from(names))
    doc = copy.deepcopy(CONFIGS[name])
    for _ in range(draw(st.integers(1, 3))):
        parent, key = _spot(draw, doc)
        operation = draw(st.sampled_from(["replace", "replace", "delete", "add", "list", "object"]))
        if operation == "delete" and isinstance(parent, dict):
            del parent[key]
        elif operation == "add" and isinstance(parent, dict):
            new_key = draw(st.sampled_from(["zz", "_comment", "symbols", "period", "field"]))
            parent[new_key] = copy.deepcopy(draw(st.sampled_from(VALUES)))
        elif operation == "list":
            parent[key] = [parent[key]]
        elif operation == "object":
            parent[key] = {"value": parent[key]}
        else:
            parent[key] = copy.deepcopy(draw(st.sampled_from(VALUES)))
    return name, doc


@st.composite
def plausible_mutants(draw, names=RUNNABLE) -> tuple[str, dict]:
    """One leaf replaced by a value of the same JSON type, or one key deleted: mutants that
    often still validate, so that the backtest itself meets odd but valid values."""
    name = draw(st.sampled_from(names))
    doc = copy.deepcopy(CONFIGS[name])
    parent, key = _spot(draw, doc)
    old = parent[key]
    same_type = [v for v in VALUES if type(v) is type(old) or (_number(v) and _number(old))]
    if isinstance(parent, dict) and draw(st.integers(0, 4)) == 0:
        del parent[key]
    elif same_type:
        parent[key] = copy.deepcopy(draw(st.sampled_from(same_type)))
    return name, doc


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@settings(max_examples=400, deadline=None)
@given(mutant=mutants())
def test_property_validate_answers_every_mutant_with_a_report(mutant):
    name, doc = mutant
    report = validate_text(json.dumps(doc), name)  # must not raise
    assert report.ok == (report.config is not None)
    assert all(isinstance(path, str) and message for path, message in report.problems)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
@given(mutant=st.one_of(plausible_mutants(), plausible_mutants(), mutants(RUNNABLE)))
def test_property_a_valid_mutant_runs_or_fails_as_a_user_error(mutant, sample_store):
    name, doc = mutant
    report = validate_text(json.dumps(doc), name)
    if not report.ok:
        event("invalid config")
        return
    config = report.config
    speed = config.backtest_config.speed_multiplier if config.backtest_config else 0.0
    if speed > 0:  # a replay at the mutant's speed would take hours: the same path, faster
        bt = config.backtest_config.model_copy(update={"speed_multiplier": 1e6})
        config = config.model_copy(update={"backtest_config": bt})
        event("clock-driven")
    try:
        strategy = resolve_strategy(config, None)
        result = run_backtest(config, sample_store, strategy)
    except UserError as exc:
        event(f"user error: {type(exc).__name__}")
        assert str(exc)  # a message the user can act on
        return
    event("ran")
    assert result.summary["trading_days"]
