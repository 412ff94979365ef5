"""A provider's history API filling the local store, each symbol-day fetched once.

What every provider's history shares: the ledger in the store
(``<store>/fetched/<ledger name>-<interval>.parquet``: symbol, day) so that nothing is fetched
twice, ranges of days per request, the cleaner every fetched bar goes through (like any
import), a rate limiter, and the report of what a fetch did. Only days whose session has ended
are entered in the ledger: a day still trading is fetched again next time. A provider supplies
``_request``: one range of bars for some symbols, in the store's columns, with its retries and
its errors made clear.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from simcore.errors import NotAvailableError
from simcore.providers import LiveItem
from simcore.store.importers import ImportReport, import_frame
from simcore.store.parquet import BARS_1D, BARS_1M, BARS_1S, ParquetStore, atomic_write
from simcore.time import TimeManager

DATASETS = {"1s": BARS_1S, "1m": BARS_1M, "1d": BARS_1D}
CHUNK_DAYS = {"1s": 1, "1m": 10, "1d": 2000}  # trading days per request range
# a provider's bars as they come, before the store's cleaner: after its symbol and time column
FETCHED_BAR_COLUMNS = {
    "open": pl.Float64,
    "high": pl.Float64,
    "low": pl.Float64,
    "close": pl.Float64,
    "volume": pl.Float64,
    "trade_count": pl.Int64,
    "vwap": pl.Float64,
}


@dataclass
class FetchReport:
    """What a fetch did: requests, bars received, what the cleaner kept, what was skipped."""

    requests: int = 0
    bars: int = 0
    retries: int = 0
    symbol_days_fetched: int = 0
    symbol_days_cached: int = 0
    imported: ImportReport = field(default_factory=lambda: ImportReport("provider"))

    def add(self, part: FetchReport) -> None:
        """Fold one fetch's report into a running total."""
        self.requests += part.requests
        self.bars += part.bars
        self.retries += part.retries
        self.symbol_days_fetched += part.symbol_days_fetched
        self.symbol_days_cached += part.symbol_days_cached
        for imported in part.imported.parts:
            self.imported.add(imported)

    def as_dict(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "bars": self.bars,
            "retries": self.retries,
            "symbol_days_fetched": self.symbol_days_fetched,
            "symbol_days_cached": self.symbol_days_cached,
            "rows_written": self.imported.rows_written,
            "rows_rejected": self.imported.rows_rejected,
        }


class RateLimiter:
    """At most ``per_minute`` calls in any 60 seconds (a sliding window)."""

    def __init__(self, per_minute: int, sleep: Callable[[float], None] = time.sleep):
        self.per_minute = per_minute
        self.sleep = sleep
        self._calls: list[float] = []

    def wait(self) -> None:
        now = time.monotonic()
        self._calls = [t for t in self._calls if now - t < 60.0]
        if len(self._calls) >= self.per_minute:
            self.sleep(60.0 - (now - self._calls[0]))
        self._calls.append(time.monotonic())


class StoreFillingHistory:
    """The shared half of a ``simcore.providers.HistoryApi``; subclasses set ``name``,
    ``served``, ``ledger_name`` and implement ``_request`` and ``streamable``."""

    name = "the provider"
    served: tuple[str, ...] = ("1m", "1d")
    store: ParquetStore
    tm: TimeManager

    @property
    def ledger_name(self) -> str:
        raise NotImplementedError

    @staticmethod
    def new_report() -> FetchReport:
        return FetchReport()

    def _request(
        self, symbols: list[str], interval: str, start_ns: int, end_ns: int, report: FetchReport
    ) -> pl.DataFrame:
        raise NotImplementedError

    # ------------------------------------------------------------------ ledger
    def _ledger_path(self, interval: str) -> Path:
        return self.store.root / "fetched" / f"{self.ledger_name}-{interval}.parquet"

    def fetched(self, interval: str) -> set[tuple[str, date]]:
        path = self._ledger_path(interval)
        if not path.exists():
            return set()
        return {(s, d) for s, d in pl.read_parquet(path).iter_rows()}

    def _remember(self, interval: str, done: set[tuple[str, date]]) -> None:
        if not done:
            return
        entries = sorted(self.fetched(interval) | done)
        frame = pl.DataFrame(entries, schema={"symbol": pl.String, "day": pl.Date}, orient="row")
        atomic_write(frame, self._ledger_path(interval))

    # ------------------------------------------------------------------ fetching
    def fetch(
        self,
        symbols: Sequence[str],
        interval: str,
        days: Sequence[date],
        progress: Callable[[int, int], None] | None = None,
    ) -> FetchReport:
        """Bring ``interval`` bars of ``symbols`` on ``days`` into the store, unless fetched."""
        if interval not in DATASETS or interval not in self.served:
            raise NotAvailableError(
                f"{self.name}'s history API serves {' and '.join(self.served)} bars here; "
                f"{interval} is derived by the engine from them"
            )
        report = FetchReport()
        cached = self.fetched(interval)
        todo: dict[date, list[str]] = {}
        for day in sorted(set(days)):
            for symbol in symbols:
                if (symbol, day) in cached:
                    report.symbol_days_cached += 1
                else:
                    todo.setdefault(day, []).append(symbol)
        ordered = sorted(todo)
        chunks = [
            ordered[i : i + CHUNK_DAYS[interval]]
            for i in range(0, len(ordered), CHUNK_DAYS[interval])
        ]
        now_ns = self.tm.clock.now_ns()
        for number, chunk in enumerate(chunks):
            wanted = sorted({s for d in chunk for s in todo[d]})
            start = self.tm.daily_bar_label_ns(chunk[0])
            end = self.tm.daily_bar_label_ns(chunk[-1] + timedelta(days=1)) - 1000
            frame = self._request(wanted, interval, start, end, report)
            wanted_days = pl.DataFrame(
                [(s, d) for d in chunk for s in todo[d]],
                schema={"symbol": pl.String, "day": pl.Date},
                orient="row",
            )
            frame = frame.join(wanted_days, on=["symbol", "day"], how="semi")
            report.imported.add(
                import_frame(self.store, DATASETS[interval], frame.drop("day"), self.tm)
            )
            complete = {
                (s, d)
                for d in chunk
                for s in todo[d]
                if self.tm.to_utc_ns(self.tm.get_trading_session(d).regular_close) <= now_ns
            }
            report.symbol_days_fetched += sum(len(todo[d]) for d in chunk)
            self._remember(interval, complete)
            if progress is not None:
                progress(number + 1, len(chunks))
        return report

    def bars_between(
        self, symbols: list[str], interval: str, start_ns: int, end_ns: int
    ) -> pl.DataFrame:
        """The bars of ``symbols`` stamped in [start, end] (one request, with retries), in the
        store's columns: what a gap fill asks for. Raises on failure."""
        return self._request(symbols, interval, start_ns, end_ns, FetchReport())

    def check_keys(self, symbol: str) -> None:
        """One small request, so that rejected keys are reported before anything starts."""
        now = self.tm.clock.now_ns()
        self._request([symbol], "1d", now - 7 * 86_400_000_000_000, now, FetchReport())


class HistoryGapSource:
    """A ``simcore.providers.GapSource`` on any store-filling history API: the bars a gap is
    missing, asked of the provider (and written to the store, as every fetched bar is)."""

    def __init__(self, history: StoreFillingHistory):
        self.history = history

    def fetch(self, symbol: str, interval: str, start_ns: int, end_ns: int) -> list[LiveItem]:
        tm = self.history.tm
        frame = self.history.bars_between([symbol], interval, start_ns, end_ns)
        if frame.height:
            import_frame(self.history.store, DATASETS[interval], frame.drop("day"), tm)
        stamps = frame["timestamp"].dt.epoch("ns").to_list() if frame.height else []
        rows = frame.select("open", "high", "low", "close", "volume").rows() if frame.height else []
        received = time.perf_counter()
        return [
            LiveItem("fill", symbol, ns, tuple(values), received)
            for ns, values in zip(stamps, rows, strict=True)
        ]


def frame_of_rows(rows: list[tuple], tm: TimeManager) -> pl.DataFrame:
    """(symbol, t ms, o, h, l, c, v, n, vw) rows in the store's bar columns, with ``day``."""
    schema = {"symbol": pl.String, "t": pl.Int64} | FETCHED_BAR_COLUMNS
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    stamps = pl.col("t").cast(pl.Datetime("ms", "UTC")).dt.cast_time_unit("us")
    frame = frame.with_columns(stamps.alias("timestamp")).drop("t")
    return frame.with_columns(tm.utc_to_local_date_expr(pl.col("timestamp")).alias("day"))
