"""Finding the user's strategy class from ``module:Class`` or ``path/to/file.py:Class``.

A user keeps a strategy in a file of their project and runs ``simcore backtest CONFIG
--strategy my_strategy.py:MyStrategy`` (or ``my_strategy:MyStrategy`` from that folder). Every
way this can fail — a missing file, an error while the module runs, a name that is not a
Strategy — is the user's to fix, so it is a UserError that says which, with the user's own
traceback where their code raised.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from simcore.engine.analysis import Strategy
from simcore.engine.parameters import resolve
from simcore.errors import UserError

FORMS = "'package.module:ClassName' or 'path/to/file.py:ClassName'"


def load_strategy(spec: str, parameters: Mapping[str, object] | None = None) -> Strategy:
    """Instantiate the strategy class that ``spec`` names, with ``parameters`` (checked
    against what it declares; the rest at their defaults)."""
    location, sep, class_name = spec.rpartition(":")
    if not sep or not location or not class_name.isidentifier():
        raise UserError(f"strategy {spec!r} must look like {FORMS}")
    module = _module_from_file(location) if location.endswith(".py") else _module(location)
    cls = getattr(module, class_name, None)
    if cls is None:
        raise UserError(f"strategy {spec!r}: {location} has no {class_name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise UserError(f"strategy {spec!r} is not a subclass of simcore.engine.analysis.Strategy")
    return create_strategy(cls, parameters or {}, spec)


def create_strategy(
    cls: type[Strategy], parameters: Mapping[str, object], spec: str | None = None
) -> Strategy:
    """An instance of ``cls`` configured with ``parameters`` (a UserError names a parameter it
    does not declare or a value of the wrong type)."""
    values = resolve(cls, parameters)
    try:
        strategy = cls()
    except Exception as exc:
        name = spec or f"{cls.__module__}:{cls.__name__}"
        raise UserError(f"strategy {name!r} could not be created:\n{_user_trace(exc)}") from None
    strategy.configure(values)
    if spec is not None:
        strategy.spec = spec  # messages name it as its user did
    return strategy


def _module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name.split(".")[0] or os.getcwd() in sys.path:
            raise UserError(f"strategy module {name!r} cannot be imported: {exc}") from None
        sys.path.insert(0, os.getcwd())  # a module beside the user, as `python -m` would see
        return _module(name)
    except Exception as exc:
        raise UserError(f"strategy module {name!r} failed to load:\n{_user_trace(exc)}") from None


def _module_from_file(location: str) -> ModuleType:
    path = Path(location)
    if not path.is_file():
        raise UserError(f"strategy file {path} does not exist")
    name = f"simcore_user_strategy_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UserError(f"strategy file {path} cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look classes up by module name
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise UserError(f"strategy file {path} failed to load:\n{_user_trace(exc)}") from None
    return module


def _user_trace(exc: BaseException) -> str:
    """The traceback from the user's code down, without the import machinery above it."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if "importlib" not in f.filename and Path(f.filename).name != "strategy_loading.py"
    ]
    trace = "".join(traceback.format_list(frames)).rstrip()
    problem = "".join(traceback.format_exception_only(exc)).strip()
    return f"{trace}\n  {problem}" if trace else f"  {problem}"
