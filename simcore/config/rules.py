"""Config rules that relate two or more fields.

They read the raw JSON document, not the models, so that they run even when an unrelated field
is invalid: ``simcore validate`` reports every problem of a file in one pass. Each rule checks
only values of the right type and leaves type errors to the models.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from simcore.time.markets import ASSET_CLASSES, EXCHANGE_GROUPS, MARKETS

Problem = tuple[str, str]
Rule = Callable[[dict[str, Any]], Iterator[Problem]]

# What a symbol looks like per asset class (upper case; a share class or OCC option root allowed).
SYMBOL_PATTERNS: dict[str, re.Pattern[str]] = {
    "EQUITY": re.compile(r"^[A-Z][A-Z0-9]{0,5}([.\-/][A-Z]{1,2})?$"),
    "OPTIONS": re.compile(r"^[A-Z][A-Z0-9]{0,5}(\d{6}[CP]\d{8})?$"),
    "CRYPTO": re.compile(r"^[A-Z0-9]{2,10}/[A-Z0-9]{2,10}$"),
    "FUTURES": re.compile(r"^[A-Z0-9]{1,4}([FGHJKMNQUVXZ]\d{1,2})?$"),
}
SYMBOL_EXAMPLES = {"EQUITY": "AAPL", "OPTIONS": "AAPL", "CRYPTO": "BTC/USD", "FUTURES": "ESZ5"}


def _section(raw: dict[str, Any], *keys: str) -> dict[str, Any]:
    node: Any = raw
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def _iso_date(value: Any) -> date | None:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _symbols(raw: dict[str, Any]) -> list[str]:
    symbols = _section(raw, "session_data_config").get("symbols")
    return [s for s in symbols if isinstance(s, str)] if isinstance(symbols, list) else []


def backtest_section_required(raw: dict[str, Any]) -> Iterator[Problem]:
    if raw.get("mode", "backtest") == "backtest" and raw.get("backtest_config") is None:
        yield "backtest_config", "required when mode is 'backtest' (start_date and end_date)"


def end_not_before_start(raw: dict[str, Any]) -> Iterator[Problem]:
    section = _section(raw, "backtest_config")
    start, end = _iso_date(section.get("start_date")), _iso_date(section.get("end_date"))
    if start and end and end < start:
        yield (
            "backtest_config.end_date",
            f"{end.isoformat()} is before start_date {start.isoformat()}",
        )


def _market(raw: dict[str, Any]) -> tuple[str, str] | None:
    """(exchange_group, asset_class) when both are known names; the models report the rest
    (a list or an object there is a type error, not a market)."""
    group = raw.get("exchange_group", "US_EQUITY")
    asset = raw.get("asset_class", "EQUITY")
    known = isinstance(group, str) and isinstance(asset, str)
    return (group, asset) if known and group in EXCHANGE_GROUPS and asset in ASSET_CLASSES else None


def market_combination(raw: dict[str, Any]) -> Iterator[Problem]:
    market = _market(raw)
    if market is not None and market not in MARKETS:
        group, asset = market
        valid = ", ".join(a for g, a in MARKETS if g == group)
        yield "asset_class", f"{asset!r} is not traded in exchange_group {group!r} (valid: {valid})"


def symbols_fit_asset_class(raw: dict[str, Any]) -> Iterator[Problem]:
    market = _market(raw)
    if market is None or market not in MARKETS:
        return  # the combination itself is reported; symbol rules would only add noise
    asset = market[1]
    pattern = SYMBOL_PATTERNS.get(asset)
    symbols = _section(raw, "session_data_config").get("symbols")
    if pattern is None or not isinstance(symbols, list):
        return
    for i, symbol in enumerate(symbols):
        if isinstance(symbol, str) and symbol.strip() and not pattern.match(symbol):
            hint = f"; did you mean {symbol.upper()!r}?" if pattern.match(symbol.upper()) else ""
            yield (
                f"session_data_config.symbols[{i}]",
                f"{symbol!r} is not a valid {asset} symbol (e.g. {SYMBOL_EXAMPLES[asset]!r}){hint}",
            )


def apply_to_subset_of_symbols(raw: dict[str, Any]) -> Iterator[Problem]:
    known = set(_symbols(raw))
    entries = _section(raw, "session_data_config", "historical").get("data")
    if not isinstance(entries, list):
        return
    for i, entry in enumerate(entries):
        targets = entry.get("apply_to") if isinstance(entry, dict) else None
        if isinstance(targets, list):
            for j, symbol in enumerate(targets):
                if isinstance(symbol, str) and symbol not in known:
                    yield (
                        f"session_data_config.historical.data[{i}].apply_to[{j}]",
                        f"{symbol!r} is not in session_data_config.symbols",
                    )


def limits_within_buying_power(raw: dict[str, Any]) -> Iterator[Problem]:
    trading = _section(raw, "trading_config")
    power = _number(trading.get("max_buying_power"))
    if power is None or power <= 0:
        return
    for key in ("max_per_trade", "max_per_symbol"):
        value = _number(trading.get(key))
        if value is not None and value > power:
            yield f"trading_config.{key}", f"{value:g} exceeds max_buying_power {power:g}"


def indicator_options_fit_type(raw: dict[str, Any]) -> Iterator[Problem]:
    indicators = _section(raw, "session_data_config", "historical", "indicators")
    for name, spec in indicators.items():
        if not isinstance(spec, dict):
            continue
        path = f"session_data_config.historical.indicators.{name}"
        kind, period = spec.get("type"), spec.get("period")
        if kind in ("trailing_max", "trailing_min"):
            if spec.get("granularity", "daily") != "daily":
                yield f"{path}.granularity", f"{kind} is computed on daily bars only"
            if spec.get("skip_early_close"):
                yield f"{path}.skip_early_close", "applies to trailing_average only"
        if kind == "trailing_average" and isinstance(period, str) and period[-1:] in ("m", "y"):
            yield f"{path}.period", "a trailing_average period is Nd (trading days) or Nw (weeks)"


RULES: tuple[Rule, ...] = (
    backtest_section_required,
    end_not_before_start,
    market_combination,
    symbols_fit_asset_class,
    apply_to_subset_of_symbols,
    limits_within_buying_power,
    indicator_options_fit_type,
)


def cross_field_problems(raw: dict[str, Any]) -> list[Problem]:
    return [problem for rule in RULES for problem in rule(raw)]
