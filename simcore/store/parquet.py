"""The local market-data store: Parquet files on disk, one folder per dataset, symbol and period.

Layout (all timestamps UTC; the period of a file is taken from its rows' UTC timestamps)::

    <root>/bars/1s/<SYMBOL>/<YYYY-MM-DD>.parquet    one file a day
    <root>/bars/1m/<SYMBOL>/<YYYY-MM>.parquet       one file a month
    <root>/bars/1d/<SYMBOL>/<YYYY>.parquet          one file a year
    <root>/quotes/<SYMBOL>/<YYYY-MM-DD>.parquet
    <root>/ticks/<SYMBOL>/<YYYY-MM-DD>.parquet

Reads are Polars lazy scans of only the files whose period overlaps the asked range, with the
timestamp filter pushed into the Parquet reader, so a day of one symbol reads one file.
Writes merge into the existing file of a period (new rows replace rows with the same timestamp)
and are atomic: the new file is written aside, flushed, and renamed over the old one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from simcore.errors import DataError
from simcore.store.integrity import (
    READ_ERRORS,
    FileProblem,
    StoreCheck,
    check_file,
    leftover_temporary_files,
    naming_damaged_files,
)
from simcore.store.schema import (
    KINDS,
    SCHEMAS,
    STORE_INTERVALS,
    UTC_TS,
    conform,
    folder_symbol,
    symbol_folder,
)
from simcore.time import TimeManager

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# strftime pattern of a file's period, by dataset (kind, interval)
_PERIODS: dict[tuple[str, str | None], str] = {
    ("bars", "1s"): "%Y-%m-%d",
    ("bars", "1m"): "%Y-%m",
    ("bars", "1d"): "%Y",
    ("quotes", None): "%Y-%m-%d",
    ("ticks", None): "%Y-%m-%d",
}


@dataclass(frozen=True, slots=True)
class Dataset:
    """One kind of data in the store: bars of an interval, or quotes, or ticks."""

    kind: str
    interval: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DataError(f"unknown dataset kind {self.kind!r}; valid: {', '.join(KINDS)}")
        if self.kind == "bars" and self.interval not in STORE_INTERVALS:
            raise DataError(
                f"the store holds bars of {', '.join(STORE_INTERVALS)}, not {self.interval!r}; "
                "other intervals are derived by the engine"
            )
        if self.kind != "bars" and self.interval is not None:
            raise DataError(f"{self.kind} have no interval")

    @property
    def label(self) -> str:
        return f"bars {self.interval}" if self.kind == "bars" else self.kind

    @property
    def period_format(self) -> str:
        return _PERIODS[(self.kind, self.interval)]

    def relative_dir(self) -> Path:
        return Path(self.kind, self.interval) if self.interval else Path(self.kind)


BARS_1S, BARS_1M, BARS_1D = Dataset("bars", "1s"), Dataset("bars", "1m"), Dataset("bars", "1d")
QUOTES, TICKS = Dataset("quotes"), Dataset("ticks")
ALL_DATASETS = (BARS_1S, BARS_1M, BARS_1D, QUOTES, TICKS)


@dataclass(frozen=True, slots=True)
class WriteResult:
    rows_written: int  # rows in the frame handed to write()
    rows_replaced: int  # of those, rows that replaced a stored row with the same timestamp
    files: int  # files created or rewritten
    damaged_replaced: tuple[Path, ...] = ()  # damaged files whose unreadable rows were replaced


@dataclass(frozen=True, slots=True)
class DatasetSummary:
    """What ``simcore data info`` shows per symbol and dataset (of the readable files; the
    damaged ones are listed apart, and first/last are None when no file could be read)."""

    dataset: Dataset
    symbol: str
    rows: int
    first: datetime | None
    last: datetime | None
    files: int
    extended_rows: int
    damaged: tuple[FileProblem, ...] = ()


def _parquet_names(folder: Path) -> Iterator[str]:
    """The names of a folder's Parquet files (as ``*.parquet`` globs them: no hidden files);
    nothing when the folder does not exist. One directory read, no per-entry stat."""
    try:
        with os.scandir(folder) as entries:
            names = [e.name for e in entries]
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in names:
        if name.endswith(".parquet") and not name.startswith("."):
            yield name


class ParquetStore:
    """A folder of Parquet files in the layout above."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    # ------------------------------------------------------------------ paths
    def _symbol_dir(self, dataset: Dataset, symbol: str) -> Path:
        return self.root / dataset.relative_dir() / symbol_folder(symbol)

    def files(
        self,
        dataset: Dataset,
        symbol: str,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[Path]:
        """The files of one symbol whose period overlaps [start, end) (all when unbounded)."""
        folder = self._symbol_dir(dataset, symbol)
        fmt = dataset.period_format
        lo = start.strftime(fmt) if start else ""
        hi = end.strftime(fmt) if end else "~"
        return sorted(
            folder / name for name in _parquet_names(folder) if lo <= name[: -len(".parquet")] <= hi
        )

    def symbols(self, dataset: Dataset) -> list[str]:
        folder = self.root / dataset.relative_dir()
        if not folder.is_dir():
            return []
        return sorted(
            folder_symbol(p.name)
            for p in folder.iterdir()
            if p.is_dir() and any(p.glob("*.parquet"))
        )

    def has(self, dataset: Dataset, symbol: str) -> bool:
        return any(True for _ in _parquet_names(self._symbol_dir(dataset, symbol)))

    # ------------------------------------------------------------------ reads
    def scan(
        self,
        dataset: Dataset,
        symbols: Iterable[str],
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        regular_only: bool = False,
    ) -> pl.LazyFrame:
        """A lazy frame of rows with start <= timestamp < end for the symbols, ordered by
        (symbol, timestamp). Only overlapping files are opened; the filter is pushed down."""
        paths = [p for s in symbols for p in self.files(dataset, s, start, end)]
        if not paths:
            return pl.LazyFrame(schema=SCHEMAS[dataset.kind])
        frame = pl.scan_parquet(paths)
        predicate = pl.lit(True)
        if start is not None:
            predicate &= pl.col("timestamp") >= _stamp(start)
        if end is not None:
            predicate &= pl.col("timestamp") < _stamp(end)
        if regular_only:
            predicate &= ~pl.col("extended")
        return frame.filter(predicate)

    def read(
        self,
        dataset: Dataset,
        symbols: Iterable[str],
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        regular_only: bool = False,
    ) -> pl.DataFrame:
        return self.scan(dataset, symbols, start, end, regular_only=regular_only).collect()

    # ------------------------------------------------------------------ writes
    def write(self, dataset: Dataset, frame: pl.DataFrame) -> WriteResult:
        """Merge clean rows into the store. Rows must already be validated (see cleaning.py);
        a timestamp already stored for the symbol is replaced by the new row."""
        if frame.is_empty():
            return WriteResult(0, 0, 0)
        frame = conform(frame, dataset.kind)
        keyed = frame.with_columns(
            pl.col("timestamp").dt.strftime(dataset.period_format).alias("_period")
        )
        replaced = files = 0
        damaged: list[Path] = []
        for (symbol, period), part in keyed.group_by(["symbol", "_period"], maintain_order=True):
            part = part.drop("_period")
            path = self._symbol_dir(dataset, str(symbol)) / f"{period}.parquet"
            if path.exists():
                try:
                    old = pl.read_parquet(path)
                except READ_ERRORS:
                    # a damaged file's rows cannot be read, so nothing is merged from it: the
                    # new rows replace it, and the caller reports the file
                    damaged.append(path)
                else:
                    kept = old.join(part.select("timestamp"), on="timestamp", how="anti")
                    replaced += old.height - kept.height
                    part = pl.concat([kept, part], how="vertical")
            atomic_write(part.sort("timestamp"), path)
            files += 1
        return WriteResult(frame.height, replaced, files, tuple(damaged))

    # ------------------------------------------------------------------ summary
    def summary(self) -> list[DatasetSummary]:
        """Per dataset and symbol: rows, time range, files; damaged files listed, not fatal."""
        out: list[DatasetSummary] = []
        for dataset in ALL_DATASETS:
            for symbol in self.symbols(dataset):
                paths = self.files(dataset, symbol)
                damaged: tuple[FileProblem, ...] = ()
                try:
                    stats = _stats(paths)
                except READ_ERRORS:
                    damaged = tuple(self._check_files(dataset, symbol, paths).problems)
                    bad = {p.path for p in damaged}
                    paths = [p for p in paths if p not in bad]
                    stats = _stats(paths) if paths else None
                out.append(
                    DatasetSummary(
                        dataset,
                        symbol,
                        stats["rows"] if stats else 0,
                        stats["first"] if stats else None,
                        stats["last"] if stats else None,
                        len(paths),
                        int(stats["extended"] or 0) if stats else 0,
                        damaged,
                    )
                )
        return out

    # ------------------------------------------------------------------ integrity
    def check(self, symbols: Iterable[str] | None = None) -> StoreCheck:
        """Read every file (of ``symbols``, or all) whole and check it against the layout;
        also report temporary files left by an interrupted write (whole-store checks only)."""
        wanted = None if symbols is None else set(symbols)
        result = StoreCheck()
        for dataset in ALL_DATASETS:
            for symbol in self.symbols(dataset):
                if wanted is None or symbol in wanted:
                    part = self._check_files(dataset, symbol, self.files(dataset, symbol))
                    result.files_checked += part.files_checked
                    result.problems += part.problems
        if wanted is None:
            result.problems += [
                FileProblem(p, "a temporary file left by an interrupted write; delete it")
                for p in leftover_temporary_files(self.root)
            ]
        return result

    def _check_files(self, dataset: Dataset, symbol: str, paths: list[Path]) -> StoreCheck:
        result = StoreCheck(files_checked=len(paths))
        for path in paths:
            problem = check_file(path, dataset.kind, symbol, dataset.period_format)
            if problem is not None:
                result.problems.append(problem)
        return result

    def reading(self, symbols: Iterable[str]) -> AbstractContextManager[None]:
        """Wrap work that reads ``symbols``' files: a read that fails on a damaged file becomes
        a DamagedStoreError naming the files and what to do."""
        symbols = list(symbols)
        return naming_damaged_files(lambda: self.check(symbols).problems)

    def is_empty(self) -> bool:
        return not any(self.symbols(d) for d in ALL_DATASETS)


def _stats(paths: list[Path]) -> dict[str, object]:
    return (
        pl.scan_parquet(paths)
        .select(
            pl.len().alias("rows"),
            pl.col("timestamp").min().alias("first"),
            pl.col("timestamp").max().alias("last"),
            pl.col("extended").sum().alias("extended"),
        )
        .collect()
        .row(0, named=True)
    )


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise DataError(f"store queries take aware datetimes, got naive {moment}")
    return TimeManager.to_utc(moment)


def _stamp(moment: datetime) -> pl.Expr:
    """``moment`` as a literal of the store's timestamp type. Built from its microseconds:
    Polars converts a Python datetime literal far more slowly (0.25 ms each, 2.5 ms the first
    time in a process), and a backtest builds two per read."""
    micros = (_utc(moment) - _EPOCH) // timedelta(microseconds=1)
    return pl.lit(micros, dtype=pl.Int64).cast(UTC_TS)


def atomic_write(frame: pl.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` so that readers see the old file or the new one, never half."""
    try:
        _write_aside_and_rename(frame, path)
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}") from None


def _write_aside_and_rename(frame: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.write_parquet(tmp, compression="zstd", statistics=True)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
