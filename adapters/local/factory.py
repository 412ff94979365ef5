"""The local store as a provider (``data_api: "local"``).

Backtests read the store as it is (no history API). A live session replays the store at the
session clock: an Alpaca emulator is started in this process, on a one-time key, and the
session's feed, gap source and (with ``trade_api: "alpaca"``) broker are alpaca-py's clients
pointed at it; its trailing history is read from the store itself.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import replace
from typing import ClassVar

from adapters.alpaca.factory import AlpacaProvider
from adapters.alpaca.keys import AlpacaKeys
from adapters.provider import BrokerLink, EmulatorOptions, LiveLink
from simcore.config import SessionConfig
from simcore.errors import NotAvailableError
from simcore.store.parquet import ParquetStore
from simcore.time import LiveClock, TimeManager


class LocalProvider:
    name = "local"
    title = "the local store"
    environment: ClassVar[Mapping[str, str]] = {}
    replays_store = True
    hosts_trading = ("alpaca",)  # with trade_api "alpaca", the replay's emulated account

    def __init__(self, env: Mapping[str, str]):
        self.env = env

    def history_api(self, store: ParquetStore, time_manager: TimeManager, config: SessionConfig):
        return None  # the store holds what a run reads

    def live(
        self,
        store: ParquetStore,
        time_manager: TimeManager,
        clock: LiveClock,
        config: SessionConfig,
    ) -> LiveLink:
        from adapters.alpaca.emulator.server import AlpacaEmulator

        key = secrets.token_hex(8)
        emulator = AlpacaEmulator(store, clock, key=key, secret=key).start()
        try:
            alpaca = AlpacaProvider.of_emulator(emulator, AlpacaKeys(key, key))
            link = alpaca.live(store, time_manager, clock, config)
        except BaseException:
            emulator.stop()
            raise
        return replace(link, history=None, hosts={"alpaca": alpaca}, close=emulator.stop)

    def broker(self, time_manager: TimeManager, *, live_money: bool) -> BrokerLink:
        raise NotAvailableError("the local store does not trade: trade_api 'paper' or 'alpaca'")

    def emulator(self, store: ParquetStore, clock: LiveClock, options: EmulatorOptions):
        raise NotAvailableError(
            "the local store needs no emulator: `simcore live` replays a data_api 'local' config "
            "through an Alpaca emulator of its own (or run `simcore emulate alpaca`)"
        )

    def emulator_guide(self, emulator) -> tuple[list[str], dict[str, str]]:
        return [], {}
