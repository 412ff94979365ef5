"""The closed vocabularies of a session config: intervals, streams, APIs, indicator kinds.

Kept apart from the models so that the engine (stream marking, the data processor) can import
the interval table without importing pydantic models.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

BarInterval = Literal["1s", "1m", "5m", "10m", "15m", "30m", "1h", "1d"]
Stream = Literal["1s", "1m", "5m", "10m", "15m", "30m", "1h", "1d", "ticks", "quotes"]
# the providers' names, as adapters/registry.py maps them ("paper" is simcore's paper broker);
# a test keeps the two lists equal
DataApi = Literal["alpaca", "schwab", "polygon", "local"]
TradeApi = Literal["alpaca", "schwab", "paper"]
IndicatorType = Literal["trailing_average", "trailing_max", "trailing_min"]
Granularity = Literal["daily", "minute"]
OhlcvField = Literal["open", "high", "low", "close", "volume"]
BarAlignment = Literal["session", "clock"]

BAR_INTERVALS: tuple[str, ...] = ("1s", "1m", "5m", "10m", "15m", "30m", "1h", "1d")
MARKET_DATA_STREAMS: tuple[str, ...] = ("ticks", "quotes")
STREAMS: tuple[str, ...] = BAR_INTERVALS + MARKET_DATA_STREAMS

# Length of every intraday interval; "1d" is one trading session, whatever its length.
INTERVAL_LENGTH: dict[str, timedelta] = {
    "1s": timedelta(seconds=1),
    "1m": timedelta(minutes=1),
    "5m": timedelta(minutes=5),
    "10m": timedelta(minutes=10),
    "15m": timedelta(minutes=15),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
}

# Intervals a store can hold as a base to stream from, smallest first (the design: 1s > 1m > 1d).
BASE_INTERVALS: tuple[str, ...] = ("1s", "1m", "1d")

PERIOD_PATTERN = re.compile(r"^([1-9][0-9]*)([dwmy])$")


def interval_sort_key(interval: str) -> timedelta:
    """Order intervals by length ("1d" last), for ascending-interval processing."""
    return INTERVAL_LENGTH.get(interval, timedelta(days=1))
