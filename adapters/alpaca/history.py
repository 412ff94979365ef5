"""History from Alpaca's REST API into the local store, each symbol-day fetched once.

alpaca-py's ``StockHistoricalDataClient`` does the requests and the paging. Around it: a rate
limit (Alpaca's free plan allows 200 requests a minute), retries that honour ``Retry-After`` on
429 and back off on 5xx, clear errors for rejected keys, and a ledger in the store
(``<store>/fetched/alpaca-<feed>-<interval>.parquet``: symbol, day) so that nothing is fetched
twice. Only days whose session has ended are entered in the ledger: a day still trading is
fetched again next time. Every fetched bar goes through the store's cleaner, like any import.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import polars as pl
from alpaca.common.exceptions import APIError
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest
from alpaca.data.timeframe import TimeFrame
from requests.exceptions import RequestException

from adapters.alpaca.keys import AlpacaKeys, KeysRejected
from adapters.local.importers import ImportReport, import_frame
from adapters.local.source import LIVE_STREAMS
from adapters.local.store import BARS_1D, BARS_1M, ParquetStore, atomic_write
from simcore.errors import DataError, NotAvailableError
from simcore.time import TimeManager

DATASETS = {"1m": BARS_1M, "1d": BARS_1D}
TIMEFRAMES = {"1m": TimeFrame.Minute, "1d": TimeFrame.Day}
CHUNK_DAYS = {"1m": 10, "1d": 2000}  # trading days per request range


@dataclass
class FetchReport:
    """What a fetch did: requests, bars received, what the cleaner kept, what was skipped."""

    requests: int = 0
    bars: int = 0
    retries: int = 0
    symbol_days_fetched: int = 0
    symbol_days_cached: int = 0
    imported: ImportReport = field(default_factory=lambda: ImportReport("alpaca"))

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


class AlpacaHistory:
    """Alpaca's market-data REST API as a ``simcore.providers.HistoryApi``."""

    name = "Alpaca"
    served = ("1m", "1d")  # the bar intervals Alpaca's REST API serves for stocks

    def __init__(
        self,
        store: ParquetStore,
        time_manager: TimeManager,
        keys: AlpacaKeys,
        *,
        url: str | None = None,
        feed: str = "iex",
        requests_per_minute: int = 200,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.store = store
        self.tm = time_manager
        self.feed = feed
        self.url = url
        self.client = StockHistoricalDataClient(
            keys.key, keys.secret, raw_data=True, url_override=url
        )
        # this adapter retries itself, honouring Retry-After (the client would sleep a fixed
        # 3 s on a 429 and not retry a 5xx at all)
        self.client._retry = 0
        self.limiter = RateLimiter(requests_per_minute, sleep)
        self.max_retries = max_retries
        self.sleep = sleep

    @property
    def description(self) -> str:
        return f"Alpaca ({self.feed} feed)"

    def streamable(self, symbol: str) -> set[str]:
        """What Alpaca's stock stream carries: 1m bars, quotes and trades (ticks)."""
        return set(LIVE_STREAMS)

    @staticmethod
    def new_report() -> FetchReport:
        return FetchReport()

    # ------------------------------------------------------------------ ledger
    def _ledger_path(self, interval: str) -> Path:
        return self.store.root / "fetched" / f"alpaca-{self.feed}-{interval}.parquet"

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
        if interval not in DATASETS:
            raise NotAvailableError(
                f"Alpaca's REST API serves 1m and 1d stock bars; {interval} is derived by the "
                "engine from them (1s bars are not offered)"
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

    def _request(
        self, symbols: list[str], interval: str, start_ns: int, end_ns: int, report: FetchReport
    ) -> pl.DataFrame:
        """One range for several symbols (alpaca-py follows the pages), with retries."""
        request = StockBarsRequest(
            symbol_or_symbols=symbols,
            timeframe=TIMEFRAMES[interval],
            start=self.tm.to_utc(self.tm.from_utc_ns(start_ns)),
            end=self.tm.to_utc(self.tm.from_utc_ns(end_ns)),
            feed=self.feed,
        )
        for attempt in range(self.max_retries + 1):
            self.limiter.wait()
            report.requests += 1
            try:
                raw = self.client.get_stock_bars(request)
                break
            except APIError as exc:
                status = exc.status_code
                if status in (401, 403):
                    raise KeysRejected(
                        f"Alpaca refused the keys ({status}): check APCA_API_KEY_ID and "
                        "APCA_API_SECRET_KEY, and that they belong to the endpoint used"
                    ) from None
                if status == 429 or (status is not None and status >= 500):
                    if attempt == self.max_retries:
                        raise DataError(
                            f"Alpaca's market-data API kept failing ({status}) after "
                            f"{self.max_retries} retries: try again later"
                        ) from None
                    report.retries += 1
                    self.sleep(_retry_after(exc, attempt))
                    continue
                raise DataError(f"Alpaca's market-data API answered {status}: {exc}") from None
            except RequestException as exc:
                if attempt == self.max_retries:
                    raise DataError(f"cannot reach Alpaca's market-data API: {exc}") from None
                report.retries += 1
                self.sleep(min(30.0, 0.5 * 2**attempt))
        return _frame(raw, self.tm, report)


def _retry_after(exc: APIError, attempt: int) -> float:
    header = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return max(0.0, float(header)) if header is not None else min(30.0, 0.5 * 2**attempt)
    except ValueError:
        return min(30.0, 0.5 * 2**attempt)


def _frame(raw: dict, tm: TimeManager, report: FetchReport) -> pl.DataFrame:
    """Alpaca's raw bars (symbol -> list of t/o/h/l/c/v/n/vw) in the store's bar columns."""
    rows = [
        (
            symbol,
            bar["t"],
            bar["o"],
            bar["h"],
            bar["l"],
            bar["c"],
            bar["v"],
            bar.get("n"),
            bar.get("vw"),
        )
        for symbol, bars in (raw or {}).items()
        for bar in bars
    ]
    report.bars += len(rows)
    schema = {
        "symbol": pl.String,
        "t": pl.String,
        "open": pl.Float64,
        "high": pl.Float64,
        "low": pl.Float64,
        "close": pl.Float64,
        "volume": pl.Float64,
        "trade_count": pl.Int64,
        "vwap": pl.Float64,
    }
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    stamps = (
        pl.col("t")
        .str.replace(r"Z$", "+00:00")
        .str.to_datetime(time_unit="us", time_zone="UTC", strict=False)
    )
    frame = frame.with_columns(stamps.alias("timestamp")).drop("t")
    return frame.with_columns(tm.utc_to_local_date_expr(pl.col("timestamp")).alias("day"))
