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
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from simcore.errors import UserError

DIGEST_SLICE = 1 << 20  # rows of a text column hashed at once (memory: a slice's, not a table's)


def frame_digest(frame: pl.DataFrame) -> str:
    """SHA-256 over a frame's schema and values (``TableDigest``'s definition)."""
    digest = TableDigest(frame.schema)
    digest.update(frame)
    return digest.hexdigest()


def _numeric(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() or dtype == pl.Boolean or isinstance(dtype, pl.Datetime | pl.Date)


class TableDigest:
    """A table's content digest, taken as its rows are written (a part, a session's bars, at a
    time), so that no column is read back at the end.

    Each column is hashed on its own, end to end, whatever pieces it comes in: a number or
    time column's values (as their physical 8 bytes, a null as 0) and, apart, its null mask; a
    text column's values as text joined by \\x1f, a null as \\x00. The table's digest is the
    SHA-256 of each column's ``name:dtype`` line and its digests, in the schema's order.

    Its hashes do not pickle (a backtest's checkpoint): an unpickled one is ``stale``, and the
    table's digest is then read from its parts once, at the end.
    """

    def __init__(self, schema: pl.Schema):
        self.schema = pl.Schema(schema)
        self.stale = False
        self._values = {name: hashlib.sha256() for name in self.schema}
        self._masks = {name: hashlib.sha256() for name, t in self.schema.items() if _numeric(t)}
        self._texts: set[str] = set()  # the text columns that have had a value

    def update(self, frame: pl.DataFrame) -> None:
        for name in self.schema:
            self.update_column(name, frame[name])

    def update_column(self, name: str, series: pl.Series) -> None:
        dtype = self.schema[name]
        if _numeric(dtype):
            values = series.to_physical() if dtype.is_temporal() else series
            self._values[name].update(values.fill_null(0).to_numpy().tobytes())
            self._masks[name].update(series.is_null().to_numpy().tobytes())
            return
        digest = self._values[name]
        for start in range(0, len(series), DIGEST_SLICE):  # memory: a slice's, not a column's
            part = series.slice(start, DIGEST_SLICE)
            if name in self._texts:
                digest.update(b"\x1f")
            self._texts.add(name)
            if dtype == pl.String:  # joined in Polars, without a Python string per value
                text = part.fill_null("\x00").str.join("\x1f").item()
            else:
                text = "\x1f".join("\x00" if v is None else str(v) for v in part.to_list())
            digest.update(text.encode())

    def hexdigest(self) -> str:
        if self.stale:
            raise RuntimeError("an unpickled TableDigest has lost its hashes")
        table = hashlib.sha256()
        for name, dtype in self.schema.items():
            table.update(f"{name}:{dtype}\n".encode())
            table.update(self._values[name].digest())
            if name in self._masks:
                table.update(self._masks[name].digest())
        return table.hexdigest()

    def __getstate__(self) -> dict:
        return {"schema": dict(self.schema)}

    def __setstate__(self, state: dict) -> None:
        self.__init__(pl.Schema(state["schema"]))
        self.stale = True


@dataclass(frozen=True)
class PartedTable:
    """A table written a part at a time (a session's bars per file, as a run goes), never
    held whole: its height is read from the parts' metadata, its digest was taken as they
    were written (``digested``; else read from them a column at a time), and it is written
    out by streaming them. The digest is the one ``frame_digest`` gives the parts end to end."""

    paths: tuple[Path, ...]
    schema: pl.Schema
    digested: str | None = None  # the digest taken as the parts were written, if it was

    @property
    def height(self) -> int:
        return sum(pl.scan_parquet(p).select(pl.len()).collect().item() for p in self.paths)

    def digest(self) -> str:
        if self.digested is not None:
            return self.digested
        digest = TableDigest(self.schema)  # read back, a column of a part at a time
        for name in self.schema:
            for path in self.paths:
                digest.update_column(name, pl.read_parquet(path, columns=[name])[name])
        return digest.hexdigest()

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
