"""Schwab's live market data for the engine: schwab-py's ``StreamClient`` on a thread of its own.

``login`` asks the REST API for the user's preferences, which say where the streamer is (the
emulator hands out its own address), then logs in with the access token; ``chart_equity_subs``
subscribes to minute candles (CHART_EQUITY), which become ``LiveItem`` bars in the inbox.
schwab-py does not reconnect: when the socket closes, the feed logs in again (after a pause
scaled by a rehearsal clock's rate) and subscribes again; ``reconnect`` (the engine saw a mute
socket) closes it for that purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Sequence

from schwab.client import Client
from schwab.streaming import StreamClient

from simcore.live_stream import LiveItem


class SchwabFeed:
    def __init__(self, client: Client, *, clock_speed: float = 1.0):
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.client = client
        self.clock_speed = clock_speed
        self.stream: StreamClient | None = None
        self.thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.received = 0
        self.reconnects: list[str] = []
        self.errors: list[str] = []
        self._stopping = False
        self._online = False

    def start(self, symbols: Sequence[str], channels: Sequence[str]) -> None:
        names = list(symbols) if "bars" in channels else []
        self.thread = threading.Thread(
            target=self._run, args=(names,), name="schwab-feed", daemon=True
        )
        self.thread.start()

    def _run(self, symbols: list[str]) -> None:
        loop = self.loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._stream_until_stopped(symbols))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _stream_until_stopped(self, symbols: list[str]) -> None:
        while not self._stopping:
            stream = self.stream = StreamClient(self.client, enforce_enums=False)
            stream.add_chart_equity_handler(self._handle)
            try:
                await stream.login()
                if symbols:
                    await stream.chart_equity_subs(symbols)
                self._online = True
                while not self._stopping:
                    await stream.handle_message()
            except Exception as exc:  # the socket closed, or the streamer refused
                if not self._stopping:
                    self.errors.append(f"Schwab streamer: {type(exc).__name__}: {exc}"[:300])
            finally:
                self._online = False
            if not self._stopping:
                await asyncio.sleep(min(5.0, 1.0 / self.clock_speed))

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

    def _close_socket(self) -> None:
        socket = getattr(self.stream, "_socket", None)
        loop = self.loop
        if socket is None or loop is None or not loop.is_running():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(socket.close(), loop).result(5)

    def reconnect(self, reason: str) -> None:
        """Close the socket: the feed logs in again and subscribes again."""
        self.reconnects.append(reason)
        self._close_socket()

    def stop(self) -> None:
        self._stopping = True
        self._close_socket()
        if self.thread is not None:
            self.thread.join(15)
