"""Bringing outside files into the store: CSV and Parquet with a column mapping, and LEAN.

Every importer produces frames in the store's schema and hands them to ``import_frame``, which
cleans them (counting each rejected row by reason) and writes the clean rows atomically.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import shutil
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from simcore.errors import DataError
from simcore.store.cleaning import BlockCarry, CleanResult, clean_rows
from simcore.store.factors import read_lean_factor_file, write_factors
from simcore.store.parquet import BARS_1D, BARS_1M, QUOTES, Dataset, ParquetStore, WriteResult
from simcore.store.table_files import BLOCK_ROWS, read_blocks
from simcore.time import TimeManager


@dataclass
class ImportPart:
    """One dataset's share of an import: what cleaning found and what was written."""

    clean: CleanResult
    written: WriteResult

    def merged(self, other: ImportPart) -> ImportPart:
        w, o = self.written, other.written
        written = WriteResult(
            w.rows_written + o.rows_written,
            w.rows_replaced + o.rows_replaced,
            w.files + o.files,
            w.damaged_replaced + o.damaged_replaced,
        )
        return ImportPart(self.clean.merged(other.clean), written)


@dataclass
class ImportReport:
    """What an import did, one part per dataset. An import in blocks (a symbol or a batch at a
    time) adds a part per block, and the report folds it into its dataset's: the counts add up
    and the rejected rows are kept; the clean rows are not (they are in the store), so a
    report's memory does not grow with the import."""

    source: str
    parts: list[ImportPart] = field(default_factory=list)
    factor_rows: int = 0  # split and dividend factors imported (LEAN's factor files)
    factor_symbols: int = 0

    def add(self, part: ImportPart) -> None:
        part = ImportPart(part.clean.counts_only(), part.written)
        for i, same in enumerate(self.parts):
            if same.clean.dataset == part.clean.dataset:
                self.parts[i] = same.merged(part)
                return
        self.parts.append(part)

    @property
    def rejected_rows(self) -> pl.DataFrame | None:
        """Every rejected row, dataset by dataset, its values as text with ``dataset`` and
        ``reason`` first (None when nothing was imported)."""
        if not self.parts:
            return None
        frames = []
        for part in self.parts:
            rejected = part.clean.rejected.with_columns(
                pl.lit(part.clean.dataset.label).alias("dataset")
            ).select("dataset", "reason", pl.all().exclude("dataset", "reason"))
            rejected = rejected.with_columns(pl.col(pl.Datetime).dt.to_string())
            frames.append(rejected.with_columns(pl.all().cast(pl.String)))
        return pl.concat(frames, how="diagonal")

    @property
    def rows_read(self) -> int:
        return sum(p.clean.rows_read for p in self.parts)

    @property
    def rows_written(self) -> int:
        return sum(p.written.rows_written for p in self.parts)

    @property
    def rows_rejected(self) -> int:
        return sum(p.clean.rows_rejected for p in self.parts)

    def rejected_by_reason(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for part in self.parts:
            for reason, count in part.clean.rejected_by_reason.items():
                totals[reason] = totals.get(reason, 0) + count
        return dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))


def import_frame(
    store: ParquetStore, dataset: Dataset, frame: pl.DataFrame, tm: TimeManager
) -> ImportPart:
    """Clean ``frame`` (store schema columns) and merge the clean rows into the store."""
    cleaned = clean_rows(frame, dataset, tm)
    return ImportPart(cleaned, store.write(dataset, cleaned.clean))


def import_file(
    store: ParquetStore, path: Path, dataset: Dataset, tm: TimeManager, **reading
) -> ImportReport:
    """A CSV or Parquet file into the store a block at a time (``read_blocks``; ``reading``:
    its options), so that the import's memory is a block's, not the file's.

    Each block is cleaned with the times of the blocks before (``BlockCarry``). A file of one
    block is written as it is cleaned. A bigger file's clean rows are spooled beside the store
    in buckets of whole store files (a symbol's period), and each bucket is written once at
    the end: every store file is rewritten once, not once per block that touches it. A row at
    the time of a row of an earlier block that cleaning could not see (``BlockCarry``) replaces
    it, as a write would, and is counted replaced.
    """
    report = ImportReport(str(path))
    blocks = read_blocks(path, dataset, tm, **reading)
    first = next(blocks, None)
    second = next(blocks, None)
    if first is None:
        return report
    if second is None:  # one block: cleaned and written
        report.add(import_frame(store, dataset, first, tm))
        return report
    _remove_stale_spools(store.root)
    spool = store.root / f"{SPOOL_PREFIX}{os.getpid()}"
    buckets = max(2, min(MAX_BUCKETS, (estimated_rows(path) // BLOCK_ROWS) + 1))
    carry = BlockCarry()
    try:
        spool.mkdir(parents=True, exist_ok=True)
        for number, block in enumerate(itertools.chain((first, second), blocks)):
            cleaned = clean_rows(block, dataset, tm, carry)
            report.add(ImportPart(cleaned, WriteResult(0, 0, 0)))  # written below
            _spool(spool, number, cleaned.clean, dataset, buckets)
        for bucket in sorted(spool.iterdir()):
            rows = pl.read_parquet(sorted(bucket.glob("*.parquet")))
            unique = rows.unique(["symbol", "timestamp"], keep="last", maintain_order=True)
            written = store.write(dataset, unique)
            again = rows.height - unique.height  # replaced in this import, not in the store
            written = replace(
                written, rows_written=rows.height, rows_replaced=written.rows_replaced + again
            )
            report.add(ImportPart(CleanResult.nothing(dataset), written))
    finally:
        shutil.rmtree(spool, ignore_errors=True)
    return report


MAX_BUCKETS = 512
SPOOL_PREFIX = ".import-spool-"  # + the importing process's id, in the store's root


def _remove_stale_spools(root: Path) -> None:
    """The spools of imports killed before they cleaned up (their process is gone)."""
    for folder in root.glob(f"{SPOOL_PREFIX}*"):
        pid = folder.name.removeprefix(SPOOL_PREFIX)
        try:
            os.kill(int(pid), 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass  # another user's process: alive


def estimated_rows(path: Path) -> int:
    """About how many rows a file holds (a Parquet file says; a CSV's row is ~60 bytes)."""
    if path.suffix.lower() == ".parquet":
        return pl.scan_parquet(path).select(pl.len()).collect().item()
    return path.stat().st_size // 60


def _spool(spool: Path, number: int, clean: pl.DataFrame, dataset: Dataset, buckets: int) -> None:
    """A block's clean rows into the spool, each to its bucket (a store file's rows: a symbol's
    period, all in one bucket)."""
    period = pl.col("timestamp").dt.strftime(dataset.period_format)
    bucket = (pl.concat_str(pl.col("symbol"), pl.lit("/"), period).hash(seed=0) % buckets).alias(
        "_bucket"
    )
    for (key,), part in clean.with_columns(bucket).partition_by("_bucket", as_dict=True).items():
        folder = spool / f"{key:04d}"
        folder.mkdir(exist_ok=True)
        part.drop("_bucket").write_parquet(folder / f"{number:06d}.parquet", compression="lz4")


# ---------------------------------------------------------------------- LEAN

LEAN_PRICE_SCALE = 10_000
_LEAN_MINUTE_FILE = re.compile(r"^(\d{8})_(trade|quote)\.zip$")
_TRADE_COLUMNS = ["ms", "open", "high", "low", "close", "volume"]
_QUOTE_COLUMNS = [
    "ms",
    "bid_open",
    "bid_high",
    "bid_low",
    "bid_close",
    "bid_size",
    "ask_open",
    "ask_high",
    "ask_low",
    "ask_close",
    "ask_size",
]
_DAILY_COLUMNS = ["day", "open", "high", "low", "close", "volume"]


def find_lean_root(path: Path) -> Path:
    """The ``equity/usa`` folder of a LEAN data tree given the tree or any folder above it."""
    for candidate in (
        path,
        path / "usa",
        path / "equity" / "usa",
        path / "lean" / "equity" / "usa",
    ):
        if (candidate / "minute").is_dir() or (candidate / "daily").is_dir():
            return candidate
    raise DataError(f"{path}: not a LEAN data folder (expected equity/usa/minute or daily inside)")


def _read_zip_csv(path: Path, names: list[str]) -> pl.DataFrame:
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
        if len(members) != 1:
            raise DataError(f"{path}: expected one CSV inside, found {len(members)}")
        payload = archive.read(members[0])
    if not payload.strip():
        return pl.DataFrame(schema=dict.fromkeys(names, pl.String))
    return pl.read_csv(io.BytesIO(payload), has_header=False, new_columns=names, infer_schema=False)


def _lean_prices(columns: Iterable[str]) -> list[pl.Expr]:
    """Integer ten-thousandths to dollars, exactly: through Decimal, because Polars divides a
    float column by a literal as a multiplication by its reciprocal (70.49 -> 70.49000000000001)."""
    return [
        (pl.col(c).cast(pl.Int64, strict=False).cast(pl.Decimal(24, 4)) / LEAN_PRICE_SCALE)
        .cast(pl.Float64)
        .alias(c)
        for c in columns
    ]


def read_lean_minute(path: Path, symbol: str, tm: TimeManager) -> tuple[Dataset, pl.DataFrame]:
    """One LEAN minute zip: trade bars, or quote bars turned into end-of-minute quotes.

    LEAN stamps a bar at its start in exchange time; a quote bar's closing bid/ask is only
    known at the end of its minute, so the quote is stored at start + 1 minute.
    """
    match = _LEAN_MINUTE_FILE.match(path.name)
    if not match:
        raise DataError(f"{path}: not a LEAN minute file (YYYYMMDD_trade.zip or _quote.zip)")
    day, kind = match.groups()
    names = _TRADE_COLUMNS if kind == "trade" else _QUOTE_COLUMNS
    raw = _read_zip_csv(path, names)
    midnight = pl.lit(day).str.to_datetime("%Y%m%d", time_unit="us")
    offset_ms = pl.col("ms").cast(pl.Int64, strict=False)
    if kind == "quote":
        offset_ms = offset_ms + 60_000
    local = midnight + pl.duration(milliseconds=offset_ms)
    timestamp = TimeManager.local_to_utc_expr(local, tm.timezone).alias("timestamp")
    if kind == "trade":
        frame = raw.select(
            pl.lit(symbol).alias("symbol"),
            timestamp,
            *_lean_prices(["open", "high", "low", "close"]),
            pl.col("volume").cast(pl.Float64, strict=False),
        )
        return BARS_1M, frame
    frame = raw.select(
        pl.lit(symbol).alias("symbol"),
        timestamp,
        *_lean_prices(["bid_close", "ask_close"]),
        pl.col("bid_size").cast(pl.Float64, strict=False),
        pl.col("ask_size").cast(pl.Float64, strict=False),
    ).rename({"bid_close": "bid_price", "ask_close": "ask_price"})
    return QUOTES, frame


def read_lean_daily(path: Path, symbol: str, tm: TimeManager) -> pl.DataFrame:
    """A LEAN daily zip (raw, unadjusted prices), stamped at 00:00 exchange time of each date."""
    raw = _read_zip_csv(path, _DAILY_COLUMNS)
    local = pl.col("day").str.slice(0, 8).str.to_datetime("%Y%m%d", time_unit="us", strict=False)
    return raw.select(
        pl.lit(symbol).alias("symbol"),
        TimeManager.local_to_utc_expr(local, tm.timezone).alias("timestamp"),
        *_lean_prices(["open", "high", "low", "close"]),
        pl.col("volume").cast(pl.Float64, strict=False),
    )


def import_lean(
    store: ParquetStore,
    path: Path,
    tm: TimeManager,
    *,
    symbols: Iterable[str] | None = None,
    include_quotes: bool = True,
    include_daily: bool = True,
) -> ImportReport:
    """Import a LEAN ``equity/usa`` tree: minute trades (1m bars), minute quotes, daily bars,
    and the factor files (split and dividend factors).

    Prices are stored as published (raw); the factors are applied when a session reads them,
    as its ``price_adjustment`` says. Symbols are upper-cased as the store names them.
    """
    root = find_lean_root(path)
    wanted = {s.upper() for s in symbols} if symbols else None
    report = ImportReport(str(root))

    minute_files: list[tuple[str, list[Path]]] = []  # per symbol, its minute zips
    minute_root = root / "minute"
    for folder in sorted(minute_root.iterdir()) if minute_root.is_dir() else []:
        symbol = folder.name.upper()
        if not folder.is_dir() or (wanted and symbol not in wanted):
            continue
        files = [
            file
            for file in sorted(folder.glob("*.zip"))
            if include_quotes or not file.name.endswith("_quote.zip")
        ]
        if files:
            minute_files.append((symbol, files))
    daily_root = root / "daily"
    daily_files = [
        (file.stem.upper(), file)
        for file in (
            sorted(daily_root.glob("*.zip")) if include_daily and daily_root.is_dir() else []
        )
        if not wanted or file.stem.upper() in wanted
    ]
    if not minute_files and not daily_files:
        raise DataError(f"{root}: no LEAN files for {sorted(wanted) if wanted else 'any symbol'}")

    factor_root = root / "factor_files"
    factors = []
    for file in sorted(factor_root.glob("*.csv")) if factor_root.is_dir() else []:
        symbol = file.stem.upper()
        if not wanted or symbol in wanted:
            factors.append(read_lean_factor_file(file.read_text(), symbol))
    if factors:
        report.factor_rows = write_factors(store, pl.concat(factors))
        report.factor_symbols = len(factors)
    # a symbol at a time: the import's memory is one symbol's minutes, not the tree's
    for symbol, files in minute_files:
        batches: dict[Dataset, list[pl.DataFrame]] = {}
        for file in files:
            dataset, frame = read_lean_minute(file, symbol, tm)
            batches.setdefault(dataset, []).append(frame)
        for dataset in (BARS_1M, QUOTES):
            if dataset in batches:
                frame = pl.concat(batches[dataset], how="vertical")
                report.add(import_frame(store, dataset, frame, tm))
    if daily_files:  # small (a row a day): in one go
        frame = pl.concat([read_lean_daily(file, symbol, tm) for symbol, file in daily_files])
        report.add(import_frame(store, BARS_1D, frame, tm))
    return report
