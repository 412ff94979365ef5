"""A backtest's results: deterministic tables, written as Parquet with a manifest of digests.

Everything here follows from the config and the data alone, so the same inputs give the same
bytes of content whatever PYTHONHASHSEED or machine. Digests are taken over the frames'
canonical content (column names, types and values), not over Parquet file bytes, which carry
writer metadata. Wall-clock metrics go to a separate ``metrics.json``, outside the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from simcore.engine.bars import COLUMNS
from simcore.engine.session_data import SessionData
from simcore.errors import UserError
from simcore.results.trading_tables import StreamedMarks

BAR_SCHEMA = {
    "session_date": pl.Date,
    "symbol": pl.String,
    "interval": pl.String,
    "source": pl.String,
    "timestamp": pl.Datetime("ns", "UTC"),
    "open": pl.Float64,
    "high": pl.Float64,
    "low": pl.Float64,
    "close": pl.Float64,
    "volume": pl.Float64,
}


def frame_digest(frame: pl.DataFrame) -> str:
    """SHA-256 over a frame's schema and values, column by column."""
    digest = hashlib.sha256()
    for name, dtype in frame.schema.items():
        digest.update(f"{name}:{dtype}\n".encode())
        series = frame[name]
        if dtype.is_numeric() or dtype == pl.Boolean:
            digest.update(series.fill_null(0).to_numpy().tobytes())
            digest.update(series.is_null().to_numpy().tobytes())
        elif isinstance(dtype, pl.Datetime | pl.Date):
            digest.update(series.to_physical().fill_null(0).to_numpy().tobytes())
            digest.update(series.is_null().to_numpy().tobytes())
        else:
            digest.update(
                "\x1f".join("\x00" if v is None else str(v) for v in series.to_list()).encode()
            )
    return digest.hexdigest()


@dataclass
class _BarChunk:
    """One session's bars of one interval, as NumPy columns (framed once, at the end)."""

    day: date
    interval: str
    source: str
    symbol_index: np.ndarray
    columns: dict[str, np.ndarray]
    times: np.ndarray  # the times that have a bar of any symbol, in order


@dataclass
class _QualityChunk:
    """One session's quality of one interval ("historical 1d" for a trailing window) for the
    symbols that have it (indices into the recorder's symbols)."""

    day: date
    interval: str
    symbol_index: np.ndarray
    quality: np.ndarray


def _chunked(arrays: list[np.ndarray]) -> pl.Series:
    """One Series over the arrays, each a chunk of it: Polars wraps NumPy's numeric buffers
    without copying, so a million recorded bars are framed without moving them."""
    return pl.concat([pl.Series(a) for a in arrays], rechunk=False)


def _joined(arrays: list[np.ndarray], dtype) -> np.ndarray:
    """The arrays end to end (an empty array of ``dtype`` when there are none)."""
    return np.concatenate(arrays) if arrays else np.array([], dtype=dtype)


def _round6(values: np.ndarray) -> np.ndarray:
    """Python's round(v, 6) of each value (correctly rounded, unlike np.round's scaling), done
    once per distinct value: a session's percentages are mostly 100."""
    distinct, inverse = np.unique(values, return_inverse=True)
    return np.array([round(float(v), 6) for v in distinct], dtype=np.float64)[inverse]


@dataclass
class BacktestRecorder:
    """Collects each session's results before session_data is cleared for the next one."""

    symbols: tuple[str, ...] = ()
    chunks: list[_BarChunk] = field(default_factory=list)
    quality: list[_QualityChunk] = field(default_factory=list)
    gaps: list[dict[str, object]] = field(default_factory=list)
    positions: list[tuple] = field(default_factory=list)  # the account at each session's end

    def copy(self) -> BacktestRecorder:
        """A recorder holding what this one holds, to record more into without touching it."""
        return BacktestRecorder(
            self.symbols, list(self.chunks), list(self.quality), list(self.gaps),
            list(self.positions),
        )  # fmt: skip

    def record_account(self, day: date, trader, session_data: SessionData) -> None:
        from simcore.results.trading_tables import position_rows

        self.positions.extend(position_rows(day, trader, session_data.last_closes()))

    def record_session(self, day: date, session_data: SessionData, plan, quality_manager) -> None:
        self.symbols = session_data.symbols
        sources = [(i, "STREAMED", session_data.streamed(i)) for i in plan.bases]
        sources += [(i, "GENERATED", session_data.derived(i)) for i in plan.generated]
        for interval, source, bars in sources:
            if bars is None:
                continue
            rows, slots = bars.revealed_rows()  # by symbol, then time: what was delivered
            delivered = bars.present[:, : bars.revealed]  # the same cells, as a mask (faster)
            if rows.size == delivered.size:  # every cell, by symbol then time: a view where the
                # session's columns are contiguous (no bar is written after its session ends)
                columns = {
                    name: bars.values[name][:, : bars.revealed].ravel() for name in COLUMNS[1:]
                }
            else:
                columns = {
                    name: bars.values[name][:, : bars.revealed][delivered] for name in COLUMNS[1:]
                }
            columns["timestamp"] = bars.label_ns[slots]
            times = bars.label_ns[: bars.revealed][delivered.any(axis=0)]
            self.chunks.append(_BarChunk(day, interval, source, rows, columns, times))
        for interval, rows, percent in quality_manager.quality_arrays():
            self.quality.append(_QualityChunk(day, interval, rows, _round6(percent)))
        for interval, percent in session_data.historical_qualities().items():
            rows = np.flatnonzero(~np.isnan(percent))
            self.quality.append(
                _QualityChunk(day, f"historical {interval}", rows, _round6(percent[rows]))
            )
        for gap in quality_manager.gaps:
            self.gaps.append(
                {
                    "session_date": day,
                    "symbol": gap.symbol,
                    "interval": gap.interval,
                    "start_ns": gap.start_ns,
                    "end_ns": gap.end_ns,
                    "retries": gap.retries,
                }
            )

    def quality_frame(self) -> pl.DataFrame:
        """Every recorded quality: session_date, symbol, interval, quality (unsorted)."""
        chunks = self.quality
        sizes = [len(c.symbol_index) for c in chunks]
        chunk_of_row = pl.Series(np.repeat(np.arange(len(chunks)), sizes), dtype=pl.Int64)
        symbols = pl.Series(list(self.symbols), dtype=pl.String)
        index = np.concatenate([c.symbol_index for c in chunks]) if chunks else np.array([])
        return pl.DataFrame(
            {
                "session_date": pl.Series([c.day for c in chunks], dtype=pl.Date).gather(
                    chunk_of_row
                ),
                "symbol": symbols.gather(pl.Series(index, dtype=pl.Int64)),
                "interval": pl.Series([c.interval for c in chunks], dtype=pl.String).gather(
                    chunk_of_row
                ),
                "quality": pl.Series(
                    np.concatenate([c.quality for c in chunks]) if chunks else [],
                    dtype=pl.Float64,
                ),
            }
        )

    def bar_count(self, source: str) -> int:
        """How many bars of ``source`` (STREAMED or GENERATED) were recorded."""
        return sum(len(c.symbol_index) for c in self.chunks if c.source == source)

    def streamed_marks(self) -> StreamedMarks:
        """The streamed bars' times and closes that equity is marked at, from the chunks (not
        a filter of the whole bars table)."""
        streamed = [c for c in self.chunks if c.source == "STREAMED"]
        day_of_row = pl.Series(
            np.repeat(np.arange(len(streamed)), [c.times.size for c in streamed])
        )
        times = (
            pl.DataFrame(
                {
                    "session_date": pl.Series([c.day for c in streamed], dtype=pl.Date).gather(
                        day_of_row
                    ),
                    "timestamp": pl.Series(_joined([c.times for c in streamed], np.int64)).cast(
                        pl.Datetime("ns", "UTC")
                    ),
                }
            )
            .unique()
            .sort("timestamp")
        )

        def closes(symbols: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
            """Each chunk holds its symbols' rows in runs, by symbol then time: a symbol's bars
            are its run in every session, one after the other."""
            wanted = np.array([self.symbols.index(s) for s in symbols], dtype=np.int64)
            runs = [
                (
                    c,
                    np.searchsorted(c.symbol_index, wanted),
                    np.searchsorted(c.symbol_index, wanted, "right"),
                )
                for c in streamed
            ]
            out = {}
            for k, symbol in enumerate(symbols):
                parts = [(c, int(lo[k]), int(hi[k])) for c, lo, hi in runs if hi[k] > lo[k]]
                if parts:
                    out[symbol] = (
                        np.concatenate([c.columns["timestamp"][a:b] for c, a, b in parts]),
                        np.concatenate([c.columns["close"][a:b] for c, a, b in parts]),
                    )
            return out

        return StreamedMarks(times, closes)

    def bars_frame(self) -> pl.DataFrame:
        """Every recorded bar in one frame, built from the chunks in one go."""
        if not self.chunks:
            return pl.DataFrame(schema=BAR_SCHEMA)
        sizes = [len(c.symbol_index) for c in self.chunks]
        chunk_of_row = pl.Series(np.repeat(np.arange(len(self.chunks)), sizes))

        def per_chunk(values: list, dtype: pl.DataType) -> pl.Series:
            return pl.Series(values, dtype=dtype).gather(chunk_of_row)

        symbols = pl.Series(list(self.symbols), dtype=pl.String)
        frame = pl.DataFrame(
            {
                "session_date": per_chunk([c.day for c in self.chunks], pl.Date),
                "symbol": symbols.gather(
                    pl.Series(np.concatenate([c.symbol_index for c in self.chunks]))
                ),
                "interval": per_chunk([c.interval for c in self.chunks], pl.String),
                "source": per_chunk([c.source for c in self.chunks], pl.String),
                "timestamp": _chunked([c.columns["timestamp"] for c in self.chunks]).cast(
                    pl.Datetime("ns", "UTC")
                ),
                **{name: _chunked([c.columns[name] for c in self.chunks]) for name in COLUMNS[1:]},
            }
        )
        return frame


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


def build_tables(
    recorder: BacktestRecorder, coordinator, engine, overruns: list | None = None
) -> dict[str, pl.DataFrame]:
    """Every deterministic output table, in an order that never depends on timing."""
    # Already in a canonical order, as recorded: session, streamed then derived intervals from
    # the shortest, symbols in config order, time. No sort needed.
    bars = recorder.bars_frame()
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
    signals = pl.DataFrame(
        [
            {
                "time": s.time_ns,
                "symbol": s.symbol,
                "side": s.side,
                "reason": s.reason,
                "values": s.values,
            }
            for s in engine.ctx.signals
        ],
        schema={
            "time": pl.Int64,
            "symbol": pl.String,
            "side": pl.String,
            "reason": pl.String,
            "values": pl.String,
        },
    ).with_columns(pl.col("time").cast(pl.Datetime("ns", "UTC")))
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
    tables: dict[str, pl.DataFrame],
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
    staged: dict[str, bytes | pl.DataFrame] = {}
    for name, frame in tables.items():
        staged[f"{name}.parquet"] = frame
        manifest["tables"][name] = {  # type: ignore[index]
            "file": f"{name}.parquet",
            "rows": frame.height,
            "sha256": frame_digest(frame),
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


def _write_staged(out_dir: Path, staged: dict[str, bytes | pl.DataFrame]) -> None:
    aside = {name: out_dir / f".{name}.{os.getpid()}.partial" for name in staged}
    try:
        for name, content in staged.items():
            if isinstance(content, pl.DataFrame):
                content.write_parquet(aside[name], compression="zstd")
            else:
                aside[name].write_bytes(content)
        (out_dir / "manifest.json").unlink(missing_ok=True)
        for name in staged:  # manifest.json is the last of them
            os.replace(aside[name], out_dir / name)
    finally:
        for path in aside.values():
            path.unlink(missing_ok=True)
