"""Polygon's live market data for the engine: the ``massive`` client's ``WebSocketClient`` on a
thread of its own.

Minute aggregates (``AM``) become ``LiveItem`` bars in the feed's inbox; the session
coordinator takes them from there. The client owns the socket: the connection, the key, the
subscriptions, and its reconnect after a network failure (an abnormal close), when it
subscribes again. Two things it does not do, which the feed adds: a close the server calls
normal ends the client's loop, so the feed starts a new client (after a pause scaled by a
rehearsal clock's rate); and ``reconnect`` (the engine saw a mute socket) closes the socket
abnormally, so that the client connects again.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Sequence

from massive import WebSocketClient
from massive.exceptions import AuthError
from massive.websocket.models import EquityAgg

from adapters.polygon.keys import PolygonKey
from simcore.live_stream import LiveItem

HOST = "socket.massive.com"  # the client's real-time stocks feed


class PolygonFeed:
    def __init__(self, key: PolygonKey, *, url: str | None = None, clock_speed: float = 1.0):
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._key = key
        self.url = url  # ws://host:port/stocks (the emulator); None: Polygon's own feed
        self.clock_speed = clock_speed
        self.client: WebSocketClient | None = None
        self.thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.received = 0
        self.reconnects: list[str] = []
        self.errors: list[str] = []
        self._stopping = False

    def _new_client(self, topics: list[str]) -> WebSocketClient:
        secure, host = True, HOST
        if self.url:
            scheme, _, rest = self.url.partition("://")
            secure, host = scheme == "wss", rest.split("/", 1)[0]
        return WebSocketClient(
            api_key=self._key.key, feed=host, market="stocks", secure=secure,
            subscriptions=topics, max_reconnects=None,
        )  # fmt: skip

    def start(self, symbols: Sequence[str], channels: Sequence[str]) -> None:
        topics = [f"AM.{s}" for s in symbols] if "bars" in channels else []
        self.thread = threading.Thread(
            target=self._run, args=(topics,), name="polygon-feed", daemon=True
        )
        self.thread.start()

    def _run(self, topics: list[str]) -> None:
        loop = self.loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._connect_until_stopped(topics))
        finally:
            # the client's reconnecting connect() is an async generator: close it here, or
            # asyncio reports it destroyed while pending
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _connect_until_stopped(self, topics: list[str]) -> None:
        while not self._stopping:
            self.client = self._new_client(topics)
            try:
                await self.client.connect(self._handle)
            except AuthError as exc:
                self.errors.append(f"Polygon refused the key: {exc}")
                return
            except Exception as exc:
                self.errors.append(f"Polygon stream: {exc}")
            if not self._stopping:
                await asyncio.sleep(min(5.0, 1.0 / self.clock_speed))

    async def _handle(self, messages: list) -> None:
        received = time.perf_counter()
        for m in messages:
            if isinstance(m, EquityAgg) and m.event_type == "AM":
                values = (m.open, m.high, m.low, m.close, m.volume)
                start_ns = int(m.start_timestamp) * 1_000_000
                self.inbox.put(LiveItem("bar", m.symbol, start_ns, values, received))
                self.received += 1

    @property
    def connected(self) -> bool:
        client = self.client
        socket = client.websocket if client is not None else None
        return socket is not None and socket.state.name == "OPEN"

    def _in_loop(self, coroutine, timeout: float = 5.0) -> None:
        loop = self.loop
        if loop is None or not loop.is_running():
            coroutine.close()
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout)

    def reconnect(self, reason: str) -> None:
        """Close the socket abnormally: the client connects again and subscribes again."""
        self.reconnects.append(reason)
        socket = self.client.websocket if self.client is not None else None
        if socket is not None:
            self._in_loop(socket.close(code=1011, reason="simcore: " + reason[:60]))

    def stop(self) -> None:
        self._stopping = True
        socket = self.client.websocket if self.client is not None else None
        if socket is not None:
            self._in_loop(socket.close())  # a normal close: the client's loop ends
        if self.thread is not None:
            self.thread.join(15)
