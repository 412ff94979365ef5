"""A loopback emulator of Polygon's REST aggregates API and stocks websocket, serving the store.

``GET /v2/aggs/ticker/{ticker}/range/1/{second|minute|day}/{from}/{to}`` (from and to: Unix ms or
``YYYY-MM-DD``) answers as Polygon does: ``results`` of ``t`` (ms, bar start), ``o h l c v vw
n``, pages linked by ``next_url``, ``Authorization: Bearer <key>`` checked, and nothing the
clock has not reached. The websocket (``ws://127.0.0.1:PORT/stocks``) speaks Polygon's JSON
protocol: a ``connected`` status, ``auth`` with the key, ``subscribe``/``unsubscribe`` to
``AM.<ticker>``, ``A.<ticker>``, ``Q.<ticker>`` and ``T.<ticker>``, then every minute's aggregate
(``ev: AM``, ``s``/``e`` in ms) once the minute has ended on the clock, every second's
(``ev: A``) once the second has, and the store's quotes (``Q``) and trades (``T``) at their
time (where the store holds 1s bars, quotes or trades). Faults on demand: small pages, 429 with ``Retry-After``, 500s, dropped
connections (closed abnormally, as a network failure is; the client reconnects), minutes never
streamed. It listens on 127.0.0.1 only; the ``massive`` client is pointed at it with its REST
``base`` and its websocket ``feed`` host.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import date

import polars as pl
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from adapters.loopback.server import (
    SECOND_NS,
    JsonServer,
    MinuteStream,
    MinuteStreamEmulator,
    rows_until,
    session_frame,
)
from simcore.store.parquet import BARS_1D, BARS_1M, BARS_1S, QUOTES, TICKS, ParquetStore
from simcore.time import LiveClock, TimeManager

DATASETS = {"second": BARS_1S, "minute": BARS_1M, "day": BARS_1D}


@dataclass
class PolygonFaults:
    page_limit: int | None = None  # at most this many aggregates a page
    rest_429: int = 0  # the next N requests answered 429 with Retry-After
    retry_after_seconds: int = 0
    rest_500: int = 0  # the next N requests answered 500
    drop_at: list[int] = field(default_factory=list)  # session ns: every stream closed then
    missing: set[tuple[str, int]] = field(default_factory=set)  # (ticker, bar ns) never streamed
    down: list[tuple[int, int]] = field(default_factory=list)  # [from, until): stream refused


class PolygonEmulator(MinuteStreamEmulator):
    def __init__(
        self,
        store: ParquetStore,
        clock: LiveClock | None = None,
        *,
        key: str | None = None,
        faults: PolygonFaults | None = None,
        rest_port: int = 0,
        bar_delay_seconds: float = 0.05,
    ):
        self.store = store
        self.clock = clock or LiveClock()
        self.key = key
        self.faults = faults or PolygonFaults()
        self.tm = TimeManager("US_EQUITY", "EQUITY", "live", clock=self.clock)
        self.rest_requests: list[str] = []
        self._http = JsonServer(self.handle, "polygon-emulator", rest_port)
        self.sent: list[tuple[float, str, int]] = []  # (perf_counter, ticker, bar ns) sent
        self.stream = _PolygonStream(
            self, store, self.clock, self.tm, path="/stocks",
            bar_delay_ns=int(bar_delay_seconds * 1e9), drop_at=self.faults.drop_at,
            missing=self.faults.missing, name="polygon-emulator", down=self.faults.down,
        )  # fmt: skip

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers, body=b""):
        self.rest_requests.append(path)
        faults = self.faults
        if faults.rest_429 > 0:
            faults.rest_429 -= 1
            retry = {"Retry-After": str(faults.retry_after_seconds)}
            return 429, _error("ERROR", "You've exceeded the maximum requests per minute"), retry
        if faults.rest_500 > 0:
            faults.rest_500 -= 1
            return 500, _error("ERROR", "internal server error"), {}
        if self.key is not None and headers.get("Authorization") != f"Bearer {self.key}":
            return 401, _error("ERROR", "Unknown API Key"), {}
        parts = path.strip("/").split("/")
        if len(parts) != 9 or parts[:3] != ["v2", "aggs", "ticker"] or parts[4] != "range":
            return 404, _error("NOT_FOUND", f"no route {path}"), {}
        ticker, multiplier, timespan, lo, hi = parts[3], parts[5], parts[6], parts[7], parts[8]
        if multiplier != "1" or timespan not in DATASETS:
            return (
                400,
                _error("ERROR", f"the emulator serves 1 second, 1 minute and 1 day, not {path}"),
                {},
            )
        try:
            start_ns, end_ns = self._bound(lo, False), self._bound(hi, True)
            limit = int(query.get("limit", ["5000"])[0])
            offset = int(base64.b64decode(query["cursor"][0])) if "cursor" in query else 0
        except ValueError as exc:
            return 400, _error("ERROR", f"invalid request: {exc}"), {}
        if faults.page_limit:
            limit = min(limit, faults.page_limit)
        frame = rows_until(self.store, self.clock, DATASETS[timespan], [ticker], start_ns, end_ns)
        page = frame.slice(offset, limit).to_dicts()
        body: dict[str, object] = {
            "ticker": ticker,
            "adjusted": query.get("adjusted", ["true"])[0] == "true",
            "queryCount": len(page),
            "resultsCount": len(page),
            "status": "OK",
            "request_id": uuid.uuid4().hex,
        }
        if page:
            body["results"] = [_aggregate(row) for row in page]
        if offset + limit < frame.height:
            cursor = base64.b64encode(str(offset + limit).encode()).decode()
            body["next_url"] = f"{self.rest_url}{path}?cursor={cursor}&limit={limit}"
        return 200, body, {}

    def _bound(self, text: str, end: bool) -> int:
        if text.isdigit():
            return int(text) * 1_000_000
        day = date.fromisoformat(text)
        label = self.tm.daily_bar_label_ns(day)
        return label + 86_400_000_000_000 - 1 if end else label


class _PolygonStream(MinuteStream):
    """Polygon's stocks websocket: JSON arrays; ``auth`` with the key, ``subscribe`` to
    ``AM.<ticker>``, then minute aggregates."""

    def __init__(self, emulator: PolygonEmulator, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.emulator = emulator

    async def connection(self, ws: ServerConnection) -> None:
        await ws.send(json.dumps([_status("connected", "Connected Successfully")]))
        try:
            auth = json.loads(await asyncio.wait_for(ws.recv(), 10))
        except (TimeoutError, ConnectionClosed, ValueError):
            return
        key = self.emulator.key
        if auth.get("action") != "auth" or (key is not None and auth.get("params") != key):
            await ws.send(json.dumps([_status("auth_failed", "authentication failed")]))
            await ws.close()
            return
        await ws.send(json.dumps([_status("auth_success", "authenticated")]))
        subs = self.subs[ws] = set()
        self.conns.add(ws)
        try:
            async for frame in ws:
                request = json.loads(frame)
                topics = {t for t in str(request.get("params", "")).split(",") if t}
                if request.get("action") == "subscribe":
                    subs |= topics
                elif request.get("action") == "unsubscribe":
                    subs -= topics
                verb = "subscribed to" if request.get("action") == "subscribe" else "unsubscribed"
                await ws.send(json.dumps([_status("success", f"{verb}: {t}") for t in topics]))
        except (ConnectionClosed, ValueError):
            pass

    async def send(self, rows: list[dict]) -> None:
        await self.send_timed("AM", rows)

    def timed_frames(self, day) -> list[tuple[str, pl.DataFrame, int]]:
        """Second aggregates at the end of their second (and the bar delay), quotes and trades
        at their stamp, from what the store holds for the day."""
        return [
            ("A", session_frame(self.store, self.tm, day, BARS_1S), SECOND_NS + self.bar_delay_ns),
            ("Q", session_frame(self.store, self.tm, day, QUOTES), 0),
            ("T", session_frame(self.store, self.tm, day, TICKS), 0),
        ]

    async def send_timed(self, kind: str, rows: list[dict]) -> None:
        """Send ``rows`` as Polygon's ``kind`` events to every connection subscribed to them."""
        form = _FORMS[kind]
        for conn, subs in list(self.subs.items()):
            wanted = [form(r) for r in rows if f"{kind}.{r['symbol']}" in subs]
            if wanted:
                with contextlib.suppress(ConnectionClosed):
                    await conn.send(json.dumps(wanted))
                    self.timed_sent[kind] = self.timed_sent.get(kind, 0) + len(wanted)
                    if kind in ("AM", "A"):
                        wall = time.perf_counter()
                        self.emulator.sent += [(wall, m["sym"], m["s"] * 1_000_000) for m in wanted]


def _status(status: str, message: str) -> dict:
    return {"ev": "status", "status": status, "message": message}


def _minute(row: dict, event: str = "AM", length_ms: int = 60_000) -> dict:
    """A minute aggregate as Polygon streams it (``AM``; ``A`` for a second's)."""
    start_ms = row["ns"] // 1_000_000
    return {
        "ev": event,
        "sym": row["symbol"],
        "v": row["volume"],
        "o": row["open"],
        "h": row["high"],
        "l": row["low"],
        "c": row["close"],
        "vw": row.get("vwap"),
        "s": start_ms,
        "e": start_ms + length_ms,
    }


def _second(row: dict) -> dict:
    return _minute(row, "A", 1_000)


def _quote(row: dict) -> dict:
    """A quote as Polygon streams it (``Q``: prices, sizes, SIP time in ms)."""
    return {
        "ev": "Q", "sym": row["symbol"], "bx": 12, "bp": row["bid_price"], "bs": row["bid_size"],
        "ax": 12, "ap": row["ask_price"], "as": row["ask_size"], "c": 0,
        "t": row["ns"] // 1_000_000, "z": 3,
    }  # fmt: skip


def _trade(row: dict) -> dict:
    """A trade as Polygon streams it (``T``)."""
    return {
        "ev": "T", "sym": row["symbol"], "x": 12, "i": str(row["ns"]), "z": 3,
        "p": row["price"], "s": row["size"], "t": row["ns"] // 1_000_000,
    }  # fmt: skip


_FORMS = {"AM": _minute, "A": _second, "Q": _quote, "T": _trade}


def _aggregate(row: dict) -> dict:
    return {
        "t": row["ns"] // 1_000_000,
        "o": row["open"],
        "h": row["high"],
        "l": row["low"],
        "c": row["close"],
        "v": row["volume"],
        "vw": row.get("vwap"),
        "n": row.get("trade_count"),
    }


def _error(status: str, message: str) -> dict:
    return {"status": status, "request_id": uuid.uuid4().hex, "error": message}
