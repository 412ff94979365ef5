"""Time, calendars and timezones: everything goes through :class:`TimeManager` (calendars from
exchange_calendars, the market table, the caches, the live and rehearsal clock).
Imports: ``errors`` only."""

from simcore.time.cache import CacheStats, LookupCache
from simcore.time.clock import LiveClock
from simcore.time.manager import TimeManager, TradingSession
from simcore.time.markets import ASSET_CLASSES, EXCHANGE_GROUPS, MARKETS, MarketSpec, market_for

__all__ = [
    "ASSET_CLASSES",
    "EXCHANGE_GROUPS",
    "MARKETS",
    "CacheStats",
    "LiveClock",
    "LookupCache",
    "MarketSpec",
    "TimeManager",
    "TradingSession",
    "market_for",
]
