"""Alpaca's market-data wire formats, in one place for the emulator and the client adapter.

REST (``/v2/stocks/bars``): JSON, RFC 3339 times, short keys ``t o h l c v n vw``; quotes
``t ax ap as bx bp bs c z``; trades ``t x p s c i z``. Websocket: msgpack arrays of messages
with ``T`` (``b`` bar, ``u`` updated bar, ``q`` quote, ``t`` trade, ``success``, ``error``,
``subscription``), ``S`` the symbol and ``t`` a msgpack Timestamp (ext type -1).
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgpack

# alpaca-py's TimeFrame as it appears in a request, and the store interval it maps to
TIMEFRAMES = {"1Min": "1m", "1Day": "1d", "1Sec": "1s"}
INTERVAL_TIMEFRAMES = {v: k for k, v in TIMEFRAMES.items()}

# websocket error codes, as Alpaca documents them
ERRORS = {
    400: "invalid syntax",
    401: "not authenticated",
    402: "auth failed",
    403: "already authenticated",
    404: "auth timeout",
    405: "symbol limit exceeded",
    406: "connection limit exceeded",
    407: "slow client",
    409: "insufficient subscription",
    500: "internal error",
}
CHANNELS = ("trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds")


def rfc3339(ns: int) -> str:
    """UTC nanoseconds as Alpaca writes times: ``2025-07-01T13:30:00Z``."""
    seconds, rest = divmod(ns, 1_000_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{rest:09d}Z".replace(".000000000Z", "Z")


def parse_time(text: str) -> int:
    """An RFC 3339 / ISO 8601 time (``Z`` or an offset) as UTC nanoseconds."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # alpaca-py: naive inputs are UTC
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def bar_json(row: dict) -> dict:
    """A store bar row (``ns`` = bar start) as a REST bar."""
    return {
        "t": rfc3339(row["ns"]),
        "o": row["open"],
        "h": row["high"],
        "l": row["low"],
        "c": row["close"],
        "v": row["volume"],
        "n": row.get("trade_count"),  # null when the store does not know them
        "vw": row.get("vwap"),
    }


def bar_message(row: dict, kind: str = "b") -> dict:
    """A store bar row as a websocket bar (``b``) or updated bar (``u``) message."""
    return {
        "T": kind,
        "S": row["symbol"],
        "o": row["open"],
        "h": row["high"],
        "l": row["low"],
        "c": row["close"],
        "v": row["volume"],
        "t": msgpack.Timestamp.from_unix_nano(row["ns"]),
        "n": row.get("trade_count"),
        "vw": row.get("vwap"),
    }


def quote_message(row: dict) -> dict:
    return {
        "T": "q",
        "S": row["symbol"],
        "bx": "V",
        "bp": row["bid_price"],
        "bs": row["bid_size"],
        "ax": "V",
        "ap": row["ask_price"],
        "as": row["ask_size"],
        "t": msgpack.Timestamp.from_unix_nano(row["ns"]),
        "c": ["R"],
        "z": "C",
    }


def trade_message(row: dict, trade_id: int) -> dict:
    return {
        "T": "t",
        "S": row["symbol"],
        "i": trade_id,
        "x": "V",
        "p": row["price"],
        "s": row["size"],
        "t": msgpack.Timestamp.from_unix_nano(row["ns"]),
        "c": ["@"],
        "z": "C",
    }


def message_time_ns(message: dict) -> int:
    """The ``t`` of a websocket message, whatever form alpaca-py left it in."""
    t = message["t"]
    if isinstance(t, msgpack.Timestamp):
        return t.to_unix_nano()
    if isinstance(t, datetime):
        return int(t.timestamp()) * 1_000_000_000 + t.microsecond * 1000
    return parse_time(str(t))


def pack(messages: list[dict]) -> bytes:
    return msgpack.packb(messages, datetime=False)


def unpack(frame: bytes | str) -> list[dict]:
    data = msgpack.unpackb(frame if isinstance(frame, bytes) else frame.encode())
    return data if isinstance(data, list) else [data]
