"""Historical indicators: computed with Polars lazy frames before every session.

"Historical" means computed only from sessions strictly before the current one; every window
here is a list of past trading days from the TimeManager, so no bar of the current session can
enter. Periods: ``Nd`` = the last N trading days; ``Nw``, ``Nm``, ``Ny`` = the trading days in
the N calendar weeks, months or years before the session.

* ``trailing_average`` / daily: mean of the field over the window's daily bars (from the store's
  1d bars, or aggregated from 1m bars when a symbol has no daily bars); ``skip_early_close``
  leaves early-close sessions out of the mean (the window itself is not widened).
* ``trailing_average`` / minute: one value per minute of the regular session, indexed by the
  minute's offset from the open (0 = 09:30 on NYSE): the mean over the window's days that have
  a bar at that offset. An early-close day contributes only the minutes it traded (its first
  210), so late-day averages come from full days; ``skip_early_close`` leaves such days out.
* ``trailing_max`` / ``trailing_min``: max / min of the field over the window's daily bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import polars as pl

from simcore.config.models import IndicatorSpec
from simcore.store.schema import ohlcv_aggregations
from simcore.time import TimeManager

# The regular session's length bounds a minute-indexed array (390 on NYSE).
MINUTE_NS = 60_000_000_000


def _months_back(day: date, months: int) -> date:
    month_index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(month_index, 12)
    month += 1
    # clamp the day to the target month's length
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))


def window_days(spec: IndicatorSpec, day: date, tm: TimeManager) -> list[date]:
    """The past trading days an indicator of ``spec`` uses on session ``day``."""
    n, unit = spec.period_count, spec.period_unit
    if unit == "d":
        return tm.trailing_trading_days(day, n)
    if unit == "w":
        start = day - timedelta(weeks=n)
    elif unit == "m":
        start = _months_back(day, n)
    else:
        start = _months_back(day, 12 * n)
    previous = tm.get_previous_trading_date(day)
    return tm.trading_days(start, previous) if start <= previous else []


def trading_days_needed(spec: IndicatorSpec) -> int:
    """An upper bound of the trading days a period spans (for augmenting historical.data)."""
    n, unit = spec.period_count, spec.period_unit
    return {"d": n, "w": 5 * n + 1, "m": 23 * n, "y": 253 * n}[unit]


def daily_bars(
    source, symbols: Sequence[str], days: Sequence[date], tm: TimeManager
) -> pl.LazyFrame:
    """Daily bars (symbol, day, OHLCV) for the days: stored 1d bars, else aggregated 1m bars."""
    with_daily = [s for s in symbols if "1d" in source.available(s)]
    without = [s for s in symbols if s not in with_daily]
    frames = []
    if with_daily:
        frames.append(
            source.history(with_daily, "1d", days).select(
                "symbol", "day", "open", "high", "low", "close", "volume"
            )
        )
    if without:
        minute = source.history(without, "1m", days)
        frames.append(minute.sort("timestamp").group_by("symbol", "day").agg(*ohlcv_aggregations()))
    if not frames:
        return pl.LazyFrame(schema={"symbol": pl.String, "day": pl.Date, "volume": pl.Float64})
    return pl.concat(frames, how="vertical_relaxed")


def compute(
    name: str,
    spec: IndicatorSpec,
    source,
    symbols: Sequence[str],
    day: date,
    tm: TimeManager,
) -> dict[str, float | np.ndarray]:
    """Values of one indicator for every symbol on session ``day`` (NaN where no data)."""
    days = window_days(spec, day, tm)
    if spec.skip_early_close:
        days = [d for d in days if not tm.is_early_close(d)]
    field = spec.value_field
    if spec.type == "trailing_average" and spec.granularity == "minute":
        return _minute_average(source, symbols, days, field, day, tm)
    values = daily_values(spec, daily_bars(source, symbols, days, tm), symbols)
    return dict(zip(symbols, values.tolist(), strict=True))


def daily_values(
    spec: IndicatorSpec, bars: pl.LazyFrame | pl.DataFrame, symbols: Sequence[str]
) -> np.ndarray:
    """A daily-granularity indicator per symbol (NaN where it has no bar) from the window's
    daily bars (symbol and the field, in time order per symbol)."""
    field = spec.value_field
    agg = {
        "trailing_average": pl.col(field).mean(),
        "trailing_max": pl.col(field).max(),
        "trailing_min": pl.col(field).min(),
    }[spec.type]
    values = dict(bars.lazy().group_by("symbol").agg(agg.alias("value")).collect().iter_rows())
    return np.array(
        [float(values[s]) if values.get(s) is not None else float("nan") for s in symbols],
        dtype=np.float64,
    )


def _minute_average(source, symbols, days, field, day, tm) -> dict[str, np.ndarray]:
    session = tm.get_trading_session(day)
    width = max(
        [tm.get_trading_session(d).minutes for d in days] + [session.minutes if session else 0]
    )
    out = {s: np.full(width, np.nan) for s in symbols}
    if not days:
        return out
    opens = (
        tm.sessions_frame(days[0], days[-1])
        .select(pl.col("session_date").alias("day"), pl.col("open").alias("_open"))
        .lazy()
    )
    minute = (
        source.history(symbols, "1m", days)
        .join(opens, on="day")
        .with_columns(((pl.col("timestamp") - pl.col("_open")).dt.total_minutes()).alias("offset"))
        .group_by("symbol", "offset")
        .agg(pl.col(field).mean().alias("value"))
        .collect()
    )
    for symbol, offset, value in minute.iter_rows():
        if 0 <= offset < width:
            out[symbol][offset] = value
    return out
