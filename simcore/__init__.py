"""simcore: a deterministic session engine for intraday trading.

The design (``docs/design.md``) in packages by role, each importing only those below it
(checked by ``lint-imports``; ``docs/concepts/architecture.md`` draws them):

    app        the command line and the Python API; the only package that builds providers
    sweep      parameter sweeps on Ray
    live       live sessions: the intake of a provider's feed, the live runtime
    runtime    SimPy and wall-clock runtimes, the SystemManager, a run to its results
    results    recording, tables, statistics, the manifest, the report
    strategies the shipped strategies, and loading a user's
    engine     the four components and session_data
    store      the Parquet store, importers, the data sources on it
    providers  the contract with market-data providers (``adapters/`` implements it)
    trading    orders, risk checks, the paper broker, the portfolio
    config     the session config;  time: the TimeManager;  errors

``simcore.run``, ``simcore.load_config`` and the strategy API (``simcore.Strategy``, ...) are
imported on first use, so that ``import simcore`` stays light for the command line.
"""

__version__ = "0.1.0"

# name -> the module that defines it
_PUBLIC = {
    "run": "simcore.app.api",
    "load_config": "simcore.app.api",
    "config_from_dict": "simcore.app.api",
    "Results": "simcore.app.api",
    "Strategy": "simcore.engine.analysis",
    "StrategyContext": "simcore.engine.analysis",
    "Bar": "simcore.engine.bars",
    "IndicatorRequest": "simcore.engine.indicators",
    "HistoricalNeed": "simcore.engine.requirements",
    "Parameter": "simcore.engine.parameters",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    """``simcore.run``, ``simcore.Strategy``, ... imported on first use, so that ``import
    simcore`` stays light for the command line."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'simcore' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
