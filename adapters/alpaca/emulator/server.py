"""A loopback emulator of Alpaca's market-data APIs, serving a local store.

It speaks Alpaca's wire formats on 127.0.0.1 only, so that alpaca-py's own clients — the
``StockHistoricalDataClient`` (REST, through ``url_override``) and the ``StockDataStream``
(websocket, through ``url_override``) — are what the tests and rehearsals exercise:

* REST ``/v2/stocks/bars`` (1Min and 1Day, paged with ``next_page_token``), ``/v2/stocks/quotes``
  and ``/v2/stocks/trades`` from the store, never anything the emulator's clock has not reached;
* the market-data websocket: ``connected``, ``auth``, ``subscribe``/``unsubscribe``, and bars
  (``b``), updated bars (``u``), quotes (``q``) and trades (``t``) sent when the emulator's clock
  reaches them (a bar when its minute has ended), msgpack-encoded with msgpack timestamps.

Its clock is a ``LiveClock`` — the real time, or the same start instant and rate as the session
it feeds. Keys: when ``key``/``secret`` are given, requests with other keys are refused as
Alpaca refuses them (REST 401/403, websocket ``402 auth failed``).

``Faults`` injects, on demand, the failures live feeds have: dropped connections, a connected
but mute socket, the connection-limit error on reconnect, missing, duplicate, out-of-order and
late bars, updated bars, small REST pages, 429 with Retry-After and 500s. Everything it sends is
logged (``sent``), so a test can check that no bar was lost or doubled on the engine's side.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import polars as pl
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from adapters.alpaca import wire
from adapters.alpaca.emulator.trading import TradingDesk, TradingFaults
from adapters.loopback.server import (
    JsonServer,
    LoopbackEmulator,
    WebsocketServer,
    rows_until,
    session_bars,
)
from simcore.store.parquet import BARS_1D, BARS_1M, QUOTES, TICKS, Dataset, ParquetStore
from simcore.time import LiveClock, TimeManager

MINUTE_NS = 60_000_000_000


@dataclass
class Faults:
    """Failures to inject; times are UTC nanoseconds of the emulator's clock, bars are keyed by
    (symbol, bar start ns)."""

    drop_at: list[int] = field(default_factory=list)  # close every stream connection then
    mute: list[tuple[int, int]] = field(default_factory=list)  # [from, until): open but silent
    down: list[tuple[int, int]] = field(default_factory=list)  # [from, until): stream refused
    refuse_after_drop: int = 0  # reconnects answered "406 connection limit exceeded"
    missing: set[tuple[str, int]] = field(default_factory=set)  # never streamed (REST has it)
    duplicate: set[tuple[str, int]] = field(default_factory=set)  # streamed twice
    reorder: set[int] = field(default_factory=set)  # minutes sent after the next minute
    late: dict[tuple[str, int], float] = field(default_factory=dict)  # virtual seconds late
    updated: dict[tuple[str, int], dict[str, float]] = field(default_factory=dict)  # then a `u`
    page_limit: int | None = None  # REST: at most this many items a page
    rest_429: int = 0  # REST: the next N requests answered 429 with Retry-After
    retry_after_seconds: int = 1
    rest_500: int = 0  # REST: the next N requests answered 500


@dataclass(frozen=True, slots=True)
class Sent:
    """One market-data message the emulator sent: when (perf_counter), what, which bar."""

    wall: float
    kind: str  # b, u, q, t
    symbol: str
    time_ns: int


class AlpacaEmulator(LoopbackEmulator):
    def __init__(
        self,
        store: ParquetStore,
        clock: LiveClock | None = None,
        *,
        key: str | None = None,
        secret: str | None = None,
        faults: Faults | None = None,
        trading: TradingFaults | None = None,
        cash: float = 100_000.0,
        bar_delay_seconds: float = 0.05,
        rest_port: int = 0,
        stream_port: int = 0,
    ):
        self.store = store
        self.clock = clock or LiveClock()
        self.key, self.secret = key, secret
        self.faults = faults or Faults()
        self.bar_delay_ns = int(bar_delay_seconds * 1e9)
        self.tm = TimeManager("US_EQUITY", "EQUITY", "live", clock=self.clock)
        self.desk = TradingDesk(
            cash, trading, self.clock.now_ns
        )  # the account behind /v2/orders and /stream
        self.sent: list[Sent] = []
        self.rest_requests: list[str] = []
        self.auth_failures = 0
        self.connections_opened = 0
        self.trading_connections = 0
        self._trading_conns: set[ServerConnection] = set()
        self._lock = threading.Lock()
        self._conns: dict[ServerConnection, dict[str, set[str]]] = {}
        self._refusals_left = 0
        self._days: dict[date, dict[str, object]] = {}
        self._http = JsonServer(self._answer, "alpaca-emulator", rest_port)
        self._ws = WebsocketServer(
            "alpaca-emulator", self._connection, self._broadcast,
            lambda: [*self._conns, *self._trading_conns], port=stream_port, path="/v2/iex",
        )  # fmt: skip

    # ------------------------------------------------------------------ lifecycle
    @property
    def stream_url(self) -> str:
        """alpaca-py's ``StockDataStream`` URL (market data)."""
        return self._ws.url

    @property
    def trading_stream_url(self) -> str:
        """alpaca-py's ``TradingStream`` URL (trade updates), on the market-data socket's port."""
        return self.stream_url.removesuffix("/v2/iex") + "/stream"

    def _socket(self) -> WebsocketServer:
        return self._ws

    # ------------------------------------------------------------------ store access
    def _rows(
        self, dataset: Dataset, symbols: list[str], start_ns: int, end_ns: int
    ) -> pl.DataFrame:
        return rows_until(self.store, self.clock, dataset, symbols, start_ns, end_ns)

    def _day(self, day: date) -> dict[str, object]:
        """A day's regular-session bars by minute, and its quotes and trades, loaded once."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        open_ns, close_ns, bars = session_bars(self.store, self.tm, day)
        lo = datetime.fromtimestamp(open_ns / 1e9, UTC)
        hi = datetime.fromtimestamp(close_ns / 1e9 + 1e-6, UTC)

        def load(dataset: Dataset) -> list[dict]:
            symbols = self.store.symbols(dataset)
            frame = self.store.read(dataset, symbols, lo, hi, regular_only=True)
            frame = frame.with_columns(pl.col("timestamp").dt.epoch("ns").alias("ns"))
            return sorted(frame.to_dicts(), key=lambda r: r["ns"])

        data = {"open": open_ns, "close": close_ns, "bars": bars}
        data["quotes"], data["trades"] = load(QUOTES), load(TICKS)
        self._days = {day: data}  # keep one day
        return data

    # ------------------------------------------------------------------ REST
    def handle_rest(
        self, path: str, query: dict[str, list[str]], headers
    ) -> tuple[int, dict, dict]:
        """(status, body, extra headers) of a market-data request."""
        self.rest_requests.append(path)
        faults = self.faults
        if faults.rest_429 > 0:
            faults.rest_429 -= 1
            retry = {"Retry-After": str(faults.retry_after_seconds)}
            return 429, {"code": 42910000, "message": "rate limit exceeded"}, retry
        if faults.rest_500 > 0:
            faults.rest_500 -= 1
            return 500, {"code": 50010000, "message": "internal server error"}, {}
        refused = self._refuse_keys(headers)
        if refused is not None:
            return refused
        if path.startswith(("/v2/account", "/v2/orders", "/v2/positions")):
            status, body = self.desk.handle("GET", path, query, None)
            return status, body, {}
        routes = {
            "/v2/stocks/bars": ("bars", None),
            "/v2/stocks/quotes": ("quotes", QUOTES),
            "/v2/stocks/trades": ("trades", TICKS),
        }
        if path not in routes:
            return 404, {"code": 40410000, "message": f"endpoint not found: {path}"}, {}
        name, dataset = routes[path]
        try:
            symbols = [s for s in query["symbols"][0].split(",") if s]
            start_ns = wire.parse_time(query["start"][0]) if "start" in query else 0
            end_ns = wire.parse_time(query["end"][0]) if "end" in query else self.clock.now_ns()
            if dataset is None:
                timeframe = query.get("timeframe", ["1Min"])[0]
                if timeframe not in ("1Min", "1Day"):
                    return (
                        422,
                        {
                            "code": 42210000,
                            "message": f"timeframe {timeframe} is not served by the emulator",
                        },
                        {},
                    )
                dataset = BARS_1M if timeframe == "1Min" else BARS_1D
            limit = int(query.get("limit", ["10000"])[0] or 10000)
            offset = (
                int(base64.b64decode(query["page_token"][0]))
                if query.get("page_token", [""])[0]
                else 0
            )
        except (KeyError, ValueError) as exc:
            return 422, {"code": 42210000, "message": f"invalid request: {exc}"}, {}
        if faults.page_limit:
            limit = min(limit, faults.page_limit)
        rows = self._rows(dataset, symbols, start_ns, end_ns).to_dicts()
        page = rows[offset : offset + limit]
        items: dict[str, list[dict]] = {}
        for row in page:
            items.setdefault(row["symbol"], []).append(_rest_item(name, row))
        more = offset + limit < len(rows)
        token = base64.b64encode(str(offset + limit).encode()).decode() if more else None
        return 200, {name: items, "next_page_token": token}, {}

    def _refuse_keys(self, headers) -> tuple[int, dict, dict] | None:
        if self.key is None:
            return None
        key, secret = headers.get("APCA-API-KEY-ID"), headers.get("APCA-API-SECRET-KEY")
        if not key or not secret:
            return 401, {"code": 40110000, "message": "request is not authorized"}, {}
        if (key, secret) != (self.key, self.secret):
            return 403, {"code": 40310000, "message": "forbidden"}, {}
        return None

    def _answer(self, method: str, path: str, query: dict, headers, body: bytes):
        """Every REST request: market data (GET) or the trading API (the desk)."""
        is_trading = path.startswith(("/v2/account", "/v2/orders", "/v2/positions"))
        if method == "GET" and not is_trading:
            return self.handle_rest(path, query, headers)
        return self.handle_trading(method, path, query, headers, body)

    def handle_trading(self, method: str, path: str, query: dict, headers, body: bytes):
        """POST, DELETE (and GET) of the trading API, answered by the desk."""
        self.rest_requests.append(f"{method} {path}")
        refused = self._refuse_keys(headers)
        if refused is not None:
            return refused
        try:
            document = json.loads(body) if body else None
        except ValueError:
            return 400, {"code": 40010000, "message": "malformed JSON"}, {}
        status, answer = self.desk.handle(method, path, query, document)
        return status, answer, {}

    # ------------------------------------------------------------------ websocket
    async def _connection(self, ws: ServerConnection) -> None:
        if ws.request is not None and ws.request.path.startswith("/stream"):
            await self._trading_connection(ws)
            return
        self.connections_opened += 1
        if _within(self.faults.down, self.clock.now_ns()):
            await ws.close(code=1011, reason="emulated outage")  # the provider is down
            return
        await ws.send(wire.pack([{"T": "success", "msg": "connected"}]))
        try:
            auth = wire.unpack(await asyncio.wait_for(ws.recv(), 10))[0]
        except (TimeoutError, ConnectionClosed):
            return
        if self._refusals_left > 0:
            self._refusals_left -= 1
            await ws.send(wire.pack([_error(406)]))
            await ws.close()
            return
        if auth.get("action") != "auth" or (
            self.key is not None
            and (auth.get("key"), auth.get("secret")) != (self.key, self.secret)
        ):
            self.auth_failures += 1
            await ws.send(wire.pack([_error(402)]))
            await ws.close()
            return
        await ws.send(wire.pack([{"T": "success", "msg": "authenticated"}]))
        subs: dict[str, set[str]] = {c: set() for c in wire.CHANNELS}
        self._conns[ws] = subs
        try:
            async for frame in ws:
                request = wire.unpack(frame)[0]
                action = request.get("action")
                if action not in ("subscribe", "unsubscribe"):
                    await ws.send(wire.pack([_error(400)]))
                    continue
                for channel in wire.CHANNELS:
                    names = set(request.get(channel) or [])
                    if action == "subscribe":
                        subs[channel] |= names
                    else:
                        subs[channel] -= names
                ack = {"T": "subscription"} | {c: sorted(subs[c]) for c in wire.CHANNELS}
                await ws.send(wire.pack([ack]))
        except ConnectionClosed:
            pass
        finally:
            self._conns.pop(ws, None)

    async def _trading_connection(self, ws: ServerConnection) -> None:
        self.trading_connections += 1
        self._trading_conns.add(ws)
        try:
            await self.desk.serve_updates(ws, self.key, self.secret)
        finally:
            self._trading_conns.discard(ws)

    def drop_trading_streams(self) -> None:
        """Close every trade-updates connection (alpaca-py reconnects)."""
        loop = self._ws.loop
        if loop is not None:
            for conn in list(self._trading_conns):
                loop.call_soon_threadsafe(conn.transport.abort)

    async def _sleep_until(self, ns: int) -> None:
        wait = self.clock.wall_seconds_until(ns)
        if wait > 0:
            await asyncio.sleep(wait)

    async def _broadcast(self) -> None:
        """Walk the clock minute by minute through each session, sending what falls due."""
        faults = self.faults
        pending: list[tuple[int, list[dict]]] = []  # (send at, messages): reordered, late, updated
        while True:
            now = self.clock.now_ns()
            day = self.tm.session_date_of(self.tm.from_utc_ns(now))
            session = self.tm.get_trading_session(day)
            if session is None or now >= self.tm.to_utc_ns(session.regular_close):
                nxt = self.tm.get_next_trading_date(day)
                await self._sleep_until(
                    self.tm.to_utc_ns(self.tm.get_trading_session(nxt).regular_open)
                )
                continue
            data = self._day(day)
            open_ns = data["open"]
            start = max(open_ns, open_ns + (now - open_ns) // MINUTE_NS * MINUTE_NS)
            end = min(start + MINUTE_NS, data["close"])
            for kind, rows in (("q", data["quotes"]), ("t", data["trades"])):
                for row in rows:
                    if start < row["ns"] <= end:
                        await self._sleep_until(row["ns"])
                        await self._send_due(pending, row["ns"])
                        await self._send([_tick(kind, row)], row["ns"])
            send_at = end + self.bar_delay_ns
            await self._sleep_until(send_at)
            for drop in [t for t in faults.drop_at if t <= send_at]:
                faults.drop_at.remove(drop)
                self._refusals_left = faults.refuse_after_drop
                for conn in list(self._conns):
                    conn.transport.abort()
            bars = []
            for row in data["bars"].get(start, []):
                self.desk.on_bar(row)
                key = (row["symbol"], row["ns"])
                if key in faults.missing:
                    continue
                message = wire.bar_message(row)
                if key in faults.late:
                    pending.append((send_at + int(faults.late[key] * 1e9), [message]))
                    continue
                bars.append(message)
                if key in faults.duplicate:
                    bars.append(message)
                if key in faults.updated:
                    changed = dict(row) | faults.updated[key]
                    pending.append((send_at + MINUTE_NS // 2, [wire.bar_message(changed, "u")]))
            if start in faults.reorder:
                pending.append((send_at + MINUTE_NS, bars))  # after the next minute's bars
                bars = []
            await self._send_due(pending, send_at)
            if bars:
                await self._send(bars, send_at)
            if end >= data["close"]:
                self.desk.end_session(data["close"])
                await self._sleep_until(end + 1)

    async def _send_due(self, pending: list[tuple[int, list[dict]]], now: int) -> None:
        due = sorted((p for p in pending if p[0] <= now), key=lambda p: p[0])
        for item in due:
            pending.remove(item)
            await self._send(item[1], item[0])

    async def _send(self, messages: list[dict], at_ns: int) -> None:
        if _within(self.faults.mute, at_ns):
            return  # connected, answering pings, sending nothing
        if _within(self.faults.down, at_ns):
            for conn in list(self._conns):
                conn.transport.abort()
            return
        for conn, subs in list(self._conns.items()):
            wanted = [m for m in messages if m["S"] in subs[_CHANNEL[m["T"]]]]
            if not wanted:
                continue
            try:
                await conn.send(wire.pack(wanted))
            except ConnectionClosed:
                continue
            wall = time.perf_counter()
            with self._lock:
                self.sent.extend(Sent(wall, m["T"], m["S"], m["t"].to_unix_nano()) for m in wanted)


_CHANNEL = {"b": "bars", "u": "updatedBars", "q": "quotes", "t": "trades"}


def _within(windows: list[tuple[int, int]], ns: int) -> bool:
    return any(lo <= ns < hi for lo, hi in windows)


def _error(code: int) -> dict:
    return {"T": "error", "code": code, "msg": wire.ERRORS[code]}


def _tick(kind: str, row: dict) -> dict:
    return wire.quote_message(row) if kind == "q" else wire.trade_message(row, row["ns"] % 10**9)


def _rest_item(name: str, row: dict) -> dict:
    if name == "bars":
        return wire.bar_json(row)
    if name == "quotes":
        return {
            "t": wire.rfc3339(row["ns"]),
            "bp": row["bid_price"],
            "bs": row["bid_size"],
            "ap": row["ask_price"],
            "as": row["ask_size"],
            "bx": "V",
            "ax": "V",
            "c": ["R"],
            "z": "C",
        }
    return {
        "t": wire.rfc3339(row["ns"]),
        "p": row["price"],
        "s": row["size"],
        "x": "V",
        "i": 0,
        "c": ["@"],
        "z": "C",
    }
