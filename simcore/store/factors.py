"""Split and dividend factors in the store, and the price adjustment they give.

LEAN's factor files (``equity/usa/factor_files/<sym>.csv``: date, price factor, split factor,
reference price) are imported into ``<store>/factors/<SYMBOL>.parquet``. As in LEAN, a row
applies to every date up to and including its own, after the previous row's: the factors of a
date are those of the first row dated on or after it (the file ends with a far-future row of
ones, so the present is unadjusted).

``price_adjustment`` (``session_data_config``):

* ``raw`` — prices as traded; a split shows as a jump, and positions are split with the shares;
* ``split`` — prices x the split factor, volumes / the split factor: continuous across splits;
* ``adjusted`` — prices x the split factor x the price (dividend) factor: continuous across
  splits and dividends, LEAN's default. Volumes as for ``split``.

A symbol without factors is unadjusted in every mode (the outputs list which symbols had them).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from simcore.errors import DataError
from simcore.store.parquet import ParquetStore, atomic_write
from simcore.store.schema import symbol_folder

FACTOR_SCHEMA = {
    "symbol": pl.String,
    "date": pl.Date,
    "price_factor": pl.Float64,
    "split_factor": pl.Float64,
    "reference_price": pl.Float64,
}
MODES = ("raw", "split", "adjusted")
PRICE_COLUMNS = ("open", "high", "low", "close", "vwap", "bid_price", "ask_price", "price")
SIZE_COLUMNS = ("volume", "bid_size", "ask_size", "size")


def factors_dir(store: ParquetStore) -> Path:
    return store.root / "factors"


def factor_file(store: ParquetStore, symbol: str) -> Path:
    """Where ``symbol``'s factors are (the file may not exist: no splits or dividends known)."""
    return factors_dir(store) / f"{symbol_folder(symbol)}.parquet"


def read_lean_factor_file(text: str, symbol: str) -> pl.DataFrame:
    try:
        frame = pl.read_csv(
            io.StringIO(text),
            has_header=False,
            new_columns=["date", "price_factor", "split_factor", "reference_price"],
            schema_overrides={"date": pl.String},
        )
    except pl.exceptions.PolarsError as exc:
        raise DataError(f"factor file of {symbol}: {exc}") from None
    return frame.select(
        pl.lit(symbol).alias("symbol"),
        pl.col("date").str.to_date("%Y%m%d"),
        pl.col("price_factor").cast(pl.Float64),
        pl.col("split_factor").cast(pl.Float64),
        pl.col("reference_price").cast(pl.Float64),
    ).sort("date")


def write_factors(store: ParquetStore, frame: pl.DataFrame) -> int:
    """Replace the factors of every symbol in ``frame``; returns the rows written."""
    for (symbol,), part in frame.group_by("symbol", maintain_order=True):
        atomic_write(
            part.select(list(FACTOR_SCHEMA)).sort("date"),
            factor_file(store, str(symbol)),
        )
    return frame.height


def read_factors(store: ParquetStore, symbols: Iterable[str]) -> pl.DataFrame:
    paths = [factor_file(store, s) for s in symbols]
    paths = [p for p in paths if p.exists()]
    if not paths:
        return pl.DataFrame(schema=FACTOR_SCHEMA)
    return pl.concat([pl.read_parquet(p) for p in paths]).sort("symbol", "date")


def adjust(frame: pl.LazyFrame | pl.DataFrame, factors: pl.DataFrame, mode: str, day: str = "day"):
    """Apply ``mode`` to bars (open/high/low/close/volume) with an exchange-local date column
    ``day``; rows of symbols without factors are left as they are."""
    if mode == "raw" or factors.is_empty():
        return frame
    lazy = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    table = factors.lazy().select(
        "symbol",
        pl.col("date").alias("_date"),
        (
            pl.col("split_factor") * pl.col("price_factor")
            if mode == "adjusted"
            else pl.col("split_factor")
        ).alias("_price"),
        pl.col("split_factor").alias("_split"),
    )
    joined = (
        lazy.with_row_index("_order")
        .sort("symbol", day)
        .join_asof(
            table.sort("symbol", "_date"),
            left_on=day,
            right_on="_date",
            by="symbol",
            strategy="forward",
            check_sortedness=False,
        )
    )
    price = pl.col("_price").fill_null(1.0)
    split = pl.col("_split").fill_null(1.0)
    names = lazy.collect_schema().names()
    columns = [pl.col(c) * price for c in PRICE_COLUMNS if c in names]
    columns += [pl.col(c) / split for c in SIZE_COLUMNS if c in names]
    out = joined.with_columns(columns).sort("_order").drop("_order", "_date", "_price", "_split")
    return out.collect() if isinstance(frame, pl.DataFrame) else out
