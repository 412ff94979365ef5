"""Writing a run's results: each table as Parquet, and ``manifest.json`` with the summary, every
table's row count and a digest of its content — never half-written.

Digests are taken over the frames' canonical content (column names, types and values), not
over Parquet file bytes, which carry writer metadata: the same config and data give the same
manifest, byte for byte, whatever PYTHONHASHSEED or machine. Wall-clock metrics go to a
separate ``metrics.json``, outside the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from simcore.errors import UserError

DIGEST_SLICE = 1 << 20  # rows of a text column hashed at once (memory: a slice's, not a table's)


def frame_digest(frame: pl.DataFrame) -> str:
    """SHA-256 over a frame's schema and values, column by column."""
    return _digest(frame.schema, lambda name: iter((frame[name],)))


def _digest(schema: pl.Schema, pieces: Callable[[str], Iterator[pl.Series]]) -> str:
    """The digest of a table given as pieces of each column, end to end (``pieces(name)``: a
    fresh iterator over them): a column's values, then (numbers and times) its null mask."""
    digest = hashlib.sha256()
    for name, dtype in schema.items():
        digest.update(f"{name}:{dtype}\n".encode())
        if dtype.is_numeric() or dtype == pl.Boolean or isinstance(dtype, pl.Datetime | pl.Date):
            for series in pieces(name):
                values = series.to_physical() if dtype.is_temporal() else series
                digest.update(values.fill_null(0).to_numpy().tobytes())
            for series in pieces(name):
                digest.update(series.is_null().to_numpy().tobytes())
            continue
        # the values as text joined by \x1f, a null as \x00: fed a slice at a time
        first = True
        for series in pieces(name):
            for start in range(0, len(series), DIGEST_SLICE):
                part = series.slice(start, DIGEST_SLICE)
                if not first:
                    digest.update(b"\x1f")
                first = False
                if dtype == pl.String:  # joined in Polars, without a Python string per value
                    text = part.fill_null("\x00").str.join("\x1f").item()
                else:
                    text = "\x1f".join("\x00" if v is None else str(v) for v in part.to_list())
                digest.update(text.encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class PartedTable:
    """A table written a part at a time (a session's bars per file, as a run goes), never
    held whole: its height and digest are read from the parts a column at a time, and it is
    written out by streaming them. The digest is the one ``frame_digest`` gives the parts
    end to end."""

    paths: tuple[Path, ...]
    schema: pl.Schema

    @property
    def height(self) -> int:
        return sum(pl.scan_parquet(p).select(pl.len()).collect().item() for p in self.paths)

    def digest(self) -> str:
        def pieces(name: str) -> Iterator[pl.Series]:
            return (pl.read_parquet(p, columns=[name])[name] for p in self.paths)

        return _digest(self.schema, pieces)

    def lazy(self) -> pl.LazyFrame:
        if not self.paths:
            return pl.LazyFrame(schema=self.schema)
        return pl.scan_parquet(list(self.paths))

    def write(self, path: Path) -> None:
        self.lazy().sink_parquet(path, compression="zstd")


def prepare_out_dir(out_dir: Path) -> None:
    """Make sure results can be written to ``out_dir`` before a run starts, not after it."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out {out_dir}: a file is in the way; the results are a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"--out {out_dir}: cannot create the folder: {exc.strerror}") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise UserError(f"--out {out_dir}: the folder is not writable")


def write_outputs(
    out_dir: Path,
    tables: dict[str, pl.DataFrame | PartedTable],
    summary: dict[str, object],
    metrics: dict[str, object] | None = None,
) -> dict[str, object]:
    """Write each table as Parquet plus manifest.json (row counts and content digests).

    Never half-written: every file is written aside first, the previous manifest is removed,
    the files are renamed into place, and the new manifest comes last. A folder without a
    manifest is not a complete result.
    """
    prepare_out_dir(out_dir)
    manifest: dict[str, object] = {"summary": summary, "tables": {}}
    staged: dict[str, bytes | pl.DataFrame | PartedTable] = {}
    for name, frame in tables.items():
        staged[f"{name}.parquet"] = frame
        manifest["tables"][name] = {  # type: ignore[index]
            "file": f"{name}.parquet",
            "rows": frame.height,
            "sha256": frame.digest() if isinstance(frame, PartedTable) else frame_digest(frame),
        }
    if metrics is not None:
        staged["metrics.json"] = (json.dumps(metrics, indent=2) + "\n").encode()
    staged["manifest.json"] = (
        json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n"
    ).encode()
    try:
        _write_staged(out_dir, staged)
    except OSError as exc:
        raise UserError(f"cannot write the results to {out_dir}: {exc.strerror or exc}") from None
    return manifest


def _write_staged(out_dir: Path, staged: dict[str, bytes | pl.DataFrame | PartedTable]) -> None:
    aside = {name: out_dir / f".{name}.{os.getpid()}.partial" for name in staged}
    try:
        for name, content in staged.items():
            if isinstance(content, PartedTable):
                content.write(aside[name])
            elif isinstance(content, pl.DataFrame):
                content.write_parquet(aside[name], compression="zstd")
            else:
                aside[name].write_bytes(content)
        (out_dir / "manifest.json").unlink(missing_ok=True)
        for name in staged:  # manifest.json is the last of them
            os.replace(aside[name], out_dir / name)
    finally:
        for path in aside.values():
            path.unlink(missing_ok=True)
