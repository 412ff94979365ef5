"""Which data source a session reads, from its ``api_config.data_api``.

``local``: the Parquet store as it is. ``alpaca``: the same store, first filled from Alpaca's
REST API with what the run needs (keys from the environment; the endpoints can point at the
loopback emulator). ``polygon`` and ``schwab`` are valid names not built yet: a clear error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from adapters.local.source import LocalDataSource
from adapters.local.store import ParquetStore
from adapters.provider_source import ProviderBackedSource
from simcore.config import SessionConfig
from simcore.errors import NotAvailableError
from simcore.time import TimeManager

DATA_URL_ENV = "SIMCORE_ALPACA_DATA_URL"  # REST base, e.g. the emulator's http://127.0.0.1:PORT
STREAM_URL_ENV = "SIMCORE_ALPACA_STREAM_URL"  # websocket, e.g. ws://127.0.0.1:PORT/v2/iex
TRADING_URL_ENV = "SIMCORE_ALPACA_TRADING_URL"  # orders, positions, account
TRADING_STREAM_URL_ENV = "SIMCORE_ALPACA_TRADING_STREAM_URL"  # trade updates, e.g. ws://.../stream
POLYGON_URL_ENV = "SIMCORE_POLYGON_URL"  # Polygon's REST base, e.g. the emulator's
POLYGON_STREAM_URL_ENV = "SIMCORE_POLYGON_STREAM_URL"  # e.g. ws://127.0.0.1:PORT/stocks
SCHWAB_URL_ENV = "SIMCORE_SCHWAB_URL"  # where schwab-py's fixed host is carried (the emulator)


@dataclass(frozen=True)
class AlpacaEndpoints:
    """Where alpaca-py's clients connect: Alpaca itself (None) or an emulator."""

    data_url: str | None = None
    stream_url: str | None = None
    trading_url: str | None = None
    trading_stream_url: str | None = None

    @classmethod
    def resolve(
        cls,
        data_url: str | None = None,
        stream_url: str | None = None,
        trading_url: str | None = None,
        trading_stream_url: str | None = None,
    ):
        return cls(
            data_url or os.environ.get(DATA_URL_ENV) or None,
            stream_url or os.environ.get(STREAM_URL_ENV) or None,
            trading_url or os.environ.get(TRADING_URL_ENV) or None,
            trading_stream_url or os.environ.get(TRADING_STREAM_URL_ENV) or None,
        )

    @classmethod
    def of_emulator(cls, emulator) -> AlpacaEndpoints:
        return cls(
            emulator.rest_url, emulator.stream_url, emulator.rest_url, emulator.trading_stream_url
        )


def data_source(
    config: SessionConfig,
    store: ParquetStore,
    tm: TimeManager,
    endpoints: AlpacaEndpoints | None = None,
):
    api = config.api_config.data_api
    adjustment = config.session_data_config.price_adjustment
    if api == "local":
        return LocalDataSource(store, tm, adjustment)
    if api == "alpaca":
        from adapters.alpaca.history import AlpacaHistory
        from adapters.alpaca.keys import keys_from_env

        endpoints = endpoints or AlpacaEndpoints.resolve()
        history = AlpacaHistory(
            store, tm, keys_from_env(), url=endpoints.data_url, feed=config.api_config.feed
        )
        return ProviderBackedSource(store, tm, history, adjustment)
    if api == "polygon":
        from adapters.polygon.history import PolygonHistory
        from adapters.polygon.keys import key_from_env

        url = os.environ.get(POLYGON_URL_ENV) or None
        return ProviderBackedSource(
            store, tm, PolygonHistory(store, tm, key_from_env(), url=url), adjustment
        )
    if api == "schwab":
        from adapters.schwab.credentials import credentials_from_env
        from adapters.schwab.history import SchwabHistory

        url = os.environ.get(SCHWAB_URL_ENV) or None
        history = SchwabHistory(store, tm, credentials_from_env(), url=url)
        return ProviderBackedSource(store, tm, history, adjustment)
    raise NotAvailableError(
        f"api_config.data_api {api!r} is valid but not built into this version; "
        "use 'local', 'alpaca', 'polygon' or 'schwab'"
    )
