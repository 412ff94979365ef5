"""Bringing outside files into the store: CSV and Parquet with a column mapping, and LEAN.

Every importer produces frames in the store's schema and hands them to ``import_frame``, which
cleans them (counting each rejected row by reason) and writes the clean rows atomically.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from simcore.errors import DataError
from simcore.store.cleaning import CleanResult, clean_rows
from simcore.store.factors import read_lean_factor_file, write_factors
from simcore.store.parquet import BARS_1D, BARS_1M, QUOTES, Dataset, ParquetStore, WriteResult
from simcore.store.schema import REQUIRED, SCHEMAS
from simcore.time import TimeManager

EPOCH_UNITS = ("s", "ms", "us", "ns")


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


# ---------------------------------------------------------------------- CSV and Parquet


def parse_column_map(text: str | None) -> dict[str, str]:
    """'timestamp=time,open=o' -> {'timestamp': 'time', 'open': 'o'} (store name = file name)."""
    if not text:
        return {}
    mapping: dict[str, str] = {}
    for item in text.split(","):
        target, sep, source = item.partition("=")
        if not sep or not target.strip() or not source.strip():
            raise DataError(f"column mapping item {item!r} must look like store_name=file_name")
        mapping[target.strip()] = source.strip()
    return mapping


def read_table(
    path: Path,
    dataset: Dataset,
    tm: TimeManager,
    *,
    columns: Mapping[str, str] | None = None,
    source_tz: str | None = None,
    symbol: str | None = None,
    epoch_unit: str | None = None,
) -> pl.DataFrame:
    """Read a CSV or Parquet file into the store schema of ``dataset``.

    Text timestamps with an offset are converted to UTC; naive ones are taken as wall-clock
    time in ``source_tz``, which must then be given: a file of exchange-local times read as
    UTC lands hours off, outside the regular session, so simcore never guesses. Integer
    timestamps need ``epoch_unit`` (they are UTC). Values that do not parse become nulls,
    which the cleaner counts as bad rows instead of the import failing.
    """
    if not path.is_file():
        raise DataError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    if source_tz is not None:
        TimeManager.check_timezone(source_tz)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv", ".txt"):
        raise DataError(f"{path}: expected a .csv or .parquet file")
    try:
        if suffix == ".parquet":
            raw = pl.read_parquet(path)
        else:
            raw = pl.read_csv(path, infer_schema=False)  # all text: parse below, count failures
    except pl.exceptions.NoDataError:
        raise DataError(f"{path}: the file is empty") from None
    except (pl.exceptions.PolarsError, OSError) as exc:
        form = "Parquet" if suffix == ".parquet" else "CSV"
        raise DataError(f"{path}: cannot be read as {form}: {exc}") from None

    if raw.height == 0:
        raise DataError(
            f"{path}: the file has no rows (only its columns: {', '.join(raw.columns)})"
        )
    mapping = dict(columns or {})
    unknown = [c for c in mapping if c not in SCHEMAS[dataset.kind]]
    if unknown:
        valid = ", ".join(SCHEMAS[dataset.kind])
        raise DataError(f"mapping names unknown store column(s) {unknown}; valid: {valid}")
    missing = [src for src in mapping.values() if src not in raw.columns]
    if missing:
        raise DataError(f"{path}: no column(s) {missing}; the file has {raw.columns}")
    frame = raw.rename({src: dst for dst, src in mapping.items()})
    # headers as files spell them ("Close", " volume", "\ufefftimestamp"): a store column that
    # only one header names, whatever its case and spaces, is that header
    spelled: dict[str, list[str]] = {}
    for name in frame.columns:
        spelled.setdefault(name.lstrip("\ufeff").strip().lower(), []).append(name)
    frame = frame.rename(
        {
            names[0]: column
            for column in SCHEMAS[dataset.kind]
            if column not in frame.columns and len(names := spelled.get(column, [])) == 1
        }
    )
    if "symbol" not in frame.columns:
        if not symbol:
            raise DataError(f"{path}: the file has no symbol column; pass --symbol")
        frame = frame.with_columns(pl.lit(symbol).alias("symbol"))
    if "timestamp" not in frame.columns:
        raise DataError(f"{path}: no timestamp column (map one with --columns timestamp=NAME)")
    lacking = [c for c in REQUIRED[dataset.kind] if c not in frame.columns]
    if lacking:
        raise DataError(
            f"{path}: {dataset.kind} need the column(s) {', '.join(lacking)}; the file has "
            f"{', '.join(raw.columns)} (map them with --columns {lacking[0]}=NAME,...)"
        )

    if (
        frame.schema["timestamp"] == pl.String
        and frame["timestamp"].drop_nulls().str.contains(r"^\d+$").all()
    ):
        frame = frame.with_columns(pl.col("timestamp").cast(pl.Int64))  # CSV text of epoch numbers
    if source_tz is None:
        naive = _a_naive_timestamp(frame["timestamp"])
        if naive is not None:
            raise DataError(
                f"{path}: its timestamps have no timezone ({naive!r}): say which zone they are "
                f"in with --tz: {tm.timezone} (the exchange's wall clock) or UTC"
            )
        source_tz = "UTC"  # only offsets and epochs: the zone is never used
    frame = frame.with_columns(_timestamp_expr(frame.schema["timestamp"], source_tz, epoch_unit))
    numeric = [c for c, t in SCHEMAS[dataset.kind].items() if t.is_numeric() and c in frame.columns]
    frame = frame.with_columns(
        pl.col(c).cast(SCHEMAS[dataset.kind][c], strict=False) for c in numeric
    )
    return frame.with_columns(pl.col("symbol").cast(pl.String))


def _a_naive_timestamp(column: pl.Series) -> str | None:
    """The first timestamp of the column without a zone or offset (None: there is none)."""
    values = column.drop_nulls()
    if isinstance(column.dtype, pl.Datetime):
        return None if column.dtype.time_zone or not values.len() else str(values[0])
    if column.dtype == pl.String:
        naive = values.filter(~values.str.contains(r"(Z|[+-]\d\d:?\d\d)$"))
        return naive[0] if naive.len() else None
    return None


def _timestamp_expr(dtype: pl.DataType, source_tz: str, epoch_unit: str | None) -> pl.Expr:
    col = pl.col("timestamp")
    if dtype.is_integer():
        if epoch_unit not in EPOCH_UNITS:
            raise DataError(
                f"integer timestamps need --epoch-unit, one of {', '.join(EPOCH_UNITS)}"
            )
        return TimeManager.local_to_utc_expr(pl.from_epoch(col, time_unit=epoch_unit), "UTC").alias(  # type: ignore[arg-type]
            "timestamp"
        )
    if dtype == pl.String:
        has_offset = col.str.contains(r"(Z|[+-]\d\d:?\d\d)$")
        aware = col.str.to_datetime(time_unit="us", time_zone="UTC", strict=False)
        naive = TimeManager.local_to_utc_expr(
            col.str.to_datetime(time_unit="us", strict=False), source_tz
        )
        return pl.when(has_offset).then(aware).otherwise(naive).alias("timestamp")
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return TimeManager.local_to_utc_expr(col, source_tz).alias("timestamp")
        return TimeManager.aware_to_utc_expr(col).alias("timestamp")
    raise DataError(f"cannot read timestamps of type {dtype}")


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
