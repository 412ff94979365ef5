"""Alpaca's live market data for the engine: alpaca-py's ``StockDataStream`` on its own thread.

Every message becomes a ``LiveItem`` in the feed's inbox (bars, updated bars, quotes, trades);
the session coordinator takes them from there. alpaca-py owns the websocket: the connection,
authentication, subscription and its reconnects with backoff. The engine adds what alpaca-py
cannot see: a socket that stays connected and answers pings but sends nothing is noticed by the
coordinator from the missing minutes, and ``reconnect`` closes it so that alpaca-py connects
again. Gap fills come from the history API (``simcore.store.fetching.HistoryGapSource``) and
are kept in the store, as every fetched bar is.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence

from alpaca.data.enums import DataFeed
from alpaca.data.live import StockDataStream

from adapters.alpaca import sdk, wire
from adapters.alpaca.keys import AlpacaKeys
from adapters.feed_thread import run_in_loop
from simcore.providers import LiveItem


class AlpacaFeed:
    def __init__(
        self,
        keys: AlpacaKeys,
        *,
        url: str | None = None,
        feed: str = "iex",
        clock_speed: float = 1.0,
    ):
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._keys = keys
        self.url = url
        self.feed = feed
        self.stream: StockDataStream | None = None
        self.thread: threading.Thread | None = None
        self.received = 0
        self.reconnects: list[str] = []
        # a rehearsal runs the session clock faster than the wall; alpaca-py's reconnect backoff
        # (1 s to 30 s of wall time) is scaled alike, so an outage lasts the same session time
        self.clock_speed = clock_speed

    def start(self, symbols: Sequence[str], channels: Sequence[str]) -> None:
        stream = self.stream = StockDataStream(
            self._keys.key,
            self._keys.secret,
            raw_data=True,
            feed=DataFeed(self.feed),
            url_override=self.url,
        )
        if self.clock_speed != 1.0:
            sdk.scale_backoff(stream, self.clock_speed)
        names = list(symbols)
        if "1m" in channels:
            stream.subscribe_bars(self._handler("bar"), *names)
            stream.subscribe_updated_bars(self._handler("updated"), *names)
        if "quotes" in channels:
            stream.subscribe_quotes(self._handler("quote"), *names)
        if "ticks" in channels:
            stream.subscribe_trades(self._handler("trade"), *names)
        self.thread = threading.Thread(target=stream.run, name="alpaca-feed", daemon=True)
        self.thread.start()

    def _handler(self, kind: str):
        inbox = self.inbox

        async def handle(message: dict) -> None:
            received = time.perf_counter()
            if kind in ("bar", "updated"):
                values = (message["o"], message["h"], message["l"], message["c"], message["v"])
            elif kind == "quote":
                values = (message["bp"], message["bs"], message["ap"], message["as"])
            else:
                values = (message["p"], message["s"])
            self.received += 1
            inbox.put(LiveItem(kind, message["S"], wire.message_time_ns(message), values, received))

        return handle

    @property
    def connected(self) -> bool:
        """Whether alpaca-py holds an open, authenticated socket right now."""
        stream = self.stream
        return stream is not None and sdk.is_connected(stream)

    def _run_in_loop(self, coroutine) -> None:
        run_in_loop(sdk.event_loop(self.stream), coroutine)

    def reconnect(self, reason: str) -> None:
        """Close the socket; alpaca-py connects again (with its backoff) and resubscribes."""
        self.reconnects.append(reason)
        if self.stream is not None:
            self._run_in_loop(self.stream.close())

    def stop(self) -> None:
        """Stop the stream and wait for its thread: stop first, then close the socket so that
        alpaca-py's pending read ends at once instead of at its next 5-second timeout."""
        if self.stream is None or self.thread is None:
            return
        stream = self.stream
        if sdk.event_loop(stream) is None:  # not connected yet: the waiting loop ends
            sdk.stop_before_connect(stream)
        else:
            self._run_in_loop(stream.stop_ws())
            self._run_in_loop(stream.close())
        self.thread.join(15)
