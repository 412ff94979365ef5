"""Alpaca as a provider: market data (REST history, the stock stream) and trading, through
alpaca-py; ``simcore emulate alpaca`` serves the store in Alpaca's wire formats.

Settings come from the environment it is given: the keys (``APCA_API_KEY_ID``,
``APCA_API_SECRET_KEY``, Alpaca's own names) and four optional endpoints that point alpaca-py's
clients elsewhere — at the loopback emulator in a rehearsal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

from adapters.alpaca.keys import KEY_ENV, SECRET_ENV, AlpacaKeys, keys_from_env
from adapters.provider import BrokerLink, EmulatorOptions, LiveLink
from simcore.config import SessionConfig
from simcore.errors import UserError
from simcore.store.parquet import ParquetStore
from simcore.time import LiveClock, TimeManager

DATA_URL_ENV = "SIMCORE_ALPACA_DATA_URL"  # REST base, e.g. the emulator's http://127.0.0.1:PORT
STREAM_URL_ENV = "SIMCORE_ALPACA_STREAM_URL"  # websocket, e.g. ws://127.0.0.1:PORT/v2/iex
TRADING_URL_ENV = "SIMCORE_ALPACA_TRADING_URL"  # orders, positions, account
TRADING_STREAM_URL_ENV = "SIMCORE_ALPACA_TRADING_STREAM_URL"  # trade updates, ws://.../stream


@dataclass(frozen=True)
class AlpacaEndpoints:
    """Where alpaca-py's clients connect: Alpaca itself (None) or an emulator."""

    data_url: str | None = None
    stream_url: str | None = None
    trading_url: str | None = None
    trading_stream_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AlpacaEndpoints:
        return cls(
            env.get(DATA_URL_ENV) or None,
            env.get(STREAM_URL_ENV) or None,
            env.get(TRADING_URL_ENV) or None,
            env.get(TRADING_STREAM_URL_ENV) or None,
        )

    @classmethod
    def of_emulator(cls, emulator) -> AlpacaEndpoints:
        return cls(
            emulator.rest_url, emulator.stream_url, emulator.rest_url, emulator.trading_stream_url
        )


class AlpacaProvider:
    name = "alpaca"
    title = "Alpaca"
    replays_store = False
    hosts_trading: tuple[str, ...] = ()
    environment: ClassVar[Mapping[str, str]] = {
        KEY_ENV: "API key id (market data and trading; never printed)",
        SECRET_ENV: "API secret key (never printed)",
        DATA_URL_ENV: "market-data REST base (default: Alpaca's)",
        STREAM_URL_ENV: "market-data websocket (default: Alpaca's, for api_config.feed)",
        TRADING_URL_ENV: "trading REST base (default: the paper API; the live one with --live-money)",
        TRADING_STREAM_URL_ENV: "trade-updates websocket (default: Alpaca's)",
    }

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        keys: AlpacaKeys | None = None,
        endpoints: AlpacaEndpoints | None = None,
        emulated: bool = False,
    ):
        self.env = env
        self._keys = keys
        self.endpoints = endpoints or AlpacaEndpoints.from_env(env)
        self.emulated = emulated  # an in-process emulator: no account of the user's is involved

    @classmethod
    def of_emulator(cls, emulator, keys: AlpacaKeys) -> AlpacaProvider:
        return cls({}, keys=keys, endpoints=AlpacaEndpoints.of_emulator(emulator), emulated=True)

    def keys(self) -> AlpacaKeys:
        return self._keys or keys_from_env(self.env)

    def history_api(self, store: ParquetStore, time_manager: TimeManager, config: SessionConfig):
        from adapters.alpaca.history_api import AlpacaHistory

        return AlpacaHistory(
            store,
            time_manager,
            self.keys(),
            url=self.endpoints.data_url,
            feed=config.api_config.feed,
        )

    def live(
        self,
        store: ParquetStore,
        time_manager: TimeManager,
        clock: LiveClock,
        config: SessionConfig,
    ) -> LiveLink:
        from adapters.alpaca.feed import AlpacaFeed

        history = self.history_api(store, time_manager, config)
        feed = AlpacaFeed(
            self.keys(),
            url=self.endpoints.stream_url,
            feed=config.api_config.feed,
            clock_speed=clock.speed,
        )
        return LiveLink.of_history(history, feed)

    def broker(self, time_manager: TimeManager, *, live_money: bool) -> BrokerLink:
        from adapters.alpaca.broker import AlpacaBroker, real_money_warning

        if self.emulated and live_money:
            raise UserError("--live-money: the emulator's account holds no real money")
        factory = partial(
            AlpacaBroker,
            keys=self.keys(),
            url=self.endpoints.trading_url,
            stream_url=self.endpoints.trading_stream_url,
            paper=not live_money,
            now_ns=time_manager.current_time_ns,
        )
        url = self.endpoints.trading_url
        if self.emulated:
            return BrokerLink(factory, f"orders go to the emulator's paper account at {url}", False)
        if url:  # the trading API was pointed elsewhere: say where orders really go
            kind = "a live account, with real money" if live_money else "a paper account"
            return BrokerLink(
                factory, f"orders go to {url} ({TRADING_URL_ENV}), as {kind}", live_money
            )
        return BrokerLink(factory, real_money_warning(not live_money), live_money)

    def emulator(self, store: ParquetStore, clock: LiveClock, options: EmulatorOptions):
        from adapters.alpaca.emulator.server import AlpacaEmulator

        return AlpacaEmulator(
            store,
            clock,
            key=self.env.get(KEY_ENV) or None,
            secret=self.env.get(SECRET_ENV) or None,
            rest_port=options.rest_port,
            stream_port=options.stream_port,
            cash=options.cash,
        )

    def emulator_guide(self, emulator) -> tuple[list[str], dict[str, str]]:
        keys = "those in the environment" if self.env.get(KEY_ENV) else "any (none set)"
        lines = [
            f"REST   {emulator.rest_url}",
            f"stream {emulator.stream_url}",
            f"trade updates {emulator.trading_stream_url} (orders on the REST port)",
            f"keys: {keys} ({KEY_ENV}, {SECRET_ENV})",
        ]
        env = {
            DATA_URL_ENV: emulator.rest_url,
            STREAM_URL_ENV: emulator.stream_url,
            TRADING_URL_ENV: emulator.rest_url,
            TRADING_STREAM_URL_ENV: emulator.trading_stream_url,
        }
        return lines, env
