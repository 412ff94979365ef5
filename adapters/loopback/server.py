"""What every provider's loopback emulator shares: a JSON-over-HTTP server on 127.0.0.1 that
stops every keep-alive connection with it, and the store's rows as far as the clock has come.

Emulators never listen beyond 127.0.0.1. A handler is a function of (method, path, query,
headers, body bytes) returning (status, JSON-able answer or None, extra headers).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlparse

import numpy as np
import polars as pl
from websockets.asyncio.server import ServerConnection, serve

from simcore.store.parquet import BARS_1D, BARS_1M, BARS_1S, Dataset, ParquetStore
from simcore.time import LiveClock

HOST = "127.0.0.1"
MINUTE_NS = 60_000_000_000
SECOND_NS = 1_000_000_000
JsonHandler = Callable[[str, str, dict[str, list[str]], object, bytes], tuple[int, object, dict]]


class JsonServer:
    """A threaded HTTP server answering JSON from ``handle`` (GET, POST, DELETE, PATCH).
    ``stop`` ends every request thread (keep-alive clients included): none is left behind."""

    def __init__(self, handle: JsonHandler, name: str, port: int = 0):
        self.name = name
        self._conns: set[socket.socket] = set()
        self._http = ThreadingHTTPServer((HOST, port), _handler(handle, self._conns))
        self._http.daemon_threads = False  # server_close() joins every request thread
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._http.server_address[1]}"

    def start(self) -> JsonServer:
        self._thread = threading.Thread(
            target=self._http.serve_forever, name=f"{self.name}-rest", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        for conn in list(self._conns):  # keep-alive clients: end their request threads
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._http.server_close()
        if self._thread is not None:
            self._thread.join(5)


def _handler(handle: JsonHandler, conns: set[socket.socket]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in two writes: without this, Nagle's algorithm holds the body
        # until the client's delayed ACK, 40 ms for every answer
        disable_nagle_algorithm = True

        def setup(self) -> None:
            super().setup()
            conns.add(self.connection)

        def finish(self) -> None:
            conns.discard(self.connection)
            super().finish()

        def _answer(self, method: str) -> None:
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, answer, extra = handle(
                method, url.path, parse_qs(url.query), self.headers, body
            )
            payload = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def do_DELETE(self) -> None:
            self._answer("DELETE")

        def do_PATCH(self) -> None:
            self._answer("PATCH")

        def log_message(self, *args) -> None:  # quiet: requests are counted, not printed
            pass

    return Handler


def rows_until(
    store: ParquetStore,
    clock: LiveClock,
    dataset: Dataset,
    symbols: list[str],
    start_ns: int,
    end_ns: int,
) -> pl.DataFrame:
    """The store's rows with start <= t <= end and nothing the clock has not reached (a
    second or minute bar: its end; a daily bar: its day's start), by symbol and time, with
    ``ns``."""
    start = datetime.fromtimestamp(start_ns / 1e9, UTC)
    end = datetime.fromtimestamp(end_ns / 1e9 + 1e-6, UTC)
    frame = store.read(dataset, symbols, start, end)
    frame = frame.with_columns(pl.col("timestamp").dt.epoch("ns").alias("ns"))
    now = clock.now_ns()
    if dataset in (BARS_1S, BARS_1M):
        length = MINUTE_NS if dataset == BARS_1M else SECOND_NS
        frame = frame.filter(pl.col("ns") + length <= now)
    elif dataset == BARS_1D:
        frame = frame.filter(pl.col("ns") < now)
    else:
        frame = frame.filter(pl.col("ns") <= now)
    return frame.filter(pl.col("ns") <= end_ns).sort("symbol", "ns")


def session_bars(store: ParquetStore, tm, day) -> tuple[int, int, dict[int, list[dict]]]:
    """A day's regular-session 1m bars of every stored symbol, by bar start: (open ns,
    close ns, bars). What a loopback stream publishes minute by minute."""
    session = tm.get_trading_session(day)
    open_ns = tm.to_utc_ns(session.regular_open)
    close_ns = tm.to_utc_ns(session.regular_close)
    lo = datetime.fromtimestamp(open_ns / 1e9, UTC)
    hi = datetime.fromtimestamp(close_ns / 1e9 + 1e-6, UTC)
    frame = store.read(BARS_1M, store.symbols(BARS_1M), lo, hi, regular_only=True)
    bars: dict[int, list[dict]] = {}
    for row in frame.with_columns(pl.col("timestamp").dt.epoch("ns").alias("ns")).to_dicts():
        bars.setdefault(row["ns"], []).append(row)
    return open_ns, close_ns, bars


def session_frame(store: ParquetStore, tm, day, dataset: Dataset) -> pl.DataFrame:
    """A day's regular-session rows of ``dataset`` (1s bars, quotes, trades) for every stored
    symbol, with ``ns``, in time order."""
    session = tm.get_trading_session(day)
    lo = datetime.fromtimestamp(tm.to_utc_ns(session.regular_open) / 1e9, UTC)
    hi = datetime.fromtimestamp(tm.to_utc_ns(session.regular_close) / 1e9 + 1e-6, UTC)
    frame = store.read(dataset, store.symbols(dataset), lo, hi, regular_only=True)
    return frame.with_columns(pl.col("timestamp").dt.epoch("ns").alias("ns")).sort("ns", "symbol")


class WebsocketServer:
    """A websocket server on 127.0.0.1 on a thread and event loop of its own, with one task
    beside it (what the emulator publishes). ``stop`` ends both, aborts the connections still
    open and raises what made the task fail: an emulator that broke must not pass for a
    provider that went quiet."""

    def __init__(
        self,
        name: str,
        handler: Callable[[ServerConnection], Awaitable[None]],
        publisher: Callable[[], Awaitable[None]],
        connections: Callable[[], Iterable[ServerConnection]],
        *,
        port: int = 0,
        path: str = "",
    ):
        self.name, self.port, self.path = name, port, path
        self._handler, self._publisher, self._connections = handler, publisher, connections
        self.url = ""
        self.failure: Exception | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Future | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-ws", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"the {self.name} websocket did not start")

    def stop(self) -> None:
        if self.loop is not None and self._stopping is not None:
            self.loop.call_soon_threadsafe(
                lambda: self._stopping.done() or self._stopping.set_result(None)
            )
        if self._thread is not None:
            self._thread.join(10)
        if self.failure is not None:
            raise RuntimeError(f"the {self.name} stream failed") from self.failure

    def _run(self) -> None:
        loop = self.loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.get_running_loop().create_future()
        async with serve(self._handler, HOST, self.port, ping_interval=None) as server:
            self.url = f"ws://{HOST}:{next(iter(server.sockets)).getsockname()[1]}{self.path}"
            self._ready.set()
            publisher = asyncio.create_task(self._publish())
            await self._stopping
            publisher.cancel()
            for conn in list(self._connections()):
                conn.transport.abort()

    async def _publish(self) -> None:
        try:
            await self._publisher()
        except Exception as exc:
            self.failure = exc
            raise


class MinuteStream:
    """A loopback websocket that publishes each session minute's bars at the clock: a server
    thread of its own, the walk through the sessions, dropped connections and missing minutes
    on demand. A provider's emulator says how a connection talks (``connection``) and how a
    minute's rows are sent (``send``); ``conns`` are the connections a drop closes."""

    def __init__(
        self,
        store: ParquetStore,
        clock: LiveClock,
        tm,
        *,
        path: str,
        bar_delay_ns: int,
        drop_at: list[int],
        missing: set[tuple[str, int]],
        name: str,
        down: list[tuple[int, int]] | None = None,
    ):
        self.store, self.clock, self.tm = store, clock, tm
        self.path, self.bar_delay_ns, self.name = path, bar_delay_ns, name
        self.drop_at, self.missing = drop_at, missing
        self.down = down if down is not None else []  # [from, until): the stream is refused
        self.conns: set = set()  # logged-in connections: a drop closes them
        self.subs: dict = {}  # connection -> what it subscribed to (the emulator's words)
        self.connections_opened = 0
        self.timed_sent: dict[str, int] = {}  # kind -> rows sent between the minute bars
        self.server = WebsocketServer(
            name, self._counted, self._walk, lambda: self.conns, path=path
        )

    async def connection(self, ws) -> None:
        raise NotImplementedError

    async def send(self, rows: list[dict]) -> None:
        raise NotImplementedError

    def timed_frames(self, day) -> list[tuple[str, pl.DataFrame, int]]:
        """What is sent between the minute bars at its own time: (kind, the day's rows with
        ``ns`` in time order, delay after ``ns``): second bars once their second has ended,
        quotes and trades at their stamp. A provider whose socket carries only minute bars
        sends nothing between them."""
        return []

    async def send_timed(self, kind: str, rows: list[dict]) -> None:
        """Send rows of one kind due at one time (``timed_frames``)."""

    def published(self, rows: list[dict]) -> None:
        """Every row of a minute, streamed or not (an emulated account fills on them)."""

    def closed(self, close_ns: int) -> None:
        """The session closed (an emulated account's DAY orders expire)."""

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def _is_down(self, ns: int) -> bool:
        return any(lo <= ns < hi for lo, hi in self.down)

    async def _counted(self, ws) -> None:
        self.connections_opened += 1
        if self._is_down(self.clock.now_ns()):
            await ws.close(code=1011, reason="emulated outage")  # the provider is down
            return
        try:
            await self.connection(ws)
        finally:
            self.subs.pop(ws, None)
            self.conns.discard(ws)

    async def _sleep_until(self, ns: int) -> None:
        wait = self.clock.wall_seconds_until(ns)
        if wait > 0:
            await asyncio.sleep(wait)

    async def _walk(self) -> None:
        """Walk the clock minute by minute through each session, sending each minute's bars
        once it has ended (and ``bar_delay`` after), and what falls due between them."""
        loaded: dict = {}
        while True:
            now = self.clock.now_ns()
            day = self.tm.session_date_of(self.tm.from_utc_ns(now))
            session = self.tm.get_trading_session(day)
            if session is None or now >= self.tm.to_utc_ns(session.regular_close):
                nxt = self.tm.get_trading_session(self.tm.get_next_trading_date(day))
                await self._sleep_until(self.tm.to_utc_ns(nxt.regular_open))
                continue
            if day not in loaded:
                timed = [
                    (kind, frame, frame["ns"].to_numpy() + delay)
                    for kind, frame, delay in self.timed_frames(day)
                ]
                loaded = {day: (session_bars(self.store, self.tm, day), timed, [now - 1])}
            (open_ns, close_ns, bars), timed, sent_until = loaded[day]
            start = max(open_ns, open_ns + (now - open_ns) // MINUTE_NS * MINUTE_NS)
            send_at = start + MINUTE_NS + self.bar_delay_ns
            await self._send_timed(timed, sent_until[0], send_at)
            sent_until[0] = send_at
            await self._sleep_until(send_at)
            dropped = [t for t in self.drop_at if t <= send_at]
            for drop in dropped:
                self.drop_at.remove(drop)
            if dropped or self._is_down(send_at):
                for conn in list(self.conns):  # abnormally, as a network failure closes
                    await conn.close(code=1011, reason="emulated outage")
            self.published(bars.get(start, []))
            await self.send(
                [r for r in bars.get(start, []) if (r["symbol"], start) not in self.missing]
            )
            if start + MINUTE_NS >= close_ns:
                self.closed(close_ns)
                await self._sleep_until(close_ns + 1)

    async def _send_timed(self, timed: list, after_ns: int, until_ns: int) -> None:
        """Send the timed rows due in (after, until], each at its time, grouped by time and
        kind (read per minute: a day of second bars is millions of rows)."""
        events: list[tuple[int, int, str, dict]] = []
        for number, (kind, frame, times) in enumerate(timed):
            lo, hi = np.searchsorted(times, [after_ns, until_ns], side="right")
            rows = frame.slice(int(lo), int(hi - lo)).to_dicts()
            events += [
                (int(t), number, kind, r)
                for t, r in zip(times[lo:hi], rows, strict=True)
                if (r["symbol"], r["ns"]) not in self.missing
            ]
        events.sort(key=lambda e: (e[0], e[1]))
        i = 0
        while i < len(events):
            at, number, kind = events[i][0], events[i][1], events[i][2]
            j = i
            while j < len(events) and events[j][0] == at and events[j][1] == number:
                j += 1
            await self._sleep_until(at)
            await self.send_timed(kind, [e[3] for e in events[i:j]])
            i = j


class LoopbackEmulator:
    """What a provider's emulator is made of: a REST server (``_http``) and a websocket
    (``_socket()``: a ``MinuteStream`` or a ``WebsocketServer``), started and stopped together,
    on 127.0.0.1. A provider's emulator builds both in its ``__init__`` and says how they
    answer."""

    _http: JsonServer

    def _socket(self) -> MinuteStream | WebsocketServer:
        raise NotImplementedError

    @property
    def rest_url(self) -> str:
        return self._http.url

    def start(self) -> Self:
        self._http.start()
        self._socket().start()
        return self

    def stop(self) -> None:
        try:
            self._socket().stop()
        finally:
            self._http.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class MinuteStreamEmulator(LoopbackEmulator):
    """An emulator whose websocket is a ``MinuteStream`` (``stream``): Polygon's, Schwab's."""

    stream: MinuteStream

    def _socket(self) -> MinuteStream:
        return self.stream

    @property
    def connections_opened(self) -> int:
        return self.stream.connections_opened

    @property
    def stream_url(self) -> str:
        return self.stream.url
