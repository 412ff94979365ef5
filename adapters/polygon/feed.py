"""Polygon's live market data for the engine: the ``massive`` client's ``WebSocketClient`` on a
thread of its own (``adapters.feed_thread``).

The channels the engine asks for map onto Polygon's stocks topics: ``1m`` minute aggregates
(``AM``), ``1s`` second aggregates (``A``), ``quotes`` (``Q``) and ``ticks`` trades (``T``).
Each message becomes a ``LiveItem`` in the feed's inbox (bars, quotes, trades); the session
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
from massive.websocket.models import EquityAgg, EquityQuote, EquityTrade

from adapters.feed_thread import FeedThread
from adapters.polygon.keys import PolygonKey
from simcore.providers import LiveItem

HOST = "socket.massive.com"  # the client's real-time stocks feed
TOPICS = {"1m": "AM", "1s": "A", "quotes": "Q", "ticks": "T"}  # channel -> Polygon's prefix
BAR_EVENTS = {"AM", "A"}  # the minute's and the second's aggregates


class PolygonFeed(FeedThread):
    name = "polygon-feed"

    def __init__(self, key: PolygonKey, *, url: str | None = None, clock_speed: float = 1.0):
        super().__init__(clock_speed)
        self._key = key
        self.url = url  # ws://host:port/stocks (the emulator); None: Polygon's own feed
        self.client: WebSocketClient | None = None

    def topics(self, symbols: Sequence[str], channels: Sequence[str]) -> list[str]:
        prefixes = [TOPICS[c] for c in channels if c in TOPICS]
        return [f"{prefix}.{s}" for prefix in prefixes for s in symbols]

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
            if isinstance(m, EquityAgg) and m.event_type in BAR_EVENTS:
                values = (m.open, m.high, m.low, m.close, m.volume)
                item = LiveItem(
                    "bar", m.symbol, int(m.start_timestamp) * 1_000_000, values, received
                )
            elif isinstance(m, EquityQuote):
                values = (m.bid_price, m.bid_size, m.ask_price, m.ask_size)
                item = LiveItem("quote", m.symbol, int(m.timestamp) * 1_000_000, values, received)
            elif isinstance(m, EquityTrade):
                values = (m.price, m.size)
                item = LiveItem("trade", m.symbol, int(m.timestamp) * 1_000_000, values, received)
            else:
                continue
            self.inbox.put(item)
            self.received += 1

    @property
    def connected(self) -> bool:
        socket = self.client.websocket if self.client is not None else None
        return socket is not None and socket.state.name == "OPEN"

    async def close_socket(self) -> None:
        socket = self.client.websocket if self.client is not None else None
        if socket is not None:
            await socket.close()
