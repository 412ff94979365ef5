"""Loading a session config file: every problem at once, each with its JSON path.

Two passes over one document: the pydantic models check each field, ``rules`` check fields
against each other. Their problems are merged, sorted by path and returned together, so a user
fixes a file in one round instead of one error at a time.
"""

from __future__ import annotations

import difflib
import json
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from simcore.config.models import SessionConfig
from simcore.config.rules import Problem, cross_field_problems
from simcore.errors import ConfigError
from simcore.time.calendar_table import load_calendar
from simcore.time.markets import MARKETS, market_for


@dataclass
class ValidationReport:
    """The outcome of validating one config document."""

    source: str
    config: SessionConfig | None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def format_path(loc: Sequence[str | int]) -> str:
    """('a', 'b', 0, 'c') -> 'a.b[0].c', the way a user finds the spot in the JSON."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


def _unwrap(annotation: Any) -> Any:
    """Strip Optional/Annotated so the model class or container behind a field shows."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else annotation
    return annotation


def _model_at(loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class that owns the object at ``loc`` inside a SessionConfig document."""
    node: Any = SessionConfig
    parts = list(loc)
    while parts:
        node = _unwrap(node)
        part = parts.pop(0)
        if isinstance(node, type) and issubclass(node, BaseModel):
            info = node.model_fields.get(str(part))
            if info is None:
                return None
            node = info.annotation
            continue
        origin = typing.get_origin(node)
        if origin in (tuple, list):
            node = typing.get_args(node)[0]
        elif origin is dict:
            node = typing.get_args(node)[1]
        else:
            return None
    node = _unwrap(node)
    return node if isinstance(node, type) and issubclass(node, BaseModel) else None


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    loc = error["loc"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        key = str(loc[-1])
        if model is not None:
            close = difflib.get_close_matches(key, list(model.model_fields), n=1, cutoff=0.6)
            if close:
                return f"unknown key {key!r}; did you mean {close[0]!r}?"
            return f"unknown key {key!r}; valid keys: {', '.join(model.model_fields)}"
        return f"unknown key {key!r}"
    message = str(error["msg"])
    message = message.removeprefix("Value error, ")
    if kind in ("literal_error", "enum") or "Input should be" in message:
        message = f"{message}, got {error.get('input')!r}"
    return message


def _pydantic_problems(error: ValidationError) -> list[Problem]:
    return [(format_path(e["loc"]), _message(e)) for e in error.errors()]


def _warnings(config: SessionConfig) -> list[Problem]:
    warnings: list[Problem] = []
    if config.mode == "live" and config.backtest_config is not None:
        warnings.append(("backtest_config", "ignored in live mode"))
    return warnings


def _calendar_problems(config: SessionConfig) -> list[Problem]:
    """Backtest dates the market's calendar cannot place (exchange_calendars knows sessions
    only to about a year ahead): found here, with their path, rather than mid-run."""
    bt = config.backtest_config
    market = (config.exchange_group, config.asset_class)
    if config.mode != "backtest" or bt is None or market not in MARKETS:
        return []  # an invalid market is reported by the rules
    table = load_calendar(market_for(*market).calendar)
    return [
        (f"backtest_config.{name}", table.range_message(day))
        for name, day in (("start_date", bt.start_date), ("end_date", bt.end_date))
        if not table.first_session <= day <= table.last_session
    ]


def validate_text(text: str, source: str = "<config>") -> ValidationReport:
    """Validate a JSON document; never raises for a bad document, returns its problems."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return ValidationReport(
            source,
            None,
            [("(document)", f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")],
        )
    if not isinstance(raw, dict):
        return ValidationReport(source, None, [("(document)", "the config must be a JSON object")])

    problems: list[Problem] = []
    config: SessionConfig | None = None
    try:
        config = SessionConfig.model_validate_json(text)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc))
    problems.extend(cross_field_problems(raw))
    # The same spot can be reached by both passes; report it once. A list whose items failed
    # also fails its length check; the items' own messages say more.
    problems = sorted(set(problems))
    problems = [
        (path, msg)
        for path, msg in problems
        if not ("after validation" in msg and any(p.startswith(path + "[") for p, _ in problems))
    ]
    if config is not None:
        problems.extend(_calendar_problems(config))
    if problems:
        return ValidationReport(source, None, problems)
    assert config is not None
    return ValidationReport(source, config, [], _warnings(config))


def validate_file(path: str | Path) -> ValidationReport:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return ValidationReport(str(path), None, [("(file)", f"cannot read: {exc.strerror}")])
    except UnicodeDecodeError as exc:
        return ValidationReport(
            str(path), None, [("(file)", f"not UTF-8 text (byte {exc.start}): a config is JSON")]
        )
    return validate_text(text, str(path))


def load_config(path: str | Path) -> SessionConfig:
    """The validated, immutable config of a file, or a ConfigError listing every problem."""
    report = validate_file(path)
    if not report.ok:
        raise ConfigError(report.source, report.problems)
    assert report.config is not None
    return report.config
