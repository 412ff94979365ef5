"""The application layer: where a config, a strategy and the providers come together.

``cli/`` — the ``simcore`` command, one module per command group; ``api.py`` — the Python API
(``simcore.run``, ``Results``); ``backtest.py`` — one backtest from a config (its data source
through the provider registry); ``live.py`` — one live session from a config (the providers'
clients, the broker); ``fetch_plan.py`` — what a backtest will read, for ``data fetch``.

Imports: every layer of simcore, and ``adapters.registry``: this is the only package that
builds providers.
"""
