"""A sweep's grid: every combination of the values given for a strategy's parameters.

``--param fast=5,10,20 --param slow=50,100`` (or a grid file: ``{"fast": [5, 10], "slow":
[50, 100]}``, or a list of whole parameter sets ``[{"fast": 5, "slow": 50}, ...]``) gives the
runs in a fixed order, each checked against the strategy's declaration before anything runs.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from simcore.engine.parameters import resolve
from simcore.errors import UserError


@dataclass(frozen=True)
class GridRun:
    number: int  # 1-based, in grid order
    values: dict[str, object]  # only the swept parameters (the rest are the config's)

    @property
    def name(self) -> str:
        """The run's folder: its number and values, readable and stable across resumes."""
        text = "_".join(f"{k}={_text(v)}" for k, v in self.values.items())
        return f"run-{self.number:04d}" + (f"_{text}" if text else "")


def _text(value: object) -> str:
    return "".join(c if c.isalnum() or c in ".-" else "-" for c in str(value))[:40]


def parse_params(specs: Sequence[str]) -> dict[str, list[str]]:
    """``name=v1,v2,...`` per spec; a name given twice is an error."""
    grid: dict[str, list[str]] = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UserError(f"--param {spec!r}: write it as name=value1,value2,...")
        if name in grid:
            raise UserError(f"--param {name} is given twice")
        grid[name] = [v.strip() for v in values.split(",") if v.strip()]
        if not grid[name]:
            raise UserError(f"--param {name}: no values (write {name}=value1,value2,...)")
    return grid


def read_grid_file(path: Path) -> list[dict[str, object]] | dict[str, list[object]]:
    try:
        grid = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"grid file {path}: {exc}") from None
    if isinstance(grid, dict) and all(isinstance(v, list) for v in grid.values()):
        return grid
    if isinstance(grid, list) and all(isinstance(v, dict) for v in grid):
        return grid
    raise UserError(
        f'grid file {path}: expected {{"name": [values, ...], ...}} or [{{"name": value}}, ...]'
    )


def expand(
    grid: Mapping[str, Sequence[object]] | Sequence[Mapping[str, object]],
    strategy_class: type,
    fixed: Mapping[str, object],
) -> list[GridRun]:
    """The runs of ``grid`` (a product of value lists, or a list of sets), each checked with
    the config's ``fixed`` parameters under it. An empty grid, an undeclared parameter or a
    value of the wrong type is a UserError naming it (and nothing has run)."""
    if isinstance(grid, Mapping):
        names = list(grid)
        sets = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())]
        if not names:
            sets = []
    else:
        sets = [dict(s) for s in grid]
    if not sets:
        raise UserError("the grid is empty: give --param name=v1,v2,... or a grid file")
    runs = []
    for number, values in enumerate(sets, start=1):
        checked = resolve(strategy_class, {**fixed, **values}, source="--param")
        runs.append(GridRun(number, {k: checked[k] for k in values}))
    return runs
