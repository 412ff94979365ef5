"""A loopback emulator of Polygon's REST aggregates API and stocks websocket, serving the store.

``GET /v2/aggs/ticker/{ticker}/range/1/{minute|day}/{from}/{to}`` (from and to: Unix ms or
``YYYY-MM-DD``) answers as Polygon does: ``results`` of ``t`` (ms, bar start), ``o h l c v vw
n``, pages linked by ``next_url``, ``Authorization: Bearer <key>`` checked, and nothing the
clock has not reached. The websocket (``ws://127.0.0.1:PORT/stocks``) speaks Polygon's JSON
protocol: a ``connected`` status, ``auth`` with the key, ``subscribe``/``unsubscribe`` to
``AM.<ticker>``, then every minute's aggregate (``ev: AM``, ``s``/``e`` in ms) once the minute
has ended on the clock. Faults on demand: small pages, 429 with ``Retry-After``, 500s, dropped
connections (closed abnormally, as a network failure is; the client reconnects), minutes never
streamed. It listens on 127.0.0.1 only; the ``massive`` client is pointed at it with its REST
``base`` and its websocket ``feed`` host.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from adapters.local.store import BARS_1D, BARS_1M, ParquetStore
from adapters.loopback import HOST, MINUTE_NS, JsonServer, rows_until, session_bars
from simcore.time import LiveClock, TimeManager

DATASETS = {"minute": BARS_1M, "day": BARS_1D}


@dataclass
class PolygonFaults:
    page_limit: int | None = None  # at most this many aggregates a page
    rest_429: int = 0  # the next N requests answered 429 with Retry-After
    retry_after_seconds: int = 0
    rest_500: int = 0  # the next N requests answered 500
    drop_at: list[int] = field(default_factory=list)  # session ns: every stream closed then
    missing: set[tuple[str, int]] = field(default_factory=set)  # (ticker, bar ns) never streamed


class PolygonEmulator:
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
        self.bar_delay_ns = int(bar_delay_seconds * 1e9)
        self.connections_opened = 0
        self.sent: list[tuple[float, str, int]] = []  # (perf_counter, ticker, bar ns) sent
        self.stream_host = ""  # host:port of the websocket, set when it serves
        self._subs: dict[ServerConnection, set[str]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Future | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def rest_url(self) -> str:
        return self._http.url

    @property
    def stream_url(self) -> str:
        return f"ws://{self.stream_host}/stocks"

    def start(self) -> PolygonEmulator:
        self._http.start()
        self._thread = threading.Thread(target=self._run_stream, name="polygon-emulator-ws")
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the Polygon emulator's websocket did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(
                lambda: self._stopping.done() or self._stopping.set_result(None)
            )
        if self._thread is not None:
            self._thread.join(10)
        self._http.stop()

    def __enter__(self) -> PolygonEmulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

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
            return 400, _error("ERROR", f"the emulator serves 1 minute and 1 day, not {path}"), {}
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

    # ------------------------------------------------------------------ websocket
    def _run_stream(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.get_running_loop().create_future()
        async with serve(self._connection, HOST, 0, ping_interval=None) as server:
            self.stream_host = f"{HOST}:{next(iter(server.sockets)).getsockname()[1]}"
            self._ready.set()
            publisher = asyncio.create_task(self._publish())
            await self._stopping
            publisher.cancel()
            for conn in list(self._subs):
                conn.transport.abort()

    async def _connection(self, ws: ServerConnection) -> None:
        self.connections_opened += 1
        await ws.send(json.dumps([_status("connected", "Connected Successfully")]))
        try:
            auth = json.loads(await asyncio.wait_for(ws.recv(), 10))
        except (TimeoutError, ConnectionClosed, ValueError):
            return
        if auth.get("action") != "auth" or (
            self.key is not None and auth.get("params") != self.key
        ):
            await ws.send(json.dumps([_status("auth_failed", "authentication failed")]))
            await ws.close()
            return
        await ws.send(json.dumps([_status("auth_success", "authenticated")]))
        subs = self._subs[ws] = set()
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
        finally:
            self._subs.pop(ws, None)

    async def _sleep_until(self, ns: int) -> None:
        wait = self.clock.wall_seconds_until(ns)
        if wait > 0:
            await asyncio.sleep(wait)

    async def _publish(self) -> None:
        """Walk the clock minute by minute through each session, sending each minute's
        aggregates once it has ended (and ``bar_delay`` after)."""
        loaded: dict[date, tuple[int, int, dict[int, list[dict]]]] = {}
        while True:
            now = self.clock.now_ns()
            day = self.tm.session_date_of(self.tm.from_utc_ns(now))
            session = self.tm.get_trading_session(day)
            if session is None or now >= self.tm.to_utc_ns(session.regular_close):
                nxt = self.tm.get_trading_session(self.tm.get_next_trading_date(day))
                await self._sleep_until(self.tm.to_utc_ns(nxt.regular_open))
                continue
            if day not in loaded:
                loaded = {day: session_bars(self.store, self.tm, day)}
            open_ns, close_ns, bars = loaded[day]
            start = max(open_ns, open_ns + (now - open_ns) // MINUTE_NS * MINUTE_NS)
            send_at = start + MINUTE_NS + self.bar_delay_ns
            await self._sleep_until(send_at)
            for drop in [t for t in self.faults.drop_at if t <= send_at]:
                self.faults.drop_at.remove(drop)
                for conn in list(self._subs):
                    await conn.close(code=1011, reason="emulated outage")
            rows = [
                r for r in bars.get(start, []) if (r["symbol"], start) not in self.faults.missing
            ]
            await self._send(rows)
            if start + MINUTE_NS >= close_ns:
                await self._sleep_until(close_ns + 1)

    async def _send(self, rows: list[dict]) -> None:
        for conn, subs in list(self._subs.items()):
            wanted = [_minute(r) for r in rows if f"AM.{r['symbol']}" in subs]
            if wanted:
                with contextlib.suppress(ConnectionClosed):
                    await conn.send(json.dumps(wanted))
                    wall = time.perf_counter()
                    self.sent += [(wall, m["sym"], m["s"] * 1_000_000) for m in wanted]


def _status(status: str, message: str) -> dict:
    return {"ev": "status", "status": status, "message": message}


def _minute(row: dict) -> dict:
    """A minute aggregate as Polygon streams it (``AM``)."""
    start_ms = row["ns"] // 1_000_000
    return {
        "ev": "AM",
        "sym": row["symbol"],
        "v": row["volume"],
        "o": row["open"],
        "h": row["high"],
        "l": row["low"],
        "c": row["close"],
        "vw": row.get("vwap"),
        "s": start_ms,
        "e": start_ms + 60_000,
    }


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
