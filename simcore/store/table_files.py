"""CSV and Parquet files read into the store's schema: columns mapped and found whatever
their spelling, timestamps made UTC (never guessed), numbers parsed with failures left null for
the cleaner to count — whole, or a block at a time for a file bigger than memory (pyarrow's
streaming readers: a CSV's blocks of text, a Parquet file's row groups).

May import what the package may (simcore.store.parquet and .schema here).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from pathlib import Path

import polars as pl
import pyarrow as pa

from simcore.errors import DataError
from simcore.store.parquet import Dataset
from simcore.store.schema import REQUIRED, SCHEMAS
from simcore.time import TimeManager

EPOCH_UNITS = ("s", "ms", "us", "ns")


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


BLOCK_ROWS = 1_000_000  # rows of a file read and cleaned at once: about 1 GB of the process at most


def read_table(path: Path, dataset: Dataset, tm: TimeManager, **reading) -> pl.DataFrame:
    """A CSV or Parquet file in the store schema of ``dataset``, whole (``read_blocks``, whose
    options ``reading`` are, reads one too big to hold a block at a time)."""
    return pl.concat(list(read_blocks(path, dataset, tm, **reading, block_rows=None)))


def read_blocks(
    path: Path,
    dataset: Dataset,
    tm: TimeManager,
    *,
    columns: Mapping[str, str] | None = None,
    source_tz: str | None = None,
    symbol: str | None = None,
    epoch_unit: str | None = None,
    block_rows: int | None = BLOCK_ROWS,
) -> Iterator[pl.DataFrame]:
    """A CSV or Parquet file in the store schema of ``dataset``, ``block_rows`` rows at a time
    in file order (None: whole), so that a file bigger than memory imports in a block's memory.

    Text timestamps with an offset are converted to UTC; naive ones are taken as wall-clock
    time in ``source_tz``, which must then be given: a file of exchange-local times read as
    UTC lands hours off, outside the regular session, so simcore never guesses. Integer
    timestamps need ``epoch_unit`` (they are UTC). Values that do not parse become nulls,
    which the cleaner counts as bad rows instead of the import failing. Each block is read as
    the first is: a problem found in a later block (a naive timestamp without ``source_tz``)
    stops the import there.
    """
    if not path.is_file():
        raise DataError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    if source_tz is not None:
        TimeManager.check_timezone(source_tz)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv", ".txt"):
        raise DataError(f"{path}: expected a .csv or .parquet file")
    mapping = dict(columns or {})
    unknown = [c for c in mapping if c not in SCHEMAS[dataset.kind]]
    if unknown:
        valid = ", ".join(SCHEMAS[dataset.kind])
        raise DataError(f"mapping names unknown store column(s) {unknown}; valid: {valid}")
    form = "Parquet" if suffix == ".parquet" else "CSV"
    raw_blocks = _raw_blocks(path, suffix == ".parquet", block_rows)
    first = True
    while True:
        try:
            raw = next(raw_blocks, None)
        except (pl.exceptions.PolarsError, pa.ArrowException, OSError) as exc:
            if first and "empty" in str(exc).lower():
                raise DataError(f"{path}: the file is empty") from None
            raise DataError(f"{path}: cannot be read as {form}: {exc}") from None
        if raw is None:
            return
        if first and raw.height == 0:
            raise DataError(
                f"{path}: the file has no rows (only its columns: {', '.join(raw.columns)})"
            )
        first = False
        if raw.height:
            yield _in_store_schema(raw, path, dataset, tm, mapping, source_tz, symbol, epoch_unit)


def _raw_blocks(path: Path, parquet: bool, block_rows: int | None) -> Iterator[pl.DataFrame]:
    """The file's rows as they are (a CSV's as text: parsed later, failures counted)."""
    # pyarrow's readers (and the filesystems pyarrow.parquet loads) only where a file is read
    # in blocks: a process that imports no file (a live session, a backtest) never loads them
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    if block_rows is None:
        if parquet:
            yield pl.read_parquet(path)
        else:
            try:
                yield pl.read_csv(path, infer_schema=False)
            except pl.exceptions.NoDataError:
                raise DataError(f"{path}: the file is empty") from None
        return
    if parquet:  # row group by row group (pyarrow's reader): a block is never the whole file
        reader = pq.ParquetFile(path)
        if reader.metadata.num_rows == 0:
            yield pl.DataFrame(schema=pl.from_arrow(reader.schema_arrow.empty_table()).schema)
            return
        for batch in reader.iter_batches(batch_size=block_rows):
            yield pl.from_arrow(pa.Table.from_batches([batch]))  # type: ignore[misc]
        return
    with path.open(newline="", encoding="utf-8-sig") as f:
        header = next(csv.reader(f), None)
    if not header:
        raise DataError(f"{path}: the file is empty")
    reader = pa_csv.open_csv(  # every value as text, an empty one null (as Polars reads it)
        path,
        read_options=pa_csv.ReadOptions(block_size=4 << 20, column_names=header, skip_rows=1),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()),
            null_values=[""],
            strings_can_be_null=True,
        ),
    )
    pending = pa.Table.from_batches([], schema=reader.schema)
    yielded = False
    for batch in reader:  # blocks of block_rows rows, whatever the reader's batches
        pending = pa.concat_tables([pending, pa.Table.from_batches([batch])])
        while pending.num_rows >= block_rows:
            yield pl.from_arrow(pending.slice(0, block_rows))  # type: ignore[misc]
            pending, yielded = pending.slice(block_rows), True
    if pending.num_rows or not yielded:
        yield pl.from_arrow(pending)  # type: ignore[misc]


def _in_store_schema(
    raw: pl.DataFrame,
    path: Path,
    dataset: Dataset,
    tm: TimeManager,
    mapping: dict[str, str],
    source_tz: str | None,
    symbol: str | None,
    epoch_unit: str | None,
) -> pl.DataFrame:
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
