"""A live session from a config: its providers looked up in the registry, their clients built,
and the session run (``simcore.live.session.run_live``). Used by ``simcore live``.

The data provider gives the history API, the live feed, the gap source and a credentials check
(``adapters.provider.LiveLink``); the trade provider, when ``trade_api`` is not ``paper``, gives
the broker — or the data link hosts it (a replay of the store trades with its emulator's
account).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from adapters import registry
from adapters.provider import BrokerLink
from simcore.config import SessionConfig
from simcore.engine.analysis import Strategy
from simcore.engine.requirements import check_config_fits
from simcore.errors import UserError
from simcore.live.session import LiveOptions, run_live
from simcore.runtime.run import RunResult
from simcore.runtime.system import SystemManager
from simcore.store.parquet import ParquetStore
from simcore.store.provider_source import ProviderBackedSource
from simcore.store.source import LocalDataSource
from simcore.time import LiveClock


@dataclass(frozen=True)
class LiveRequest:
    """What ``simcore live`` was asked: the session, where its results go, and how to trade."""

    config: SessionConfig
    strategy: Strategy
    store: ParquetStore
    clock: LiveClock
    folder: Path
    options: LiveOptions
    live_money: bool = False
    env: Mapping[str, str] | None = None  # the providers' settings (default: the environment)


def check_request(request: LiveRequest, source: str) -> None:
    """Everything that can be refused before a provider is asked anything."""
    config = request.config
    if config.mode != "live":
        raise UserError(
            f"{source} has mode {config.mode!r}; `simcore live` is for mode 'live' configs"
        )
    check_config_fits(config, request.strategy, source)
    if request.live_money and config.api_config.trade_api == "paper":
        raise UserError(
            "--live-money sends orders to a broker with real money, but api_config.trade_api "
            "is 'paper'"
        )


def run_live_request(
    request: LiveRequest,
    notify: Callable[[BrokerLink], None] = lambda link: None,
    runtime_ready: Callable | None = None,
) -> RunResult:
    """Build the providers' clients, run the session, close what was started. ``notify`` is
    told where orders go before anything runs."""
    config, store, clock = request.config, request.store, request.clock
    system = SystemManager(config, clock)
    tm = system.get_time_manager()
    data = registry.provider(config.api_config.data_api, request.env)
    if request.live_money and data.replays_store:
        raise UserError(
            "--live-money trades on a provider's market data, but api_config.data_api is "
            f"{config.api_config.data_api!r} (a replay of the store trades with the emulator's "
            "account)"
        )
    trade_api = config.api_config.trade_api
    hosted = trade_api in data.hosts_trading  # a replay's emulated account, say
    broker: BrokerLink | None = None  # None: simcore's paper broker, built by the Trader
    if trade_api != "paper" and not hosted:  # built, and maybe refused, before anything starts
        trader = registry.provider(trade_api, request.env)
        broker = trader.broker(tm, live_money=request.live_money)
    link = data.live(store, tm, clock, config)
    try:
        if hosted:
            broker = link.hosts[trade_api].broker(tm, live_money=request.live_money)
        if request.options.resume is not None and broker is not None and not broker.resumable:
            raise UserError(
                f"--resume: trading through {trade_api!r}, whose broker does not journal its "
                "dealings yet, a resumed session could send an order twice; it is not resumed. "
                "Its journal and the account are as the kill left them: see the account's "
                "orders before a new session (without --resume, into another --out)"
            )
        link.check_credentials(config.session_data_config.symbols[0])
        if link.history is None:
            source = LocalDataSource(store, tm)
        else:
            source = ProviderBackedSource(store, tm, link.history)
        if broker is not None:
            notify(broker)
        return run_live(
            system,
            store,
            request.strategy,
            source,
            link.feed,
            clock,
            link.gap_source,
            request.folder,
            request.options,
            runtime_ready,
            broker.factory if broker is not None else None,
        )
    finally:
        link.close()
