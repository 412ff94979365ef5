"""A seeded, deterministic generator of realistic market data, written through the importer.

It follows the exchange calendar (holidays, early closes), draws prices as a random walk with a
per-symbol drift and volatility, and shapes intraday volume as a U (heavy at the open and close).
Daily bars over the minute range are aggregated from the minute bars, so the two agree; before
the minute range only daily bars are drawn (for 52-week windows). Optional gaps (missing
minutes) and bad rows (NaN, negative volume, high < low, duplicates) exercise quality
measurement and the cleaner. Second bars, when asked for, split every minute: their open is
the minute's open, their close its close, their extremes its extremes and their volumes add up
to its volume, so 1m bars built from them are the stored 1m bars: the bad rows go through the same cleaning as any import and are
counted in its report.

Same spec, same numbers, on every machine: every random stream is seeded from the spec's seed
and a CRC of the symbol name (never Python's ``hash``).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from simcore.errors import DataError
from simcore.store.importers import ImportReport, import_frame
from simcore.store.parquet import BARS_1D, BARS_1M, BARS_1S, QUOTES, Dataset, ParquetStore
from simcore.store.schema import ohlcv_aggregations
from simcore.time import TimeManager

MINUTE_NS = 60_000_000_000
BLOCK_ROWS = 2_000_000  # rows generated and imported at once (about 150 MB of bars)
BAD_ROW_KINDS = ("nan_close", "negative_volume", "high_below_low", "duplicate")


@dataclass(frozen=True)
class SynthSpec:
    symbols: tuple[str, ...]
    minute_start: date  # first day with 1m bars (a non-trading day moves to the next one)
    minute_end: date
    daily_start: date | None = None  # daily-only history before minute_start
    seed: int = 7
    gap_rate: float = 0.0  # probability that a regular-session minute is missing
    bad_rows: int = 0  # bad rows injected per symbol (cycling through BAD_ROW_KINDS)
    quotes: bool = False  # also end-of-minute quotes
    seconds: bool = False  # also 1s bars that add up to each 1m bar exactly

    def __post_init__(self) -> None:
        if not self.symbols:
            raise ValueError("at least one symbol")
        if self.minute_end < self.minute_start:
            raise ValueError("minute_end is before minute_start")
        if self.daily_start and self.daily_start > self.minute_start:
            raise ValueError("daily_start is after minute_start")
        if not 0.0 <= self.gap_rate < 1.0:
            raise ValueError("gap_rate must be in [0, 1)")


def _rng(spec: SynthSpec, symbol: str, stream: int) -> np.random.Generator:
    return np.random.default_rng([spec.seed, zlib.crc32(symbol.encode()), stream])


def _cents(values: np.ndarray) -> np.ndarray:
    return np.round(values, 2)


def _symbol_profile(spec: SynthSpec, symbol: str) -> tuple[float, float, float]:
    """(starting price, daily volatility, average volume per minute) of a symbol."""
    rng = _rng(spec, symbol, 0)
    return (
        float(rng.uniform(20, 400)),
        float(rng.uniform(0.01, 0.03)),
        float(rng.uniform(2_000, 40_000)),
    )


def _daily_history(
    spec: SynthSpec,
    symbol: str,
    days: list[date],
    price: float,
    vol: float,
    minute_volume: float,
    tm: TimeManager,
) -> tuple[pl.DataFrame, float]:
    """Daily bars for days before the minute range; returns them and the last close."""
    if not days:
        return pl.DataFrame(), price
    rng = _rng(spec, symbol, 1)
    n = len(days)
    closes = price * np.exp(np.cumsum(rng.normal(0.0002, vol, n)))
    opens = np.concatenate([[price], closes[:-1]]) * np.exp(rng.normal(0, vol / 4, n))
    spread = np.abs(rng.normal(0, vol / 2, n)) * closes
    highs = np.maximum(opens, closes) + spread
    lows = np.maximum(np.minimum(opens, closes) - spread, 0.01)
    volume = np.round(minute_volume * 390 * rng.lognormal(0, 0.3, n))
    local_midnight = pl.Series("d", days).cast(pl.Datetime("us"))
    frame = pl.DataFrame(
        {
            "symbol": symbol,
            "timestamp": local_midnight,
            "open": _cents(opens),
            "high": _cents(highs),
            "low": _cents(lows),
            "close": _cents(closes),
            "volume": volume,
        }
    ).with_columns(TimeManager.local_to_utc_expr(pl.col("timestamp"), tm.timezone))
    return frame, float(frame["close"][-1])


def _minute_bars(
    spec: SynthSpec, symbol: str, price: float, vol: float, minute_volume: float, tm: TimeManager
) -> pl.DataFrame:
    sessions = tm.sessions_frame(spec.minute_start, spec.minute_end)
    opens_ns = sessions["open"].dt.epoch("ns").to_numpy()
    closes_ns = sessions["close"].dt.epoch("ns").to_numpy()
    counts = ((closes_ns - opens_ns) // MINUTE_NS).astype(np.int64)
    n = int(counts.sum())
    day_of = np.repeat(np.arange(len(counts)), counts)
    first_of_day = np.concatenate([[0], np.cumsum(counts)[:-1]])
    minute_in_day = np.arange(n) - first_of_day[day_of]
    timestamps = opens_ns[day_of] + minute_in_day * MINUTE_NS

    rng = _rng(spec, symbol, 2)
    per_minute = vol / np.sqrt(390)
    steps = rng.normal(0, per_minute, n)
    steps[first_of_day] += rng.normal(0, vol / 3, len(counts))  # overnight gap
    closes = price * np.exp(np.cumsum(steps))
    opens = np.concatenate([[price], closes[:-1]])
    wiggle = np.abs(rng.normal(0, per_minute / 2, n)) * closes
    highs = np.maximum(opens, closes) + wiggle
    lows = np.maximum(np.minimum(opens, closes) - wiggle * rng.uniform(0.5, 1.5, n), 0.01)

    position = minute_in_day / np.maximum(counts[day_of] - 1, 1)  # 0 at the open, 1 at the close
    u_shape = 0.6 + 2.4 * (2 * position - 1) ** 2
    volume = np.maximum(np.round(minute_volume * u_shape * rng.lognormal(0, 0.5, n)), 1)

    frame = pl.DataFrame(
        {
            "symbol": symbol,
            "timestamp": pl.Series(timestamps)
            .cast(pl.Datetime("ns", "UTC"))
            .dt.cast_time_unit("us"),
            "open": _cents(opens),
            "high": _cents(highs),
            "low": _cents(lows),
            "close": _cents(closes),
            "volume": volume,
        }
    )
    # Rounding to cents can push open/close a cent outside [low, high]; widen the range instead.
    frame = frame.with_columns(
        pl.max_horizontal("open", "high", "close").alias("high"),
        pl.min_horizontal("open", "low", "close").alias("low"),
    )
    if spec.gap_rate > 0:
        keep = rng.random(n) >= spec.gap_rate
        keep[first_of_day] = True  # every day keeps its first minute: the open is known
        frame = frame.filter(pl.Series(keep))
    return frame


def _quotes(spec: SynthSpec, symbol: str, bars: pl.DataFrame) -> pl.DataFrame:
    rng = _rng(spec, symbol, 3)
    n = bars.height
    close = bars["close"].to_numpy()
    half_spread = np.maximum(np.round(close * 0.0002, 2), 0.01)
    return pl.DataFrame(
        {
            "symbol": symbol,
            "timestamp": bars["timestamp"] + timedelta(minutes=1),
            "bid_price": _cents(close - half_spread),
            "bid_size": rng.integers(1, 20, n) * 100.0,
            "ask_price": _cents(close + half_spread),
            "ask_size": rng.integers(1, 20, n) * 100.0,
        }
    )


def _second_bars(spec: SynthSpec, symbol: str, bars: pl.DataFrame) -> pl.DataFrame:
    """60 second bars per minute bar: a Brownian bridge from the minute's open to its close,
    kept within its range, one second touching its high and one its low; the minute's volume
    split among the seconds (multinomial, so the parts add up exactly)."""
    rng = _rng(spec, symbol, 5)
    n, seconds = bars.height, 60
    opens, closes = bars["open"].to_numpy(), bars["close"].to_numpy()
    highs, lows = bars["high"].to_numpy(), bars["low"].to_numpy()
    walk = np.cumsum(rng.normal(0, 1, (n, seconds)), axis=1)
    steps = np.arange(1, seconds + 1) / seconds
    bridge = walk - steps * walk[:, -1:]  # zero at both ends
    spread = (highs - lows)[:, None] / 4
    path = opens[:, None] + (closes - opens)[:, None] * steps + spread * bridge / np.sqrt(seconds)
    path = _cents(np.clip(path, lows[:, None], highs[:, None]))
    path[:, -1] = closes
    s_open = np.concatenate([opens[:, None], path[:, :-1]], axis=1)
    s_high, s_low = np.maximum(s_open, path), np.minimum(s_open, path)
    rows = np.arange(n)
    s_high[rows, rng.integers(0, seconds, n)] = highs
    s_low[rows, rng.integers(0, seconds, n)] = lows
    volume = rng.multinomial(
        bars["volume"].to_numpy().astype(np.int64), np.full(seconds, 1 / seconds)
    )
    start_ns = bars["timestamp"].dt.epoch("ns").to_numpy()
    stamps = (start_ns[:, None] + np.arange(seconds) * 1_000_000_000).ravel()
    return pl.DataFrame(
        {
            "symbol": symbol,
            "timestamp": pl.Series(stamps).cast(pl.Datetime("ns", "UTC")).dt.cast_time_unit("us"),
            "open": s_open.ravel(),
            "high": s_high.ravel(),
            "low": s_low.ravel(),
            "close": path.ravel(),
            "volume": volume.ravel().astype(np.float64),
        }
    )


def _daily_from_minutes(bars: pl.DataFrame, tm: TimeManager) -> pl.DataFrame:
    local_day = tm.utc_to_local_date_expr(pl.col("timestamp")).alias("day")
    daily = (
        bars.sort("timestamp")
        .group_by(local_day, maintain_order=True)
        .agg(pl.col("symbol").first(), *ohlcv_aggregations())
    )
    return daily.with_columns(
        TimeManager.local_to_utc_expr(pl.col("day").cast(pl.Datetime("us")), tm.timezone).alias(
            "timestamp"
        )
    ).drop("day")


def _inject_bad_rows(spec: SynthSpec, symbol: str, bars: pl.DataFrame) -> pl.DataFrame:
    if spec.bad_rows <= 0 or bars.is_empty():
        return bars
    rng = _rng(spec, symbol, 4)
    picks = rng.choice(bars.height, size=min(spec.bad_rows, bars.height), replace=False)
    bad = []
    for i, row_index in enumerate(sorted(picks)):
        row = bars.row(int(row_index), named=True)
        kind = BAD_ROW_KINDS[i % len(BAD_ROW_KINDS)]
        if kind == "nan_close":
            row["close"] = float("nan")
        elif kind == "negative_volume":
            row["volume"] = -row["volume"]
        elif kind == "high_below_low":
            row["high"], row["low"] = row["low"] - 0.05, row["high"]
        bad.append(row)
    return pl.concat([bars, pl.DataFrame(bad, schema=bars.schema)]).sort("timestamp")


def block_size(spec: SynthSpec, tm: TimeManager, block_rows: int = BLOCK_ROWS) -> int:
    """How many symbols one block holds: as many as keep it under ``block_rows`` rows of all
    its datasets (at least one: a symbol's second bars are its own block)."""
    days = tm.trading_days(spec.minute_start, spec.minute_end)
    rows_per_symbol = max(1, len(days) * 390 * (1 + spec.quotes + 60 * spec.seconds))
    return max(1, block_rows // rows_per_symbol)


def generate_blocks(
    spec: SynthSpec, tm: TimeManager, block_rows: int = BLOCK_ROWS
) -> Iterator[dict[Dataset, pl.DataFrame]]:
    """Frames per dataset, not yet cleaned (bad rows included when asked for), a block of
    symbols at a time: the symbols in the spec's order, each drawn from its own seeded streams,
    so the blocks together are the whole spec's data whatever their size."""
    if not tm.trading_days(spec.minute_start, spec.minute_end):
        raise DataError(
            f"no {tm.calendar_name} trading day from {spec.minute_start} to {spec.minute_end}: "
            "nothing to generate"
        )
    first_minute_day = tm.get_first_trading_date(spec.minute_start)
    history_days = (
        [d for d in tm.trading_days(spec.daily_start, first_minute_day) if d < first_minute_day]
        if spec.daily_start
        else []
    )
    size = block_size(spec, tm, block_rows)
    for first in range(0, len(spec.symbols), size):
        minute_frames, daily_frames, quote_frames, second_frames = [], [], [], []
        for symbol in spec.symbols[first : first + size]:
            price, vol, minute_volume = _symbol_profile(spec, symbol)
            history, price = _daily_history(
                spec, symbol, history_days, price, vol, minute_volume, tm
            )
            bars = _minute_bars(spec, symbol, price, vol, minute_volume, tm)
            if not history.is_empty():
                daily_frames.append(history)
            daily_frames.append(_daily_from_minutes(bars, tm))
            if spec.quotes:
                quote_frames.append(_quotes(spec, symbol, bars))
            if spec.seconds:
                second_frames.append(_second_bars(spec, symbol, bars))
            minute_frames.append(_inject_bad_rows(spec, symbol, bars))
        block = {
            BARS_1M: pl.concat(minute_frames),
            BARS_1D: pl.concat(daily_frames, how="diagonal"),
        }
        if quote_frames:
            block[QUOTES] = pl.concat(quote_frames)
        if second_frames:
            block[BARS_1S] = pl.concat(second_frames)
        yield block


def generate(spec: SynthSpec, tm: TimeManager) -> dict[Dataset, pl.DataFrame]:
    """The whole spec's frames at once (a small spec's: ``write_synthetic`` goes by blocks)."""
    blocks = list(generate_blocks(spec, tm))
    return {
        dataset: pl.concat([block[dataset] for block in blocks], how="diagonal")
        for dataset in blocks[0]
    }


def write_synthetic(
    store: ParquetStore, spec: SynthSpec, tm: TimeManager, block_rows: int = BLOCK_ROWS
) -> ImportReport:
    """Generate ``spec`` and import it into ``store`` through the cleaner, a block of symbols
    at a time: its memory is a block's, whatever the number of symbols. Each symbol's files
    hold its rows only, so the store is the same whatever the blocks."""
    report = ImportReport(f"synthetic(seed={spec.seed})")
    for block in generate_blocks(spec, tm, block_rows):
        for dataset, frame in block.items():
            report.add(import_frame(store, dataset, frame, tm))
    return report
