"""A loopback emulator of Schwab's market-data API and streamer, serving the local store.

``GET /marketdata/v1/pricehistory`` (``symbol``, ``frequencyType`` minute or daily,
``startDate``/``endDate`` in ms) answers as Schwab does: ``candles`` of ``open high low close
volume datetime`` (ms, bar start), ``symbol``, ``empty``; nothing the clock has not reached. The
bearer token is checked against the access token the emulator issued, and ``POST
/v1/oauth/token`` refreshes it as Schwab's token endpoint does. ``/trader/v1/userPreference``
hands out this emulator's streamer (``ws://127.0.0.1:PORT/ws``): ADMIN LOGIN with the access
token, CHART_EQUITY and LEVELONE_EQUITIES SUBS/ADD/UNSUBS, then each minute's candle at the
clock and the store's quotes at their time (level one: the fields asked for, numbered). Faults on demand:
429 with ``Retry-After``, 500s, dropped streams, missing minutes. It listens on 127.0.0.1 only:
schwab-py's fixed host is routed to it by an httpx transport (``adapters.schwab.client``).
``token_file`` writes a schwab-py token file for it.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from adapters.loopback.desk import PaperDesk
from adapters.loopback.server import (
    JsonServer,
    MinuteStream,
    MinuteStreamEmulator,
    rows_until,
    session_frame,
)
from adapters.schwab.emulator.trading import SchwabTrader
from simcore.store.parquet import BARS_1D, BARS_1M, QUOTES, ParquetStore
from simcore.time import LiveClock, TimeManager

DATASETS = {"minute": BARS_1M, "daily": BARS_1D}
SERVICES = ("CHART_EQUITY", "LEVELONE_EQUITIES")


@dataclass
class SchwabFaults:
    rest_429: int = 0  # the next N requests answered 429 with Retry-After
    retry_after_seconds: int = 0
    rest_500: int = 0  # the next N requests answered 500
    drop_at: list[int] = field(default_factory=list)  # session ns: every stream closed then
    missing: set[tuple[str, int]] = field(default_factory=set)  # (symbol, bar ns) never streamed
    down: list[tuple[int, int]] = field(default_factory=list)  # [from, until): stream refused
    place_500: int = 0  # the next N placements: taken, but answered 500


class SchwabEmulator(MinuteStreamEmulator):
    def __init__(
        self,
        store: ParquetStore,
        clock: LiveClock | None = None,
        *,
        faults: SchwabFaults | None = None,
        rest_port: int = 0,
        bar_delay_seconds: float = 0.05,
        cash: float = 100_000.0,
    ):
        self.store = store
        self.clock = clock or LiveClock()
        self.faults = faults or SchwabFaults()
        self.access_token = secrets.token_hex(16)
        self.refresh_token = secrets.token_hex(16)
        self.rest_requests: list[str] = []
        self.sent: list[tuple[float, str, int]] = []  # (perf_counter, symbol, bar ns) streamed
        self._http = JsonServer(self.handle, "schwab-emulator", rest_port)
        self.desk = PaperDesk(cash, self.clock.now_ns)  # the account's fills
        self.trader = SchwabTrader(self.desk, self._http.url, self.faults)
        self.stream = _SchwabStreamer(
            self, store, self.clock, TimeManager("US_EQUITY", "EQUITY", "live", clock=self.clock),
            path="/ws", bar_delay_ns=int(bar_delay_seconds * 1e9), drop_at=self.faults.drop_at,
            missing=self.faults.missing, name="schwab-emulator", down=self.faults.down,
        )  # fmt: skip

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
        if method == "GET" and path == "/trader/v1/userPreference":
            return 200, self._preferences(), {}
        if path.startswith("/trader/v1/accounts"):
            return self.trader.handle(method, path, body)
        return 404, {"errors": [{"status": 404, "title": f"no route {method} {path}"}]}, {}

    def _preferences(self) -> dict:
        """The user-preferences answer: where the streamer is (this emulator's), and the ids
        a streamer request carries."""
        info = {
            "streamerSocketUrl": self.stream.url,
            "schwabClientCustomerId": "emulated-customer",
            "schwabClientCorrelId": secrets.token_hex(8),
            "schwabClientChannel": "N9",
            "schwabClientFunctionId": "APIAPP",
        }
        return {"accounts": [], "streamerInfo": [info], "offers": []}

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


class _SchwabStreamer(MinuteStream):
    """Schwab's streamer: JSON ``requests`` (ADMIN LOGIN with the access token, CHART_EQUITY and
    LEVELONE_EQUITIES SUBS/ADD/UNSUBS), ``response`` acknowledgements, then ``data`` with each
    minute's candle in CHART_EQUITY's numbered fields and quotes in LEVELONE_EQUITIES'."""

    def __init__(self, emulator: SchwabEmulator, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.emulator = emulator
        self.sequence = 0
        self.quote_fields: dict = {}  # connection -> the LEVELONE_EQUITIES fields it asked for

    async def connection(self, ws: ServerConnection) -> None:
        subs: set[str] = set()
        try:
            async for frame in ws:
                for request in json.loads(frame).get("requests", []):
                    service, command = request.get("service"), request.get("command")
                    params = request.get("parameters", {})
                    code, message = 0, "ok"
                    if service == "ADMIN" and command == "LOGIN":
                        if params.get("Authorization") != self.emulator.access_token:
                            code, message = 3, "Login denied"
                        else:
                            self.subs[ws] = subs
                            self.conns.add(ws)
                    elif service in SERVICES and ws in self.subs:
                        keys = {
                            f"{service}:{k}" for k in str(params.get("keys", "")).split(",") if k
                        }
                        if command == "SUBS":
                            subs.difference_update({k for k in subs if k.startswith(service)})
                        subs.difference_update(keys) if command == "UNSUBS" else subs.update(keys)
                        if service == "LEVELONE_EQUITIES" and command != "UNSUBS":
                            fields = str(params.get("fields", "")).split(",")
                            self.quote_fields[ws] = [f for f in fields if f]
                    else:
                        code, message = 11, f"{service} {command} not served by the emulator"
                    await ws.send(json.dumps({"response": [_response(request, code, message)]}))
                    if code == 3:
                        await ws.close()
                        return
        except (ConnectionClosed, ValueError):
            pass

    async def send(self, rows: list[dict]) -> None:
        for conn, subs in list(self.subs.items()):
            content = [
                _candle(r, self._next()) for r in rows if f"CHART_EQUITY:{r['symbol']}" in subs
            ]
            if content:
                item = {"service": "CHART_EQUITY", "timestamp": content[0]["7"],
                        "command": "SUBS", "content": content}  # fmt: skip
                with contextlib.suppress(ConnectionClosed):
                    await conn.send(json.dumps({"data": [item]}))
                    wall = time.perf_counter()
                    self.emulator.sent += [(wall, c["key"], c["7"] * 1_000_000) for c in content]

    def timed_frames(self, day) -> list:
        """The store's quotes at their time (LEVELONE_EQUITIES)."""
        return [("LEVELONE_EQUITIES", session_frame(self.store, self.tm, day, QUOTES), 0)]

    async def send_timed(self, kind: str, rows: list[dict]) -> None:
        for conn, subs in list(self.subs.items()):
            fields = self.quote_fields.get(conn, [])
            content = [_level_one(r, fields) for r in rows if f"{kind}:{r['symbol']}" in subs]
            if content:
                item = {"service": kind, "timestamp": rows[0]["ns"] // 1_000_000,
                        "command": "SUBS", "content": content}  # fmt: skip
                with contextlib.suppress(ConnectionClosed):
                    await conn.send(json.dumps({"data": [item]}))
                    self.timed_sent[kind] = self.timed_sent.get(kind, 0) + len(content)

    def published(self, rows: list[dict]) -> None:
        for row in rows:
            self.emulator.desk.on_bar(row)

    def closed(self, close_ns: int) -> None:
        self.emulator.desk.end_session(close_ns)

    def _next(self) -> int:
        self.sequence += 1
        return self.sequence


def _level_one(row: dict, fields: list[str]) -> dict:
    """A quote in LEVELONE_EQUITIES' numbered fields (1 bid, 2 ask, 4 bid size, 5 ask size, 34
    quote time in ms), only those the subscription asked for."""
    values = {
        "0": row["symbol"], "1": row["bid_price"], "2": row["ask_price"],
        "4": row["bid_size"], "5": row["ask_size"], "34": row["ns"] // 1_000_000,
    }  # fmt: skip
    return {"key": row["symbol"]} | {f: values[f] for f in fields if f in values}


def _response(request: dict, code: int, message: str) -> dict:
    return {
        "service": request.get("service"),
        "command": request.get("command"),
        "requestid": request.get("requestid"),
        "SchwabClientCorrelId": request.get("SchwabClientCorrelId"),
        "timestamp": 0,
        "content": {"code": code, "msg": message},
    }


def _candle(row: dict, sequence: int) -> dict:
    """A minute candle in CHART_EQUITY's fields: 0 symbol, 1 sequence, 2-5 OHLC, 6 volume,
    7 the minute's start (ms), 8 the chart day."""
    start_ms = row["ns"] // 1_000_000
    return {
        "key": row["symbol"], "0": row["symbol"], "1": sequence, "2": row["open"],
        "3": row["high"], "4": row["low"], "5": row["close"], "6": row["volume"],
        "7": start_ms, "8": start_ms // 86_400_000,
    }  # fmt: skip
