"""The benchmark workloads, made by simcore's own generator into simcore's store.

W<N> = N symbols x 20 trading days of regular-session 1m bars (2025-06-02..06-30, Juneteenth
closed), seed 42, no gaps, plus daily history from 2025-05-01 so that simcore's run loads
trailing history before every session. Every engine reads the same store files.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from simcore.config import SessionConfig
from simcore.store.parquet import BARS_1D, BARS_1M, ParquetStore
from simcore.store.synth import SynthSpec, write_synthetic
from simcore.time import TimeManager

START, END, HISTORY = date(2025, 6, 2), date(2025, 6, 30), date(2025, 5, 1)
SEED = 42


def symbols(count: int) -> list[str]:
    return [f"S{i:04d}" for i in range(count)]


def make(count: int, folder: Path) -> Path:
    """Write W<count> into ``folder`` (once) and return the store's root."""
    root = folder / f"w{count}"
    if not (root / "bars").is_dir():
        spec = SynthSpec(tuple(symbols(count)), START, END, HISTORY, seed=SEED)
        write_synthetic(ParquetStore(root), spec, TimeManager())
    return root


def minute_bars(root: Path, count: int) -> pl.DataFrame:
    """All 1m bars of the workload (symbol, timestamp = bar start UTC, OHLCV), by symbol and time."""
    return (
        ParquetStore(root)
        .scan(BARS_1M, symbols(count))
        .select("symbol", "timestamp", "open", "high", "low", "close", "volume")
        .collect()
        .sort("symbol", "timestamp")
    )


def session_config(symbol_names: list[str], **options) -> SessionConfig:
    """The benchmark session: the workload's 20 days (or ``dates``), data-driven, one
    trailing-history entry (interval, trailing days) reloaded before every session (the
    ``options`` of ``session_config_json``)."""
    return SessionConfig.model_validate(session_config_json(symbol_names, **options))


def session_config_json(
    symbol_names: list[str],
    *,
    streams: tuple[str, ...] = ("1m", "5m", "15m"),
    history: tuple[str, int] | None = ("1d", 10),
    prefetch_days: int = 20,
    name: str = "benchmark",
    dates: tuple[date, date] = (START, END),
) -> dict:
    """``session_config`` as the JSON a config file holds (for a run of ``simcore backtest``)."""
    data_config: dict = {"symbols": symbol_names, "streams": list(streams)}
    if history is not None:
        interval, days = history
        data_config["historical"] = {
            "data": [{"trailing_days": days, "intervals": [interval], "apply_to": "all"}]
        }
    return {
        "session_name": name,
        "backtest_config": {
            "start_date": dates[0].isoformat(),
            "end_date": dates[1].isoformat(),
            "speed_multiplier": 0.0,
            "prefetch_days": prefetch_days,
        },
        "session_data_config": data_config,
        "trading_config": {
            "max_buying_power": 1e6,
            "max_per_trade": 1e4,
            "max_per_symbol": 1e5,
            "max_open_positions": 10,
        },
        "api_config": {"data_api": "local", "trade_api": "paper"},
    }


# ---------------------------------------------------------------------------- the daily workload
DAILY_HISTORY, DAILY_START, DAILY_END = date(2015, 1, 2), date(2016, 1, 4), date(2025, 5, 30)
DAILY_TRAILING = 20


def make_daily(count: int, folder: Path) -> Path:
    """D<count>: ``count`` symbols of daily bars from 2015-01-02 (one day of 1m bars, 2025-06-02,
    as the generator needs a minute range); the backtest runs 2016-01-04..2025-05-30."""
    root = folder / f"d{count}"
    if not (root / "bars").is_dir():
        minute_day = date(2025, 6, 2)
        spec = SynthSpec(tuple(symbols(count)), minute_day, minute_day, DAILY_HISTORY, seed=SEED)
        write_synthetic(ParquetStore(root), spec, TimeManager())
    return root


def daily_bars(root: Path, count: int) -> pl.DataFrame:
    """The daily bars the backtest streams (2016-01-04..2025-05-30), by symbol and day (the store
    stamps a daily bar at its session's midnight in New York)."""
    day = pl.col("timestamp").dt.convert_time_zone("America/New_York").dt.date()
    return (
        ParquetStore(root)
        .scan(BARS_1D, symbols(count))
        .with_columns(day.alias("day"))
        .filter(pl.col("day").is_between(DAILY_START, DAILY_END))
        .select("symbol", "day", "open", "high", "low", "close", "volume")
        .collect()
        .sort("symbol", "day")
    )


def daily_config(symbol_names: list[str]) -> SessionConfig:
    """The daily session: 1d streamed, 20 trailing days of 1d history reloaded before every
    session (prefetch_days 1, the default), data-driven."""
    return session_config(
        symbol_names,
        streams=("1d",),
        history=("1d", DAILY_TRAILING),
        prefetch_days=1,
        name=f"daily benchmark D{len(symbol_names)}",
        dates=(DAILY_START, DAILY_END),
    )
