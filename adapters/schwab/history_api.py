"""History from Schwab's price-history API into the local store, each symbol-day fetched once.

schwab-py's ``Client`` asks for one symbol's candles over a range (minute or daily); it does not
retry, so 429 and 5xx answers are retried here with backoff. A refused token (401) says how to
create a new one. The ledger, the day ranges and the cleaner are ``simcore.store.fetching``'s
(ledger ``schwab``). Schwab keeps about 48 days of minute history.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import httpx
import polars as pl

from adapters.schwab.client import schwab_client
from adapters.schwab.credentials import LOGIN_FLOW, SchwabCredentials
from simcore.errors import DataError
from simcore.providers import CredentialsRejected
from simcore.store.fetching import (
    FetchReport,
    RateLimiter,
    StoreFillingHistory,
    frame_of_rows,
)
from simcore.store.parquet import ParquetStore
from simcore.time import TimeManager

STREAMS = frozenset({"1m", "quotes"})  # the streamer's CHART_EQUITY candles, LEVELONE_EQUITIES


class SchwabHistory(StoreFillingHistory):
    """Schwab's price-history API as a ``simcore.providers.HistoryApi``."""

    name = "Schwab"
    served = ("1m", "1d")
    ledger_name = "schwab"
    description = "Schwab (price history)"

    def __init__(
        self,
        store: ParquetStore,
        time_manager: TimeManager,
        credentials: SchwabCredentials,
        *,
        url: str | None = None,
        requests_per_minute: int = 120,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.store = store
        self.tm = time_manager
        self.client = schwab_client(credentials, url)
        self.limiter = RateLimiter(requests_per_minute, sleep)
        self.max_retries = max_retries
        self.sleep = sleep

    def streamable(self, symbol: str) -> set[str]:
        return set(STREAMS)

    def _request(
        self, symbols: list[str], interval: str, start_ns: int, end_ns: int, report: FetchReport
    ) -> pl.DataFrame:
        """One range, one request per symbol (price history is per symbol), with retries."""
        ask = (
            self.client.get_price_history_every_minute
            if interval == "1m"
            else self.client.get_price_history_every_day
        )
        start = dt.datetime.fromtimestamp(start_ns / 1e9, dt.UTC)
        end = dt.datetime.fromtimestamp(end_ns / 1e9, dt.UTC)
        rows = []
        for symbol in symbols:
            body = self._get(
                lambda s=symbol: ask(s, start_datetime=start, end_datetime=end), report
            )
            rows += [
                (symbol, c["datetime"], c["open"], c["high"], c["low"], c["close"],
                 c["volume"], None, None)
                for c in body.get("candles", [])
                if start_ns // 1_000_000 <= c["datetime"] <= end_ns // 1_000_000
            ]  # fmt: skip
        report.bars += len(rows)
        return frame_of_rows(rows, self.tm)

    def _get(self, call: Callable[[], httpx.Response], report: FetchReport) -> dict:
        for attempt in range(self.max_retries + 1):
            self.limiter.wait()
            report.requests += 1
            try:
                response = call()
            except httpx.HTTPError as exc:
                if attempt == self.max_retries:
                    raise DataError(f"cannot reach Schwab's market-data API: {exc}") from None
                report.retries += 1
                self.sleep(min(30.0, 0.5 * 2**attempt))
                continue
            status = response.status_code
            if status == 200:
                return response.json()
            if status in (401, 403):
                raise CredentialsRejected(f"Schwab refused the token ({status}): {LOGIN_FLOW}")
            if status == 429 or status >= 500:
                if attempt == self.max_retries:
                    raise DataError(
                        f"Schwab's market-data API kept failing ({status}) after "
                        f"{self.max_retries} retries: try again later"
                    )
                report.retries += 1
                retry_after = response.headers.get("Retry-After")
                delay = float(retry_after) if retry_after else min(30.0, 0.5 * 2**attempt)
                self.sleep(delay)
                continue
            raise DataError(f"Schwab's market-data API answered {status}: {response.text[:200]}")
        raise DataError("Schwab's market-data API kept failing")
