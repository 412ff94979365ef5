"""History from Alpaca's REST API into the local store, each symbol-day fetched once.

alpaca-py's ``StockHistoricalDataClient`` does the requests and the paging. Around it: a rate
limit (Alpaca's free plan allows 200 requests a minute), retries that honour ``Retry-After`` on
429 and back off on 5xx, and clear errors for rejected keys. The ledger, the day ranges and the
cleaner are ``simcore.store.fetching``'s (ledger ``alpaca-<feed>``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import polars as pl
from alpaca.common.exceptions import APIError
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest
from alpaca.data.timeframe import TimeFrame
from requests.exceptions import RequestException

from adapters.alpaca import sdk
from adapters.alpaca.keys import AlpacaKeys
from simcore.errors import DataError
from simcore.providers import CredentialsRejected
from simcore.store.fetching import (
    FETCHED_BAR_COLUMNS,
    FetchReport,
    RateLimiter,
    StoreFillingHistory,
)
from simcore.store.parquet import ParquetStore
from simcore.store.source import LIVE_STREAMS
from simcore.time import TimeManager

TIMEFRAMES = {"1m": TimeFrame.Minute, "1d": TimeFrame.Day}


class AlpacaHistory(StoreFillingHistory):
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
        sdk.no_retries(self.client)
        self.limiter = RateLimiter(requests_per_minute, sleep)
        self.max_retries = max_retries
        self.sleep = sleep

    @property
    def description(self) -> str:
        return f"Alpaca ({self.feed} feed)"

    def streamable(self, symbol: str) -> set[str]:
        """What Alpaca's stock stream carries: 1m bars, quotes and trades (ticks)."""
        return set(LIVE_STREAMS)

    @property
    def ledger_name(self) -> str:
        return f"alpaca-{self.feed}"

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
                    raise CredentialsRejected(
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
    schema = {"symbol": pl.String, "t": pl.String} | FETCHED_BAR_COLUMNS
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    stamps = (
        pl.col("t")
        .str.replace(r"Z$", "+00:00")
        .str.to_datetime(time_unit="us", time_zone="UTC", strict=False)
    )
    frame = frame.with_columns(stamps.alias("timestamp")).drop("t")
    return frame.with_columns(tm.utc_to_local_date_expr(pl.col("timestamp")).alias("day"))
