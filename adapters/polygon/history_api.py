"""History from Polygon's REST aggregates into the local store, each symbol-day fetched once.

The provider's own client (``massive``, Polygon.io's Python client under its new name) does the
requests, follows ``next_url`` pages and retries 429 and 5xx answers itself (urllib3, honouring
``Retry-After``). Bars are asked unadjusted: the store keeps raw prices and adjusts them with
factors, as for every source. The ledger, the day ranges and the cleaner are
``simcore.store.fetching``'s (ledger ``polygon``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import polars as pl
from massive import RESTClient
from massive.exceptions import BadResponse
from urllib3.exceptions import HTTPError, MaxRetryError

from adapters.polygon.keys import KEY_ENV, PolygonKey
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

TIMESPANS = {"1s": "second", "1m": "minute", "1d": "day"}
# what the feed takes from Polygon's stocks websocket: second (A) and minute (AM) aggregates,
# quotes (Q) and trades (T); the marking streams one bar interval of them per session
STREAMS = frozenset({"1s", "1m", "quotes", "ticks"})


class PolygonHistory(StoreFillingHistory):
    """Polygon's aggregates API as a ``simcore.providers.HistoryApi``."""

    name = "Polygon"
    served = ("1s", "1m", "1d")
    ledger_name = "polygon"
    description = "Polygon (aggregates)"

    def __init__(
        self,
        store: ParquetStore,
        time_manager: TimeManager,
        key: PolygonKey,
        *,
        url: str | None = None,
        requests_per_minute: int = 300,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.store = store
        self.tm = time_manager
        options = {"base": url} if url else {}
        self.client = RESTClient(key.key, retries=max_retries, **options)
        self.limiter = RateLimiter(requests_per_minute, sleep)

    def streamable(self, symbol: str) -> set[str]:
        """What the feed streams from Polygon (see ``STREAMS``)."""
        return set(STREAMS)

    def _request(
        self, symbols: list[str], interval: str, start_ns: int, end_ns: int, report: FetchReport
    ) -> pl.DataFrame:
        """One range, one request (and its pages) per symbol: aggregates are per ticker."""
        rows = []
        for symbol in symbols:
            self.limiter.wait()
            report.requests += 1
            try:
                aggs = self.client.list_aggs(
                    symbol, 1, TIMESPANS[interval], start_ns // 1_000_000, end_ns // 1_000_000,
                    adjusted=False, sort="asc", limit=50_000,
                )  # fmt: skip
                rows += [
                    (symbol, a.timestamp, a.open, a.high, a.low, a.close, a.volume,
                     a.transactions, a.vwap)
                    for a in aggs
                ]  # fmt: skip
            except BadResponse as exc:
                raise _refusal(exc) from None
            except MaxRetryError as exc:
                raise DataError(
                    f"Polygon's aggregates API kept failing ({exc.reason}): try again later"
                ) from None
            except HTTPError as exc:
                raise DataError(f"cannot reach Polygon's aggregates API: {exc}") from None
        report.bars += len(rows)
        return frame_of_rows(rows, self.tm)


def _refusal(exc: BadResponse) -> Exception:
    """Polygon's error body as a message; a refused key as ``CredentialsRejected``."""
    try:
        body = json.loads(str(exc))
    except ValueError:
        body = {"error": str(exc)}
    status = str(body.get("status", ""))
    message = body.get("error") or body.get("message") or status or "no message"
    if status == "NOT_AUTHORIZED" or "API Key" in message:
        return CredentialsRejected(f"Polygon refused the key ({message}): check {KEY_ENV}")
    if status == "NOT_FOUND":
        return DataError(f"Polygon has no such ticker or range: {message}")
    return DataError(f"Polygon's aggregates API answered {status or 'an error'}: {message}")
