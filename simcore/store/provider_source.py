"""A provider as the data source of a session: the local store, filled from the provider's
history API on demand (any ``simcore.providers.HistoryApi``: Alpaca's, and the next one's).

Every read the coordinator makes — a session's bars, a trailing window, an indicator's days —
first fetches from the provider what the store lacks (once per symbol-day, recorded in a
ledger), then reads the store as a local backtest does. So the run is exactly the local run on
the same data, and a second run fetches nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import polars as pl

from simcore.errors import DataError
from simcore.providers import HistoryApi
from simcore.store.parquet import ParquetStore
from simcore.store.source import LocalDataSource, SessionBars
from simcore.time import TimeManager


class ProviderBackedSource(LocalDataSource):
    def __init__(
        self,
        store: ParquetStore,
        time_manager: TimeManager,
        history: HistoryApi,
        price_adjustment: str = "raw",
    ):
        super().__init__(store, time_manager, price_adjustment)
        self.api = history
        self.report = history.new_report()

    @property
    def description(self) -> str:
        return f"{self.api.description}, cached in {self.store.root}"

    @property
    def remedy(self) -> str:
        return f"check the symbols: {self.api.name} returned no bars for them"

    def available(self, symbol: str) -> set[str]:
        return set(self.api.served) | super().available(symbol)

    def streamable(self, symbol: str) -> set[str]:
        return self.api.streamable(symbol)

    def ensure(self, symbols: Sequence[str], interval: str, days: Iterable[date]) -> None:
        """Fetch what the store lacks; a symbol the provider has never given a bar for (and
        the store holds nothing of) is an unknown symbol: a message, not an empty run."""
        if interval not in self.api.served:
            return
        self.report.add(self.api.fetch(list(symbols), interval, list(days)))
        unknown = [s for s in symbols if not LocalDataSource.available(self, s)]
        if unknown:
            raise DataError(
                f"{self.api.name} has no bars at all for: {', '.join(unknown)} "
                f"(asked for {interval} bars; check the symbols)"
            )

    def start_bars(
        self, symbols: Sequence[str], interval: str, days: Iterable[date]
    ) -> dict[date, SessionBars]:
        days = list(days)
        self.ensure(symbols, interval, days)
        return super().start_bars(symbols, interval, days)

    def history(self, symbols: Sequence[str], interval: str, days: Sequence[date]) -> pl.LazyFrame:
        self.ensure(symbols, interval, days)
        return super().history(symbols, interval, days)
