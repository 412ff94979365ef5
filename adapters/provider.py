"""What every provider's factory gives the application layer (``adapters/<name>/factory.py``).

A factory is built with the ``env`` mapping it reads its settings from (credentials,
endpoints: ``os.environ`` unless a caller overrides some) and lists those variables in
``environment``, so that the docs and the messages can name them. It builds, when asked:

* ``history_api`` — for a backtest: the history API the run's reads fill the store from (None:
  the store as it is);
* ``live`` — for a live session: the history API, the live feed, the gap source and the
  credentials check, as one ``LiveLink``;
* ``broker`` — when ``trade_api`` names the provider: the broker's factory and where orders go;
* ``emulator`` and ``emulator_guide`` — ``simcore emulate <name>``: the loopback server that
  speaks the provider's wire formats, and what a session exports to use it.

Heavy client libraries are imported inside these methods, so that looking a provider up stays
cheap. Imports: simcore's contracts and lower layers (store, time, config, trading's broker).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from simcore.config import SessionConfig
from simcore.errors import NotAvailableError
from simcore.providers import GapSource, HistoryApi, LiveFeed
from simcore.store.fetching import HistoryGapSource, StoreFillingHistory
from simcore.store.parquet import ParquetStore
from simcore.time import LiveClock, TimeManager
from simcore.trading.broker import AccountBroker


@dataclass
class LiveLink:
    """What a live session takes from its data provider."""

    history: HistoryApi | None  # trailing history before each session; None: the store as it is
    feed: LiveFeed
    gap_source: GapSource | None
    check_credentials: Callable[
        [str], None
    ]  # one small request for a symbol: a refusal is a message
    # trade APIs this link serves itself (a replay's emulated account), by name
    hosts: dict[str, Provider] = field(default_factory=dict)
    close: Callable[[], None] = lambda: None  # what the link started (an emulator)

    @classmethod
    def of_history(cls, history: StoreFillingHistory, feed: LiveFeed) -> LiveLink:
        """A provider whose history API fills the store: gaps are filled and credentials
        checked through that same API."""
        return cls(history, feed, HistoryGapSource(history), history.check_keys)


@dataclass(frozen=True)
class BrokerLink:
    """A broker's factory for the Trader, and where its orders go (said before anything runs)."""

    factory: Callable[..., AccountBroker]
    destination: str
    real_money: bool

    @property
    def resumable(self) -> bool:
        """Whether its broker journals its dealings (``tape_errors``): only then can a killed
        session resume without sending an order twice."""
        broker = getattr(self.factory, "func", self.factory)  # a partial of the broker's class
        return getattr(broker, "tape_errors", None) is not None


@dataclass(frozen=True)
class EmulatorOptions:
    rest_port: int = 0  # 0: any free port
    stream_port: int = 0
    cash: float = 100_000.0  # the emulated account's starting cash
    token_file: Path | None = None  # where to write credentials the emulator accepts


class Emulator(Protocol):
    """A loopback server speaking a provider's wire formats on 127.0.0.1."""

    def start(self) -> Emulator: ...
    def stop(self) -> None: ...


class Provider(Protocol):
    """What every ``adapters/<name>/factory.py`` gives."""

    name: str  # the word in api_config
    title: str  # the provider in messages
    environment: Mapping[str, str]  # every variable it reads -> what it holds
    replays_store: bool  # its live sessions replay the store: no market, no real money
    hosts_trading: tuple[str, ...]  # trade APIs its live link serves itself (LiveLink.hosts)

    def history_api(
        self, store: ParquetStore, time_manager: TimeManager, config: SessionConfig
    ) -> HistoryApi | None: ...

    def live(
        self,
        store: ParquetStore,
        time_manager: TimeManager,
        clock: LiveClock,
        config: SessionConfig,
    ) -> LiveLink: ...

    def broker(self, time_manager: TimeManager, *, live_money: bool) -> BrokerLink: ...

    def emulator(
        self, store: ParquetStore, clock: LiveClock, options: EmulatorOptions
    ) -> Emulator: ...

    def emulator_guide(self, emulator: Emulator) -> tuple[list[str], dict[str, str]]:
        """What to tell a user of a running emulator: lines about it, and the environment a
        session in another terminal exports to use it."""
        ...


def require(module: str, extra: str, title: str) -> None:
    """A provider's client library is an extra of simcore's install: without it, a message
    naming the extra, before anything starts."""
    if importlib.util.find_spec(module) is None:
        raise NotAvailableError(
            f"{title} needs its client library ({module}), which is not installed: "
            f"pip install 'simcore[{extra}]' (or 'simcore[all]')"
        )
