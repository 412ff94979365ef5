"""One backtest from a config: its data source (through the provider registry), its run, its
results. Used by ``simcore backtest``, ``simcore sweep``, ``simcore data fetch`` and the Python
API."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path

from adapters import registry
from simcore.config import SessionConfig
from simcore.engine.analysis import Strategy
from simcore.errors import UserError
from simcore.results.writing import prepare_out_dir
from simcore.runtime.run import RunResult, run_session
from simcore.runtime.system import SystemManager
from simcore.store.parquet import ParquetStore
from simcore.store.provider_source import ProviderBackedSource
from simcore.store.source import LocalDataSource
from simcore.strategies.loading import load_strategy
from simcore.time import TimeManager


def resolve_strategy(config: SessionConfig, override: str | None) -> Strategy:
    spec = override or config.metadata.strategy
    if not spec:
        raise UserError(
            "no strategy: set metadata.strategy in the config or pass --strategy module:Class"
        )
    return load_strategy(spec, config.metadata.parameters)


def provider_env(overrides: Mapping[str, str | None] | None = None) -> Mapping[str, str]:
    """The environment providers read their settings from: the process's, with ``overrides``
    (a command's options, a test's emulator) taking precedence where given."""
    given = {k: v for k, v in (overrides or {}).items() if v}
    return {**os.environ, **given} if given else os.environ


def data_source(
    config: SessionConfig,
    store: ParquetStore,
    time_manager: TimeManager,
    env: Mapping[str, str] | None = None,
) -> LocalDataSource:
    """What a session reads: the store, filled first from the provider's history API when
    ``data_api`` names one (the store as it is for ``local``)."""
    provider = registry.provider(config.api_config.data_api, env)
    history = provider.history_api(store, time_manager, config)
    adjustment = config.session_data_config.price_adjustment
    if history is None:
        return LocalDataSource(store, time_manager, adjustment)
    return ProviderBackedSource(store, time_manager, history, adjustment)


def run_backtest(
    config: SessionConfig,
    store: ParquetStore,
    strategy: Strategy,
    out_dir: Path | None = None,
    on_session_end: Callable[[date], None] | None = None,
    runtime: str | None = None,
    env: Mapping[str, str | None] | None = None,
    strict: bool | None = None,
    resume: bool = False,
) -> RunResult:
    """Run a backtest and return (and write, with ``out_dir``) its results.

    ``runtime`` is ``"sim"`` or ``"threads"`` for a data-driven run (SimPy by default);
    ``speed_multiplier > 0`` always runs on the wall-clock threads. ``env`` overrides
    environment variables the provider reads (its endpoints, say). When the run fails (a
    strategy error, a component's exception), what it produced up to the failure is still
    written, with ``summary.status`` saying it failed and why, and the error is re-raised.

    With ``resume``, the run continues from the checkpoint its earlier, killed or
    interrupted, run left in ``out_dir`` (``simcore.runtime.checkpoint``): its outputs are
    the same as an uninterrupted run's.

    A run in which no symbol streamed a bar is a ``NoBarsError`` (the results are written
    first, to look at); with ``strict`` (default: ``backtest_config.strict``) so is a run
    with any warning (``StrictWarnings``).
    """
    if config.mode != "backtest":
        raise UserError(f"{config.session_name!r} is a live session: run it with `simcore live`")
    if out_dir is not None:
        prepare_out_dir(out_dir)
    system = SystemManager(config)
    source = data_source(config, store, system.get_time_manager(), provider_env(env))
    result = run_session(
        system, store, strategy, source, out_dir, on_session_end, runtime, resume=resume
    )
    summary = result.summary
    where = f" (the results are in {out_dir})" if out_dir is not None else ""
    if summary["trading_days"] and not summary["bars_streamed"]:
        first, last = summary["trading_days"][0], summary["trading_days"][-1]
        raise NoBarsError(
            f"{config.session_name!r} streamed no bar: no symbol had a bar in the regular "
            f"session {'of ' + first if first == last else f'from {first} to {last}'}{where}. "
            "Check the symbols and the dates against `simcore data info`; a file of "
            "exchange-local times imported with --tz UTC lands outside regular hours."
            + "".join(f"\n  - {w}" for w in summary["warnings"])
        )
    strict = config.backtest_config.strict if strict is None else strict
    if strict and summary["warnings"]:
        raise StrictWarnings(
            f"strict: {config.session_name!r} ended with {len(summary['warnings'])} "
            f"warning(s){where}:" + "".join(f"\n  - {w}" for w in summary["warnings"])
        )
    return result


class NoBarsError(UserError):
    """A backtest in which no symbol streamed a single bar."""


class StrictWarnings(UserError):
    """A strict run (``--strict``, ``backtest_config.strict``) that ended with warnings."""
