"""A loopback emulator of Schwab's market-data API, serving the local store.

``GET /marketdata/v1/pricehistory`` (``symbol``, ``frequencyType`` minute or daily,
``startDate``/``endDate`` in ms) answers as Schwab does: ``candles`` of ``open high low close
volume datetime`` (ms, bar start), ``symbol``, ``empty``; nothing the clock has not reached. The
bearer token is checked against the access token the emulator issued, and ``POST
/v1/oauth/token`` refreshes it as Schwab's token endpoint does. Faults on demand: 429 with
``Retry-After``, 500s. It listens on 127.0.0.1 only: schwab-py's fixed host is routed to it by
an httpx transport (``adapters.schwab.client``). ``token_file`` writes a schwab-py token file
for it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from adapters.local.store import BARS_1D, BARS_1M, ParquetStore
from adapters.loopback import JsonServer, rows_until
from simcore.time import LiveClock

DATASETS = {"minute": BARS_1M, "daily": BARS_1D}


@dataclass
class SchwabFaults:
    rest_429: int = 0  # the next N requests answered 429 with Retry-After
    retry_after_seconds: int = 0
    rest_500: int = 0  # the next N requests answered 500


class SchwabEmulator:
    def __init__(
        self,
        store: ParquetStore,
        clock: LiveClock | None = None,
        *,
        faults: SchwabFaults | None = None,
        rest_port: int = 0,
    ):
        self.store = store
        self.clock = clock or LiveClock()
        self.faults = faults or SchwabFaults()
        self.access_token = secrets.token_hex(16)
        self.refresh_token = secrets.token_hex(16)
        self.rest_requests: list[str] = []
        self._http = JsonServer(self.handle, "schwab-emulator", rest_port)

    @property
    def rest_url(self) -> str:
        return self._http.url

    def start(self) -> SchwabEmulator:
        self._http.start()
        return self

    def stop(self) -> None:
        self._http.stop()

    def __enter__(self) -> SchwabEmulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def token_file(self, path: Path, *, age_days: float = 0.0) -> Path:
        """A schwab-py token file for this emulator's tokens, created ``age_days`` ago."""
        wall = int(LiveClock().now_ns() / 1e9)  # a token's times are the wall's
        created = int(wall - age_days * 86_400)
        token = {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": "Bearer",
            "expires_in": 1800,
            "expires_at": created + 1800 if age_days else wall + 1800,
            "scope": "api",
        }
        path.write_text(json.dumps({"creation_timestamp": created, "token": token}))
        return path

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers, body=b""):
        self.rest_requests.append(f"{method} {path}")
        faults = self.faults
        if faults.rest_429 > 0:
            faults.rest_429 -= 1
            retry = {"Retry-After": str(faults.retry_after_seconds)}
            return 429, {"errors": [{"status": 429, "title": "Too Many Requests"}]}, retry
        if faults.rest_500 > 0:
            faults.rest_500 -= 1
            return 500, {"errors": [{"status": 500, "title": "Internal Server Error"}]}, {}
        if method == "POST" and path == "/v1/oauth/token":
            self.access_token = secrets.token_hex(16)
            answer = {"access_token": self.access_token, "refresh_token": self.refresh_token,
                      "token_type": "Bearer", "expires_in": 1800, "scope": "api"}  # fmt: skip
            return 200, answer, {}
        if headers.get("Authorization") != f"Bearer {self.access_token}":
            return 401, {"errors": [{"status": 401, "title": "Unauthorized"}]}, {}
        if method == "GET" and path == "/marketdata/v1/pricehistory":
            return self._price_history(query)
        return 404, {"errors": [{"status": 404, "title": f"no route {method} {path}"}]}, {}

    def _price_history(self, query: dict[str, list[str]]):
        try:
            symbol = query["symbol"][0]
            dataset = DATASETS[query.get("frequencyType", ["daily"])[0]]
            start_ns = int(query["startDate"][0]) * 1_000_000
            end_ns = int(query["endDate"][0]) * 1_000_000
        except (KeyError, ValueError) as exc:
            return 400, {"errors": [{"status": 400, "title": f"invalid request: {exc}"}]}, {}
        frame = rows_until(self.store, self.clock, dataset, [symbol], start_ns, end_ns)
        candles = [
            {"open": r["open"], "high": r["high"], "low": r["low"], "close": r["close"],
             "volume": r["volume"], "datetime": r["ns"] // 1_000_000}
            for r in frame.to_dicts()
        ]  # fmt: skip
        return 200, {"candles": candles, "symbol": symbol, "empty": not candles}, {}
