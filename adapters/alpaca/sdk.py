"""The few internals of alpaca-py that simcore touches, in one place, checked at import.

alpaca-py offers no public way to do these, and simcore needs each:

* ``no_retries(client)`` — its REST clients retry a 429 after a fixed 3 s and never a 5xx;
  simcore's history API and broker retry themselves (honouring Retry-After; a submission
  only after asking for its client order id), so the client's own retries are turned off.
* ``scale_backoff(stream, speed)`` — its websocket reconnect backoff (1 s to 30 s of wall
  time) is scaled by a rehearsal clock's rate, so an outage lasts the same session time.
* ``is_running(stream)`` / ``is_connected(stream)`` — whether the stream's loop runs, and
  holds an open socket (a mute-socket reconnect and the trade stream's start need it).
* ``event_loop(stream)`` — the loop its thread runs, to close a socket from another thread.
* ``stop_before_connect(stream)`` — ends a stream whose loop has not started yet (its own
  ``stop`` needs the loop).

Checked against alpaca-py 0.44 (the range ``pyproject.toml`` allows); ``check()`` runs at
import and fails loudly, naming the attribute, if an upgrade renamed one — instead of the
adapter misbehaving silently.
"""

from __future__ import annotations

import asyncio

from alpaca.common.rest import RESTClient
from alpaca.data.live.websocket import DataStream
from alpaca.trading.stream import TradingStream

TESTED = "0.44"
_REST_ATTRIBUTES = ("_retry",)
_STREAM_ATTRIBUTES = (
    "_running",
    "_ws",
    "_loop",
    "_stop_stream_queue",
    "_reconnect_min_backoff",
    "_reconnect_max_backoff",
)


def no_retries(client: RESTClient) -> None:
    client._retry = 0


def scale_backoff(stream: DataStream | TradingStream, speed: float) -> None:
    stream._reconnect_min_backoff = max(0.01, 1.0 / speed)
    stream._reconnect_max_backoff = max(0.05, 30.0 / speed)


def is_running(stream: DataStream | TradingStream) -> bool:
    return bool(stream._running)


def is_connected(stream: DataStream | TradingStream) -> bool:
    return bool(stream._running and stream._ws is not None)


def event_loop(stream: DataStream | TradingStream) -> asyncio.AbstractEventLoop | None:
    return getattr(stream, "_loop", None)


def stop_before_connect(stream: DataStream | TradingStream) -> None:
    stream._stop_stream_queue.put({"should_stop": True})


def check() -> None:
    """Every attribute used above exists on a fresh client and streams."""
    client = RESTClient(base_url="http://127.0.0.1", api_key="k", secret_key="s")
    streams = (DataStream("ws://127.0.0.1", "k", "s"), TradingStream("k", "s"))
    missing = [f"RESTClient.{a}" for a in _REST_ATTRIBUTES if not hasattr(client, a)]
    for stream in streams:
        name = type(stream).__name__
        missing += [f"{name}.{a}" for a in _STREAM_ATTRIBUTES if not hasattr(stream, a)]
    if missing:
        raise ImportError(
            f"alpaca-py changed internals simcore's Alpaca adapter uses ({', '.join(missing)}); "
            f"it was checked against alpaca-py {TESTED}: install that, or update "
            "adapters/alpaca/sdk.py"
        )


check()
