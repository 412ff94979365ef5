"""Schwab's live market data for the engine: schwab-py's ``StreamClient`` on a thread of its own
(``adapters.feed_thread``).

``login`` asks the REST API for the user's preferences, which say where the streamer is (the
emulator hands out its own address), then logs in with the access token; ``chart_equity_subs``
subscribes to minute candles (CHART_EQUITY), which become ``LiveItem`` bars in the inbox.
schwab-py does not reconnect: when the socket closes, the feed logs in again and subscribes
again; ``reconnect`` (the engine saw a mute socket) closes it for that purpose.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from schwab.client import Client
from schwab.streaming import StreamClient

from adapters.feed_thread import FeedThread
from simcore.live_stream import LiveItem


class SchwabFeed(FeedThread):
    name = "schwab-feed"

    def __init__(self, client: Client, *, clock_speed: float = 1.0):
        super().__init__(clock_speed)
        self.client = client
        self.stream: StreamClient | None = None
        self._online = False

    def topics(self, symbols: Sequence[str], channels: Sequence[str]) -> list[str]:
        return list(symbols) if "bars" in channels else []

    async def session(self, topics: list[str]) -> None:
        stream = self.stream = StreamClient(self.client, enforce_enums=False)
        stream.add_chart_equity_handler(self._handle)
        try:
            await stream.login()
            if topics:
                await stream.chart_equity_subs(topics)
            self._online = True
            while not self.stopping:
                await stream.handle_message()
        finally:
            self._online = False

    def _handle(self, message: dict) -> None:
        received = time.perf_counter()
        for candle in message.get("content", []):
            values = (
                candle["OPEN_PRICE"], candle["HIGH_PRICE"], candle["LOW_PRICE"],
                candle["CLOSE_PRICE"], candle["VOLUME"],
            )  # fmt: skip
            start_ns = int(candle["CHART_TIME_MILLIS"]) * 1_000_000
            self.inbox.put(LiveItem("bar", candle["key"], start_ns, values, received))
            self.received += 1

    @property
    def connected(self) -> bool:
        return self._online

    async def close_socket(self) -> None:
        socket = getattr(self.stream, "_socket", None)  # schwab-py keeps it there
        if socket is not None:
            await socket.close()
