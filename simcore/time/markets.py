"""The one table from (exchange_group, asset_class) to a trading calendar and timezone.

The design says the timezone is *derived* from exchange_group + asset_class and never configured.
This module is the only place that knows the mapping; everything else asks the TimeManager.
"""

from __future__ import annotations

from dataclasses import dataclass

EXCHANGE_GROUPS = ("US_EQUITY", "CRYPTO", "FOREX", "COMMODITIES")
ASSET_CLASSES = ("EQUITY", "CRYPTO", "OPTIONS", "FUTURES")


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """Where a session trades: the exchange_calendars calendar name and the system timezone."""

    exchange_group: str
    asset_class: str
    calendar: str
    timezone: str
    description: str


# Combinations not listed here are invalid; the config validator reports them.
MARKETS: dict[tuple[str, str], MarketSpec] = {
    ("US_EQUITY", "EQUITY"): MarketSpec(
        "US_EQUITY", "EQUITY", "XNYS", "America/New_York", "NYSE regular session"
    ),
    ("US_EQUITY", "OPTIONS"): MarketSpec(
        "US_EQUITY", "OPTIONS", "XNYS", "America/New_York", "US listed options, NYSE hours"
    ),
    ("CRYPTO", "CRYPTO"): MarketSpec("CRYPTO", "CRYPTO", "24/7", "UTC", "crypto, 24/7, UTC days"),
    ("FOREX", "FUTURES"): MarketSpec(
        "FOREX", "FUTURES", "CMES", "America/Chicago", "CME FX futures (Globex)"
    ),
    ("COMMODITIES", "FUTURES"): MarketSpec(
        "COMMODITIES", "FUTURES", "CMES", "America/Chicago", "CME commodity futures (Globex)"
    ),
}


def market_for(exchange_group: str, asset_class: str) -> MarketSpec:
    """The market of a combination, or a ValueError that lists the valid ones."""
    try:
        return MARKETS[(exchange_group, asset_class)]
    except KeyError:
        valid = ", ".join(f"{g}/{a}" for g, a in MARKETS)
        raise ValueError(
            f"exchange_group {exchange_group!r} with asset_class {asset_class!r} is not a "
            f"supported market; valid combinations: {valid}"
        ) from None
