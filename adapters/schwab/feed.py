"""Schwab's live market data for the engine: schwab-py's ``StreamClient`` on a thread of its own
(``adapters.feed_thread``).

``login`` asks the REST API for the user's preferences, which say where the streamer is (the
emulator hands out its own address), then logs in with the access token; ``chart_equity_subs``
subscribes to minute candles (CHART_EQUITY), which become ``LiveItem`` bars in the inbox, and
``level_one_equity_subs`` to quotes (LEVELONE_EQUITIES, for ``quotes``). Level one sends only
the fields that changed: the feed keeps each symbol's last bid and ask and puts whole quotes.
schwab-py does not reconnect: when the socket closes, the feed logs in again and subscribes
again; ``reconnect`` (the engine saw a mute socket) closes it for that purpose.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from schwab.client import Client
from schwab.streaming import StreamClient

from adapters.feed_thread import FeedThread
from simcore.providers import LiveItem

# LEVELONE_EQUITIES fields taken, in LiveItem's quote order (bid, bid size, ask, ask size), then
# the quote's time
QUOTE_FIELDS = ("BID_PRICE", "BID_SIZE", "ASK_PRICE", "ASK_SIZE", "QUOTE_TIME_MILLIS")


class SchwabFeed(FeedThread):
    name = "schwab-feed"

    def __init__(self, client: Client, *, clock_speed: float = 1.0):
        super().__init__(clock_speed)
        self.client = client
        self.stream: StreamClient | None = None
        self._online = False
        self._quotes: dict[str, dict[str, float]] = {}  # symbol -> last value of each field

    def topics(self, symbols: Sequence[str], channels: Sequence[str]) -> list[str]:
        """``<channel>:<symbol>`` for the channels the streamer carries (1m, quotes)."""
        return [f"{c}:{s}" for c in ("1m", "quotes") if c in channels for s in symbols]

    async def session(self, topics: list[str]) -> None:
        stream = self.stream = StreamClient(self.client, enforce_enums=False)
        stream.add_chart_equity_handler(self._handle)
        stream.add_level_one_equity_handler(self._handle_quotes)
        by_channel: dict[str, list[str]] = {}
        for topic in topics:
            channel, symbol = topic.split(":", 1)
            by_channel.setdefault(channel, []).append(symbol)
        try:
            await stream.login()
            if by_channel.get("1m"):
                await stream.chart_equity_subs(by_channel["1m"])
            if by_channel.get("quotes"):
                fields = [stream.LevelOneEquityFields[name] for name in QUOTE_FIELDS]
                await stream.level_one_equity_subs(by_channel["quotes"], fields=fields)
            self._online = True
            while not self.stopping:
                await stream.handle_message()
        finally:
            self._online = False
        self._quotes: dict[str, dict[str, float]] = {}  # symbol -> last value of each field

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

    def _handle_quotes(self, message: dict) -> None:
        received = time.perf_counter()
        for update in message.get("content", []):
            quote = self._quotes.setdefault(update["key"], {})
            quote.update({k: v for k, v in update.items() if k in QUOTE_FIELDS})
            if len(quote) < len(QUOTE_FIELDS):
                continue  # not every field known yet (a delta before the first full quote)
            values = tuple(float(quote[name]) for name in QUOTE_FIELDS[:4])
            at_ns = int(quote["QUOTE_TIME_MILLIS"]) * 1_000_000
            self.inbox.put(LiveItem("quote", update["key"], at_ns, values, received))
            self.received += 1

    @property
    def connected(self) -> bool:
        return self._online

    async def close_socket(self) -> None:
        socket = getattr(self.stream, "_socket", None)  # schwab-py keeps it there
        if socket is not None:
            await socket.close()
