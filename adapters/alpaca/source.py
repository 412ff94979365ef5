"""Alpaca as the data source of a backtest: the local store, filled from Alpaca on demand.

Every read the coordinator makes — a session's bars, a trailing window, an indicator's days —
first fetches from Alpaca's REST API what the store lacks (``AlpacaHistory``: once per
symbol-day, recorded in a ledger), then reads the store as a local backtest does. So the run is
exactly the local run on the same data, and a second run fetches nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import polars as pl

from adapters.alpaca.history import AlpacaHistory, FetchReport
from adapters.local.source import LIVE_STREAMS, LocalDataSource, SessionBars
from adapters.local.store import ParquetStore
from simcore.time import TimeManager

SERVED = ("1m", "1d")  # the bar intervals Alpaca's REST API serves for stocks


class AlpacaBackedSource(LocalDataSource):
    remedy = "check the symbols: Alpaca returned no bars for them"

    def __init__(
        self,
        store: ParquetStore,
        time_manager: TimeManager,
        history: AlpacaHistory,
        price_adjustment: str = "raw",
    ):
        super().__init__(store, time_manager, price_adjustment)
        self.api = history
        self.report = FetchReport()

    @property
    def description(self) -> str:
        return f"Alpaca ({self.api.feed} feed, cached in {self.store.root})"

    def available(self, symbol: str) -> set[str]:
        return set(SERVED) | super().available(symbol)

    def streamable(self, symbol: str) -> set[str]:
        """What Alpaca's stock stream carries: 1m bars, quotes and trades (ticks)."""
        return set(LIVE_STREAMS)

    def ensure(self, symbols: Sequence[str], interval: str, days: Iterable[date]) -> None:
        if interval in SERVED:
            part = self.api.fetch(list(symbols), interval, list(days))
            self.report.requests += part.requests
            self.report.bars += part.bars
            self.report.retries += part.retries
            self.report.symbol_days_fetched += part.symbol_days_fetched
            self.report.symbol_days_cached += part.symbol_days_cached
            for imported in part.imported.parts:
                self.report.imported.add(imported)

    def start_bars(
        self, symbols: Sequence[str], interval: str, days: Iterable[date]
    ) -> dict[date, SessionBars]:
        days = list(days)
        self.ensure(symbols, interval, days)
        return super().start_bars(symbols, interval, days)

    def history(self, symbols: Sequence[str], interval: str, days: Sequence[date]) -> pl.LazyFrame:
        self.ensure(symbols, interval, days)
        return super().history(symbols, interval, days)
