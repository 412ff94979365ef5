"""Schwab as a provider: price history, the streamer and trading through schwab-py's own
clients. ``simcore emulate schwab`` serves the store in Schwab's wire formats and writes a
token file its emulator accepts.

Schwab has no paper account: a session trading through it needs ``--live-money``, unless
``SIMCORE_SCHWAB_URL`` carries the client to the emulator.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import ClassVar

from adapters.provider import BrokerLink, EmulatorOptions, LiveLink, require
from adapters.schwab.credentials import KEY_ENV, SECRET_ENV, TOKEN_ENV, credentials_from_env
from simcore.config import SessionConfig
from simcore.errors import UserError
from simcore.store.parquet import ParquetStore
from simcore.time import LiveClock, TimeManager

URL_ENV = "SIMCORE_SCHWAB_URL"  # where schwab-py's fixed host is carried (the emulator)


class SchwabProvider:
    name = "schwab"
    title = "Schwab"
    replays_store = False
    hosts_trading: tuple[str, ...] = ()
    environment: ClassVar[Mapping[str, str]] = {
        KEY_ENV: "your app's key (developer.schwab.com; never printed)",
        SECRET_ENV: "your app's secret (never printed)",
        TOKEN_ENV: "schwab-py's token file (its login flow writes it)",
        URL_ENV: "carries schwab-py's requests to another host: the emulator (default: Schwab)",
    }

    def __init__(self, env: Mapping[str, str]):
        self.env = env
        self.url = env.get(URL_ENV) or None
        self.token_file: Path | None = None  # written for a running emulator

    def _client(self):
        require("schwab", "schwab", self.title)
        from adapters.schwab.client import schwab_client

        return schwab_client(credentials_from_env(self.env), self.url)

    def history_api(self, store: ParquetStore, time_manager: TimeManager, config: SessionConfig):
        require("schwab", "schwab", self.title)
        from adapters.schwab.history_api import SchwabHistory

        return SchwabHistory(store, time_manager, credentials_from_env(self.env), url=self.url)

    def live(
        self,
        store: ParquetStore,
        time_manager: TimeManager,
        clock: LiveClock,
        config: SessionConfig,
    ) -> LiveLink:
        require("schwab", "schwab", self.title)
        from adapters.schwab.feed import SchwabFeed

        history = self.history_api(store, time_manager, config)
        feed = SchwabFeed(self._client(), clock_speed=clock.speed)
        return LiveLink.of_history(history, feed)

    def broker(self, time_manager: TimeManager, *, live_money: bool) -> BrokerLink:
        require("schwab", "schwab", self.title)
        from adapters.schwab.broker import SchwabBroker

        if not live_money and not self.url:
            raise UserError(
                "trade_api 'schwab' sends orders to your Schwab account with real money (Schwab "
                "has no paper account): pass --live-money to confirm, or rehearse against "
                f"`simcore emulate schwab` ({URL_ENV})"
            )
        factory = partial(SchwabBroker, client=self._client(), now_ns=time_manager.current_time_ns)
        if self.url:
            return BrokerLink(factory, f"orders go to the Schwab emulator at {self.url}", False)
        return BrokerLink(
            factory, "LIVE TRADING: orders go to your Schwab account with real money", True
        )

    def emulator(self, store: ParquetStore, clock: LiveClock, options: EmulatorOptions):
        from adapters.schwab.emulator.server import SchwabEmulator

        emulator = SchwabEmulator(store, clock, rest_port=options.rest_port, cash=options.cash)
        if options.token_file is not None:  # its tokens exist from the start
            self.token_file = emulator.token_file(options.token_file)
        return emulator

    def emulator_guide(self, emulator) -> tuple[list[str], dict[str, str]]:
        lines = [f"REST   {emulator.rest_url}", f"stream {emulator.stream.url}"]
        env = {URL_ENV: emulator.rest_url, KEY_ENV: "any", SECRET_ENV: "any"}
        if self.token_file is not None:
            lines.append(f"token file for it: {self.token_file}")
            env[TOKEN_ENV] = str(self.token_file)
        return lines, env
