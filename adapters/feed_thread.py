"""What a provider's live feed built on an asyncio client shares: the client runs on a thread
with its own event loop, one connection's life at a time, connecting again (after a pause scaled
by a rehearsal clock's rate) until stopped; bars go into ``inbox`` as ``LiveItem`` s.

A feed says what to subscribe to (``topics``) and what one connection does (``session``: connect,
subscribe, receive until the socket closes), and how to close its socket (``close_socket``).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Sequence


class FeedThread:
    name = "feed"

    def __init__(self, clock_speed: float = 1.0):
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.clock_speed = clock_speed
        self.thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.received = 0
        self.reconnects: list[str] = []
        self.errors: list[str] = []
        self.stopping = False

    def topics(self, symbols: Sequence[str], channels: Sequence[str]) -> list[str]:
        raise NotImplementedError

    async def session(self, topics: list[str]) -> None:
        """One connection: connect, subscribe to ``topics``, receive until it closes."""
        raise NotImplementedError

    async def close_socket(self) -> None:
        raise NotImplementedError

    def start(self, symbols: Sequence[str], channels: Sequence[str]) -> None:
        topics = self.topics(symbols, channels)
        self.thread = threading.Thread(
            target=self._run, args=(topics,), name=self.name, daemon=True
        )
        self.thread.start()

    def _run(self, topics: list[str]) -> None:
        loop = self.loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._until_stopped(topics))
        finally:
            # clients that reconnect hold async generators: close them here, or asyncio
            # reports them destroyed while pending
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _until_stopped(self, topics: list[str]) -> None:
        while not self.stopping:
            try:
                await self.session(topics)
            except Exception as exc:  # the socket closed, the client gave up, a refusal
                if not self.stopping:
                    self.errors.append(f"{self.name}: {type(exc).__name__}: {exc}"[:300])
            if not self.stopping:
                await asyncio.sleep(min(5.0, 1.0 / self.clock_speed))

    def reconnect(self, reason: str) -> None:
        """The engine saw a mute socket: close it; the feed connects again."""
        self.reconnects.append(reason)
        run_in_loop(self.loop, self.close_socket())

    def stop(self) -> None:
        self.stopping = True
        run_in_loop(self.loop, self.close_socket())
        if self.thread is not None:
            self.thread.join(15)


def run_in_loop(loop: asyncio.AbstractEventLoop | None, coroutine, timeout: float = 5.0) -> None:
    """Run ``coroutine`` on a feed's event loop from another thread and wait for it; drop it
    if the loop is not running (not connected yet, or gone)."""
    if loop is None or not loop.is_running():
        coroutine.close()
        return
    with contextlib.suppress(Exception):
        asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout)
