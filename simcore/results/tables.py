"""The run's deterministic tables, built from the recorder and the components after the run, in
an order that never depends on timing: the marking, the history plan, historical indicators,
bars, quality, gaps, signals and overruns (the trading tables are ``trading_tables``')."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

import numpy as np
import polars as pl

from simcore.results.recording import BacktestRecorder
from simcore.store.factors import factor_file
from simcore.store.parquet import Dataset, ParquetStore


def indicator_frame(
    chunks: list[tuple[date, str, np.ndarray]], symbols: tuple[str, ...]
) -> pl.DataFrame:
    """session_date, symbol, indicator, minute (None for a daily value) and value of every
    historical indicator computed (each chunk: one session's indicator for every symbol)."""
    frames = []
    for day, name, values in chunks:
        count = len(symbols)
        width = values.shape[1] if values.ndim == 2 else 1
        frames.append(
            pl.DataFrame(
                {
                    "session_date": pl.Series([day], dtype=pl.Date).gather(
                        pl.Series(np.zeros(count * width, dtype=np.int64))
                    ),
                    "symbol": pl.Series(symbols, dtype=pl.String).gather(
                        pl.Series(np.repeat(np.arange(count), width))
                    ),
                    "indicator": pl.Series([name], dtype=pl.String).gather(
                        pl.Series(np.zeros(count * width, dtype=np.int64))
                    ),
                    "minute": pl.Series(
                        np.tile(np.arange(width), count) if values.ndim == 2 else [None] * count,
                        dtype=pl.Int64,
                    ),
                    "value": pl.Series(values.reshape(-1).astype(np.float64), dtype=pl.Float64),
                }
            )
        )
    schema = {
        "session_date": pl.Date,
        "symbol": pl.String,
        "indicator": pl.String,
        "minute": pl.Int64,
        "value": pl.Float64,
    }
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


STORE_FILES_SCHEMA = {
    "dataset": pl.String,
    "symbol": pl.String,
    "file": pl.String,
    "sha256": pl.String,
}


def store_files_frame(
    store: ParquetStore,
    base: str | None,
    symbols: tuple[str, ...],
    start: datetime | None,
    end: datetime | None,
    factors: bool = False,
) -> pl.DataFrame:
    """The store's files of ``base`` bars of ``symbols`` whose period overlaps [start, end),
    and (``factors``) their factor files: dataset, symbol, file (relative to the store's
    root, so the same on every machine) and the SHA-256 of its bytes."""
    rows = []
    if base is not None and base not in ("quotes", "ticks"):
        dataset = Dataset("bars", base)
        for symbol in symbols:
            for path in store.files(dataset, symbol, start, end):
                rows.append((dataset.label, symbol, path))
    if factors:
        for symbol in symbols:
            path = factor_file(store, symbol)
            if path.is_file():
                rows.append(("factors", symbol, path))
    out = []
    for dataset_label, symbol, path in rows:
        with open(path, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        out.append((dataset_label, symbol, path.relative_to(store.root).as_posix(), digest))
    return pl.DataFrame(out, schema=STORE_FILES_SCHEMA, orient="row")


def build_tables(
    recorder: BacktestRecorder, coordinator, engine, overruns: list | None = None
) -> dict[str, pl.DataFrame]:
    """Every deterministic output table, in an order that never depends on timing."""
    # Already in a canonical order, as recorded: session, streamed then derived intervals from
    # the shortest, symbols in config order, time. No sort needed.
    bars = recorder.bars_table()
    marking = pl.DataFrame(
        coordinator.plan.as_rows(),
        schema={
            "symbol": pl.String,
            "stream": pl.String,
            "mark": pl.String,
            "requested": pl.Boolean,
            "reason": pl.String,
        },
    )
    history = pl.DataFrame(
        [
            {
                "symbols": ",".join(n.symbols),
                "interval": n.interval,
                "trailing_days": n.trailing_days,
                "added_for": n.added_for,
            }
            for n in coordinator.history_needs
        ],
        schema={
            "symbols": pl.String,
            "interval": pl.String,
            "trailing_days": pl.Int64,
            "added_for": pl.String,
        },
    )
    indicators = indicator_frame(coordinator.warmup.indicator_values, coordinator.symbols).sort(
        "session_date", "symbol", "indicator", "minute", nulls_last=False
    )
    quality = recorder.quality_frame().sort("session_date", "symbol", "interval")
    gaps = (
        pl.DataFrame(
            recorder.gaps,
            schema={
                "session_date": pl.Date,
                "symbol": pl.String,
                "interval": pl.String,
                "start_ns": pl.Int64,
                "end_ns": pl.Int64,
                "retries": pl.Int64,
            },
        )
        .with_columns(
            pl.col("start_ns").cast(pl.Datetime("ns", "UTC")).alias("start"),
            pl.col("end_ns").cast(pl.Datetime("ns", "UTC")).alias("end"),
        )
        .drop("start_ns", "end_ns")
        .sort("session_date", "symbol", "start")
    )
    signals = recorder.signals_table(engine.ctx.signals)
    overrun_table = pl.DataFrame(
        [(o.time_ns, o.link, o.busy, o.lag_ms) for o in overruns or ()],
        schema={"time": pl.Int64, "link": pl.String, "busy": pl.String, "lag_ms": pl.Float64},
        orient="row",
    ).with_columns(pl.col("time").cast(pl.Datetime("ns", "UTC")))
    return {
        "marking": marking,
        "history_plan": history,
        "historical_indicators": indicators,
        "bars": bars,
        "quality": quality,
        "gaps": gaps,
        "signals": signals,
        "overruns": overrun_table,
    }
