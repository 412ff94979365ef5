"""Is the store sound? Checks of its files, for ``simcore data check`` and for read errors.

A file in the store can be damaged behind simcore's back: a copy cut short, a disk error, a
file overwritten by another tool. Polars then fails deep inside a query with a message about
Parquet footers that names no file. These checks find the files, say what is wrong with each,
and what to do, so that every command can answer a damaged store with a user error.

``check_file`` reads one file whole (every page decompressed) and checks it against the store's
layout: the columns of its dataset, rows of its folder's symbol only, timestamps sorted and
unique, all inside the file's period. ``check_store`` does that for every file, and reports the
temporary files an interrupted write can leave.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from simcore.errors import DataError
from simcore.store.schema import REQUIRED, SCHEMAS

WHAT_TO_DO = (
    "re-import the data of each file (`simcore data import ...` replaces a damaged file), or "
    "delete it (its rows are then missing, and show as gaps in quality); "
    "`simcore data check` verifies the whole store"
)

# What a failed read raises: Polars' own errors, Arrow's, or the OS's.
READ_ERRORS: tuple[type[BaseException], ...] = (pl.exceptions.PolarsError, OSError)


@dataclass(frozen=True, slots=True)
class FileProblem:
    path: Path
    problem: str


@dataclass
class StoreCheck:
    """The outcome of checking files: how many were read, and what was wrong."""

    files_checked: int = 0
    rows_checked: int = 0
    problems: list[FileProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class DamagedStoreError(DataError):
    """Files of the store cannot be read; the message names them and says what to do."""

    def __init__(self, problems: list[FileProblem]):
        self.problems = problems
        lines = [f"{len(problems)} damaged file(s) in the store:"]
        lines += [f"  {p.path}: {p.problem}" for p in problems]
        lines.append(f"What to do: {WHAT_TO_DO}.")
        super().__init__("\n".join(lines))


def check_file(path: Path, kind: str, symbol: str, period_format: str) -> FileProblem | None:
    """None when the file is sound, else what is wrong with it (the first thing found)."""
    try:
        frame = pl.read_parquet(path)
    except READ_ERRORS as exc:
        return FileProblem(path, f"cannot be read as Parquet (cut short or overwritten?): {exc}")
    missing = [c for c in REQUIRED[kind] if c not in frame.columns]
    if missing:
        return FileProblem(path, f"lacks the column(s) {', '.join(missing)} of {kind}")
    wrong = [
        f"{name} is {frame.schema[name]}, not {dtype}"
        for name, dtype in SCHEMAS[kind].items()
        if name in frame.columns and frame.schema[name] != dtype
    ]
    if wrong:
        return FileProblem(path, "wrong column types: " + "; ".join(wrong))
    if frame.is_empty():
        return None
    others = frame.filter(pl.col("symbol") != symbol)["symbol"].unique().sort().to_list()
    if others:
        return FileProblem(path, f"holds rows of {', '.join(others)} in {symbol}'s folder")
    stamps = frame["timestamp"]
    if stamps.null_count():
        return FileProblem(path, f"{stamps.null_count()} row(s) without a timestamp")
    if not stamps.is_sorted():
        return FileProblem(path, "rows are not in time order")
    if stamps.n_unique() != frame.height:
        return FileProblem(path, f"{frame.height - stamps.n_unique()} duplicate timestamp(s)")
    periods = stamps.dt.strftime(period_format).unique().to_list()
    if periods != [path.stem]:
        outside = sorted(p for p in periods if p != path.stem)
        return FileProblem(path, f"rows from {', '.join(outside)} in the file of {path.stem}")
    return None


def leftover_temporary_files(root: Path) -> Iterator[Path]:
    """Files a write that was interrupted can leave beside the store's files."""
    if root.is_dir():
        yield from sorted(root.rglob(".*.tmp"))


@contextmanager
def naming_damaged_files(check: Callable[[], list[FileProblem]]) -> Iterator[None]:
    """Turn a failed read into a DamagedStoreError when ``check()`` finds damaged files.

    The happy path costs nothing; only when a read fails are the files checked. A read error
    with no damaged file behind it is re-raised as it was (a bug, not the user's data).
    """
    try:
        yield
    except READ_ERRORS as exc:
        problems = check()
        if problems:
            raise DamagedStoreError(problems) from exc
        raise
