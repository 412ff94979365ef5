"""Strategy parameters: declared by the strategy (typed, with defaults), set by a config or a sweep.

    class SmaCrossTrader(Strategy):
        parameters = {
            "period": Parameter(int, 20, "SMA period of the 5m close"),
            "shares": Parameter(int, 10, "position size while above the SMA"),
        }

An instance reads them as attributes (``self.period``); ``metadata.parameters`` in a config sets
them (``{"period": 30}``), ``simcore sweep --param period=10,20,30`` runs one backtest per value.
Values are checked against the declaration before anything runs: a parameter the strategy does
not declare, or a value of the wrong type, is a message naming it. Text from the command line is
read as the declared type ("5" is 5 for an int).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from simcore.errors import UserError

TYPES = (int, float, bool, str)


@dataclass(frozen=True)
class Parameter:
    type: type
    default: object
    help: str = ""

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise TypeError(f"a parameter is one of {', '.join(t.__name__ for t in TYPES)}")
        checked = coerce(self.type, self.default)
        if checked is None:
            raise TypeError(f"default {self.default!r} is not {_a(self.type)}")


def _a(kind: type) -> str:
    name = kind.__name__
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def coerce(kind: type, value: object) -> object | None:
    """``value`` as ``kind``, or None when it is not one. JSON numbers: an int is a float too,
    a float is an int only when whole; never a bool for a number. Text is parsed."""
    if isinstance(value, str) and kind is not str:
        return _parse(kind, value.strip())
    if kind is bool:
        return value if isinstance(value, bool) else None
    if isinstance(value, bool):
        return None
    if kind is int:
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return None
    if kind is float:
        return float(value) if isinstance(value, int | float) else None
    return value if isinstance(value, str) else None


def _parse(kind: type, text: str) -> object | None:
    if kind is bool:
        return {"true": True, "false": False}.get(text.lower())
    try:
        return kind(text)
    except ValueError:
        return None


def declared(strategy_class: type) -> dict[str, Parameter]:
    return dict(getattr(strategy_class, "parameters", {}) or {})


def resolve(
    strategy_class: type, values: Mapping[str, object], source: str = "metadata.parameters"
) -> dict[str, object]:
    """Every declared parameter's value: the default, or the one given, checked. Raises a
    UserError listing every problem, each with its path (``metadata.parameters.fast``)."""
    params = declared(strategy_class)
    name = strategy_class.__name__
    problems = []
    for key in values:
        if key not in params:
            known = ", ".join(sorted(params)) or "none"
            problems.append(
                f"{source}.{key}: {name} declares no parameter {key!r} (it has: {known})"
            )
    out = {key: p.default for key, p in params.items()}
    for key, value in values.items():
        if key not in params:
            continue
        checked = coerce(params[key].type, value)
        if checked is None:
            problems.append(
                f"{source}.{key}: {value!r} is not {_a(params[key].type)} "
                f"({name}.{key}: {params[key].help or 'no description'})"
            )
        else:
            out[key] = checked
    if problems:
        raise UserError("\n".join(problems))
    return out
