"""simcore: a deterministic session engine for intraday trading.

The engine is laid out after the seed design: a TimeManager owns every clock and calendar
question (``simcore.time``), a session config says what to run (``simcore.config``), and the
outside world (market-data stores, brokers) lives in the top-level ``adapters`` package.
"""

__version__ = "0.1.0"

__all__ = ["Results", "config_from_dict", "load_config", "run"]


def __getattr__(name: str):
    """``simcore.run``, ``simcore.load_config``, ... (``simcore.app.api``), imported on first use so
    that ``import simcore`` stays light for the CLI."""
    if name in __all__:
        from simcore.app import api

        return getattr(api, name)
    raise AttributeError(f"module 'simcore' has no attribute {name!r}")
