"""Each provider's emulator and adapters, behind one shape, for the conformance suite.

A ``Provider`` serves the sample store through its loopback emulator (``serve``) and builds the
adapters the engine uses against it: the history API, the live feed, the gap source and, for a
provider that trades, the broker. Faults are asked for in the provider's neutral terms
(``Outage``); each provider maps them to its emulator's. Adding a provider to the suite is one
class here.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from adapters.alpaca.broker import AlpacaBroker
from adapters.alpaca.emulator.server import AlpacaEmulator, Faults
from adapters.alpaca.emulator.trading import TradingFaults
from adapters.alpaca.feed import AlpacaFeed
from adapters.alpaca.history_api import AlpacaHistory
from adapters.alpaca.keys import AlpacaKeys
from adapters.polygon.emulator.server import PolygonEmulator, PolygonFaults
from adapters.polygon.feed import PolygonFeed
from adapters.polygon.history_api import PolygonHistory
from adapters.polygon.keys import PolygonKey
from adapters.schwab.broker import SchwabBroker
from adapters.schwab.client import schwab_client
from adapters.schwab.credentials import SchwabCredentials
from adapters.schwab.emulator.server import SchwabEmulator, SchwabFaults
from adapters.schwab.feed import SchwabFeed
from adapters.schwab.history_api import SchwabHistory
from simcore.store.fetching import HistoryGapSource
from simcore.store.parquet import ParquetStore
from simcore.store.provider_source import ProviderBackedSource
from simcore.store.source import LocalDataSource
from simcore.time import LiveClock, TimeManager

KEYS = AlpacaKeys("test-key-id", "test-secret-0123456789")


@dataclass
class Outage:
    """Faults every emulator can inject, in neutral terms (times: session UTC ns)."""

    drop_streams_at: list[int] = field(default_factory=list)  # every live connection closed
    rate_limited: int = 0  # the next N history requests answered "too many requests"
    server_errors: int = 0  # the next N history requests answered 5xx
    page_limit: int | None = None  # history pages of at most this many bars
    missing: set[tuple[str, int]] = field(default_factory=set)  # bars never streamed
    down: list[tuple[int, int]] = field(default_factory=list)  # [from, until): streams refused
    lost_placements: int = 0  # the next N orders are taken, but the answer is a 500


@dataclass
class Adapters:
    """What the engine is given for one session: the provider's history API (None for the
    local store, which is its own history), the session's data source and the gap source."""

    history: object | None
    source: object
    gap_source: object


class Served(Protocol):
    """A running emulator and the adapters built against it."""

    def adapters(self, store: ParquetStore, tm: TimeManager) -> Adapters: ...
    def history(self, store: ParquetStore, tm: TimeManager, *, bad_credentials: bool = False): ...
    def feed(self, speed: float): ...
    def broker_factory(self, tm: TimeManager): ...
    def drop_trading_streams(self) -> None: ...
    @property
    def stream_connections(self) -> int: ...
    @property
    def account_positions(self) -> dict[str, float]: ...


class Provider(Protocol):
    name: str
    trades: bool  # has a broker of its own (else the paper broker trades)
    credentials: bool  # has credentials that can be wrong
    live: str  # "" when it streams; else why not (the live checks are skipped with it)

    def serve(
        self, store: ParquetStore, clock: LiveClock, outage: Outage, folder: Path
    ) -> contextlib.AbstractContextManager[Served]: ...


class EmulatorServed:
    """What every provider's emulator serves alike: a store-filling history API behind the
    engine's source and gap filler, the stream's connection count, and (for those that
    trade) the emulated account's positions and orders."""

    emulator: AlpacaEmulator | PolygonEmulator | SchwabEmulator

    def history(self, store, tm, *, bad_credentials=False):
        raise NotImplementedError

    def adapters(self, store, tm) -> Adapters:
        history = self.history(store, tm)
        return Adapters(
            history, ProviderBackedSource(store, tm, history), HistoryGapSource(history)
        )

    @property
    def stream_connections(self) -> int:
        return self.emulator.connections_opened

    @property
    def account_positions(self) -> dict[str, float]:
        return self.emulator.desk.positions()

    @property
    def account_orders(self) -> int:
        return len(self.emulator.desk.book.orders)


class AlpacaServed(EmulatorServed):
    def __init__(self, emulator: AlpacaEmulator):
        self.emulator = emulator

    def history(self, store, tm, *, bad_credentials=False):
        keys = AlpacaKeys(KEYS.key, "not-the-secret") if bad_credentials else KEYS
        return AlpacaHistory(store, tm, keys, url=self.emulator.rest_url, sleep=lambda s: None)

    def feed(self, speed):
        return AlpacaFeed(KEYS, url=self.emulator.stream_url, clock_speed=speed)

    def broker_factory(self, tm):
        emulator = self.emulator

        def broker(config, book, portfolio) -> AlpacaBroker:
            return AlpacaBroker(
                config, book, portfolio, keys=KEYS, url=emulator.rest_url,
                stream_url=emulator.trading_stream_url, now_ns=tm.current_time_ns,
                reconcile_seconds=0.5, sleep=lambda s: None,
            )  # fmt: skip

        return broker

    def drop_trading_streams(self) -> None:
        self.emulator.drop_trading_streams()


class AlpacaProvider:
    name, trades, credentials, live = "alpaca", True, True, ""

    @contextlib.contextmanager
    def serve(self, store, clock, outage, folder):
        faults = Faults(
            drop_at=list(outage.drop_streams_at),
            rest_429=outage.rate_limited,
            retry_after_seconds=0,
            rest_500=outage.server_errors,
            page_limit=outage.page_limit,
            missing=set(outage.missing),
            down=list(outage.down),
        )
        trading = TradingFaults(submit_500=outage.lost_placements)
        with AlpacaEmulator(
            store, clock, key=KEYS.key, secret=KEYS.secret, faults=faults, trading=trading
        ) as emu:
            yield AlpacaServed(emu)


class LocalServed(AlpacaServed):
    """The local store: history is the store itself; live is its replay at the clock through
    the loopback Alpaca emulator (what `simcore live` does for ``data_api: "local"``), with gap
    fills written back into the same store."""

    def adapters(self, store, tm) -> Adapters:
        replayed = self.emulator.store  # the session reads the store the emulator replays
        gaps = HistoryGapSource(AlpacaServed.history(self, replayed, tm))
        return Adapters(None, LocalDataSource(replayed, tm), gaps)

    def broker_factory(self, tm):
        return None


class LocalProvider(AlpacaProvider):
    """The local store, replayed through the Alpaca emulator: only its history differs."""

    name, trades, credentials, live = "local", False, False, ""

    @contextlib.contextmanager
    def serve(self, store, clock, outage, folder):
        copy = folder / "local-store"  # gap fills write into the store: never the shared one
        shutil.copytree(store.root, copy)
        with super().serve(ParquetStore(copy), clock, outage, folder) as served:
            yield LocalServed(served.emulator)


class PolygonServed(EmulatorServed):
    def __init__(self, emulator: PolygonEmulator):
        self.emulator = emulator

    def history(self, store, tm, *, bad_credentials=False):
        key = PolygonKey("not-the-secret" if bad_credentials else KEYS.secret)
        return PolygonHistory(store, tm, key, url=self.emulator.rest_url, sleep=lambda s: None)

    def feed(self, speed):
        key = PolygonKey(KEYS.secret)
        return PolygonFeed(key, url=self.emulator.stream_url, clock_speed=speed)

    def broker_factory(self, tm):
        return None


class PolygonProvider:
    name, trades, credentials, live = "polygon", False, True, ""

    @contextlib.contextmanager
    def serve(self, store, clock, outage, folder):
        faults = PolygonFaults(
            page_limit=outage.page_limit,
            rest_429=outage.rate_limited,
            rest_500=outage.server_errors,
            drop_at=list(outage.drop_streams_at),
            missing=set(outage.missing),
            down=list(outage.down),
        )
        with PolygonEmulator(store, clock, key=KEYS.secret, faults=faults) as emulator:
            yield PolygonServed(emulator)


class SchwabServed(EmulatorServed):
    """schwab-py's client with its fixed host carried to the emulator by an httpx transport."""

    def __init__(self, emulator: SchwabEmulator, folder: Path):
        self.emulator = emulator
        self.token = emulator.token_file(folder / "schwab-token.json")

    def history(self, store, tm, *, bad_credentials=False):
        token = self.token
        if bad_credentials:  # a token the emulator never issued
            wrong = json.loads(token.read_text())
            wrong["token"]["access_token"] = "not-the-secret"
            token = token.with_name("wrong-token.json")
            token.write_text(json.dumps(wrong))
        credentials = SchwabCredentials("app-key", "app-secret", token)
        url = self.emulator.rest_url
        return SchwabHistory(store, tm, credentials, url=url, sleep=lambda s: None)

    def feed(self, speed):
        credentials = SchwabCredentials("app-key", "app-secret", self.token)
        return SchwabFeed(schwab_client(credentials, self.emulator.rest_url), clock_speed=speed)

    def broker_factory(self, tm):
        client = schwab_client(
            SchwabCredentials("app-key", "app-secret", self.token), self.emulator.rest_url
        )

        def broker(config, book, portfolio) -> SchwabBroker:
            return SchwabBroker(
                config, book, portfolio, client=client, poll_seconds=0.2,
                sleep=lambda s: None, now_ns=tm.current_time_ns,
            )  # fmt: skip

        return broker

    def drop_trading_streams(self) -> None:
        """Schwab's orders are read back by polling: there is no order stream to drop."""


class SchwabProvider:
    name, trades, credentials, live = "schwab", True, True, ""

    @contextlib.contextmanager
    def serve(self, store, clock, outage, folder):
        faults = SchwabFaults(
            rest_429=outage.rate_limited, rest_500=outage.server_errors,
            drop_at=list(outage.drop_streams_at), missing=set(outage.missing),
            down=list(outage.down), place_500=outage.lost_placements,
        )  # fmt: skip
        with SchwabEmulator(store, clock, faults=faults) as emulator:
            yield SchwabServed(emulator, folder)


PROVIDERS: dict[str, Provider] = {
    p.name: p for p in (AlpacaProvider(), LocalProvider(), PolygonProvider(), SchwabProvider())
}
