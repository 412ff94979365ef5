"""Polygon's live market data for the engine: the ``massive`` client's ``WebSocketClient`` on a
thread of its own (``adapters.feed_thread``).

Minute aggregates (``AM``) become ``LiveItem`` bars in the feed's inbox; the session
coordinator takes them from there. The client owns one connection: the socket, the key and the
subscriptions. Every reconnect is a new client (``max_reconnects=0``): the client's own
reconnect forgets its subscriptions when a connection closes before they were sent (a server
that drops connections at once during an outage does that), and then streams nothing for good.
``reconnect`` (the engine saw a mute socket) closes the socket, and the feed connects again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from massive import WebSocketClient
from massive.exceptions import AuthError
from massive.websocket.models import EquityAgg

from adapters.feed_thread import FeedThread
from adapters.polygon.keys import PolygonKey
from simcore.live_stream import LiveItem

HOST = "socket.massive.com"  # the client's real-time stocks feed


class PolygonFeed(FeedThread):
    name = "polygon-feed"

    def __init__(self, key: PolygonKey, *, url: str | None = None, clock_speed: float = 1.0):
        super().__init__(clock_speed)
        self._key = key
        self.url = url  # ws://host:port/stocks (the emulator); None: Polygon's own feed
        self.client: WebSocketClient | None = None

    def topics(self, symbols: Sequence[str], channels: Sequence[str]) -> list[str]:
        return [f"AM.{s}" for s in symbols] if "bars" in channels else []

    async def session(self, topics: list[str]) -> None:
        secure, host = True, HOST
        if self.url:
            scheme, _, rest = self.url.partition("://")
            secure, host = scheme == "wss", rest.split("/", 1)[0]
        self.client = WebSocketClient(
            api_key=self._key.key, feed=host, market="stocks", secure=secure,
            subscriptions=topics, max_reconnects=0,
        )  # fmt: skip
        try:
            await self.client.connect(self._handle)
        except AuthError as exc:
            self.stopping = True  # a refused key does not get better by retrying
            self.errors.append(f"Polygon refused the key: {exc}")

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
        socket = self.client.websocket if self.client is not None else None
        return socket is not None and socket.state.name == "OPEN"

    async def close_socket(self) -> None:
        socket = self.client.websocket if self.client is not None else None
        if socket is not None:
            await socket.close()
