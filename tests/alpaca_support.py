"""A live session against the loopback Alpaca emulator, for the tests: alpaca-py's real REST
and stream clients, the emulator serving the sample store, a rehearsal clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl

from adapters.alpaca.broker import AlpacaBroker
from adapters.alpaca.emulator.server import AlpacaEmulator, Faults
from adapters.alpaca.emulator.trading import TradingFaults
from adapters.alpaca.feed import AlpacaFeed
from adapters.alpaca.history_api import AlpacaHistory
from adapters.alpaca.keys import AlpacaKeys
from simcore.config import SessionConfig
from simcore.engine.analysis import Strategy
from simcore.live.session import LiveOptions, run_live
from simcore.runtime.run import RunResult
from simcore.runtime.system import SystemManager
from simcore.store.fetching import HistoryGapSource
from simcore.store.parquet import BARS_1M, ParquetStore
from simcore.store.provider_source import ProviderBackedSource
from simcore.time import LiveClock

ET = timezone(timedelta(hours=-4))  # July: New York is UTC-4
DAY = date(2025, 7, 3)  # the sample's early close: 09:30-13:00
KEYS = AlpacaKeys("test-key-id", "test-secret-0123456789")


def et(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, second, tzinfo=ET)


def ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000


def live_config(
    symbols=("ALFA", "BRVO"), streams=("1m", "5m", "15m"), trade_api="paper", **gap_filler
) -> SessionConfig:
    return SessionConfig.model_validate(
        {
            "session_name": "live test",
            "mode": "live",
            "session_data_config": {
                "symbols": list(symbols),
                "streams": list(streams),
                "historical": {
                    "data": [{"trailing_days": 3, "intervals": ["1d"], "apply_to": "all"}]
                },
                "gap_filler": {"max_retries": 3, "retry_interval_seconds": 60} | gap_filler,
            },
            "trading_config": {
                "max_buying_power": 1e5,
                "max_per_trade": 1e4,
                "max_per_symbol": 2e4,
                "max_open_positions": 2,
            },
            "api_config": {"data_api": "alpaca", "trade_api": trade_api},
        }
    )


@dataclass
class LiveRun:
    result: RunResult
    emulator: AlpacaEmulator
    feed: AlpacaFeed
    store: ParquetStore
    broker: AlpacaBroker | None = None


def run_against_emulator(
    source_store: ParquetStore,
    folder: Path,
    start: datetime,
    speed: float,
    strategy: Strategy | None = None,
    faults: Faults | None = None,
    config: SessionConfig | None = None,
    keys: AlpacaKeys = KEYS,
    trading: TradingFaults | None = None,
    prepare=None,
    options: LiveOptions | None = None,
) -> LiveRun:
    """``prepare(emulator)`` runs once the emulator serves, before the session (an account's
    positions and orders placed ahead of it, say)."""
    clock = LiveClock(start, speed)
    emulator = AlpacaEmulator(
        source_store, clock, key=KEYS.key, secret=KEYS.secret, faults=faults, trading=trading
    ).start()
    brokers: list[AlpacaBroker] = []
    try:
        if prepare is not None:
            prepare(emulator)
        config = config or live_config()
        system = SystemManager(config, clock)
        tm = system.get_time_manager()
        store = ParquetStore(folder / "store")
        history = AlpacaHistory(store, tm, keys, url=emulator.rest_url, sleep=lambda s: None)
        history.check_keys(config.session_data_config.symbols[0])
        feed = AlpacaFeed(keys, url=emulator.stream_url, clock_speed=speed)

        def broker(config, book, portfolio) -> AlpacaBroker:
            brokers.append(
                AlpacaBroker(
                    config, book, portfolio, keys=keys, url=emulator.rest_url,
                    stream_url=emulator.trading_stream_url, now_ns=tm.current_time_ns,
                    reconcile_seconds=0.5, sleep=lambda s: None,
                )
            )  # fmt: skip
            return brokers[-1]

        result = run_live(
            system,
            store,
            strategy or Strategy(),
            ProviderBackedSource(store, tm, history),
            feed,
            clock,
            HistoryGapSource(history),
            folder / "out",
            options or LiveOptions(sessions=1, lead_seconds=30),
            None,
            broker,
        )
    finally:
        emulator.stop()
    return LiveRun(result, emulator, feed, store, brokers[0] if brokers else None)


def store_bars(store: ParquetStore, symbols=("ALFA", "BRVO")) -> pl.DataFrame:
    """The day's regular-session 1m bars the emulator serves: what a live run must end with."""
    lo, hi = et(9, 30), et(13, 0)
    frame = store.read(BARS_1M, list(symbols), lo, hi, regular_only=True)
    return frame.select(
        "symbol",
        pl.col("timestamp").dt.cast_time_unit("ns"),
        "open",
        "high",
        "low",
        "close",
        "volume",
    ).sort("symbol", "timestamp")


def streamed_bars(result: RunResult) -> pl.DataFrame:
    bars = result.tables["bars"].filter(pl.col("source") == "STREAMED")
    return bars.select("symbol", "timestamp", "open", "high", "low", "close", "volume").sort(
        "symbol", "timestamp"
    )
