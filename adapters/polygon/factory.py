"""Polygon as a provider: aggregates history and the stocks websocket through its client,
``massive``; it does not trade (a session on Polygon's data trades with the paper broker or
Alpaca). ``simcore emulate polygon`` serves the store in Polygon's wire formats."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from adapters.polygon.keys import KEY_ENV, key_from_env
from adapters.provider import BrokerLink, EmulatorOptions, LiveLink, require
from simcore.config import SessionConfig
from simcore.errors import NotAvailableError
from simcore.store.parquet import ParquetStore
from simcore.time import LiveClock, TimeManager

URL_ENV = "SIMCORE_POLYGON_URL"  # Polygon's REST base, e.g. the emulator's
STREAM_URL_ENV = "SIMCORE_POLYGON_STREAM_URL"  # e.g. ws://127.0.0.1:PORT/stocks


class PolygonProvider:
    name = "polygon"
    title = "Polygon"
    replays_store = False
    hosts_trading: tuple[str, ...] = ()
    environment: ClassVar[Mapping[str, str]] = {
        KEY_ENV: "API key (the name the massive client reads; never printed)",
        URL_ENV: "REST base (default: Polygon's)",
        STREAM_URL_ENV: "stocks websocket (default: Polygon's)",
    }

    def __init__(self, env: Mapping[str, str]):
        self.env = env
        self.url = env.get(URL_ENV) or None
        self.stream_url = env.get(STREAM_URL_ENV) or None

    def history_api(self, store: ParquetStore, time_manager: TimeManager, config: SessionConfig):
        require("massive", "polygon", self.title)
        from adapters.polygon.history_api import PolygonHistory

        return PolygonHistory(store, time_manager, key_from_env(self.env), url=self.url)

    def live(
        self,
        store: ParquetStore,
        time_manager: TimeManager,
        clock: LiveClock,
        config: SessionConfig,
    ) -> LiveLink:
        require("massive", "polygon", self.title)
        from adapters.polygon.feed import PolygonFeed

        history = self.history_api(store, time_manager, config)
        feed = PolygonFeed(key_from_env(self.env), url=self.stream_url, clock_speed=clock.speed)
        return LiveLink.of_history(history, feed)

    def broker(self, time_manager: TimeManager, *, live_money: bool) -> BrokerLink:
        raise NotAvailableError(
            "Polygon is market data only: trade with trade_api 'paper' or 'alpaca'"
        )

    def emulator(self, store: ParquetStore, clock: LiveClock, options: EmulatorOptions):
        from adapters.polygon.emulator.server import PolygonEmulator

        return PolygonEmulator(
            store, clock, key=self.env.get(KEY_ENV) or None, rest_port=options.rest_port
        )

    def emulator_guide(self, emulator) -> tuple[list[str], dict[str, str]]:
        key = "the one in the environment" if self.env.get(KEY_ENV) else "any (none set)"
        lines = [
            f"REST   {emulator.rest_url}",
            f"stream {emulator.stream_url}",
            f"key: {key} ({KEY_ENV})",
        ]
        return lines, {URL_ENV: emulator.rest_url, STREAM_URL_ENV: emulator.stream_url}
