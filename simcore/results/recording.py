"""Recording a run as it goes: each session's bars (streamed and derived, as views of the
session's arrays where it can), quality, gaps and the account at its close, kept as chunks until
the results are built (``simcore.results.tables``)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from simcore.engine.bars import COLUMNS
from simcore.engine.session_data import SessionData
from simcore.engine.session_days import SESSION_SECONDS, interval_seconds
from simcore.results.trading_tables import StreamedMarks
from simcore.results.writing import PartedTable, TableDigest

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


SIGNAL_SCHEMA = {
    "time": pl.Datetime("ns", "UTC"),
    "symbol": pl.String,
    "side": pl.String,
    "reason": pl.String,
    "values": pl.String,
}


def signals_frame(signals: list) -> pl.DataFrame:
    """The strategy's signals (``ctx.signal``) as a table."""
    return pl.DataFrame(
        [(s.time_ns, s.symbol, s.side, s.reason, s.values) for s in signals],
        schema={**SIGNAL_SCHEMA, "time": pl.Int64},
        orient="row",
    ).with_columns(pl.col("time").cast(pl.Datetime("ns", "UTC")))


@dataclass
class _BarChunk:
    """One session's bars of one interval, as NumPy columns (framed once, at the end)."""

    day: date
    interval: str
    source: str
    symbol_index: np.ndarray
    columns: dict[str, np.ndarray]
    times: np.ndarray  # the times that have a bar of any symbol, in order
    bars: int  # how many were delivered (a streamed chunk not copied keeps fewer rows)


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


STREAMED_BARS_COPIED_UP_TO = 5_000_000  # "auto": a run copies at most this many streamed bars


def copies_streamed_bars(rule: str, symbols: int, sessions: int, base: str | None) -> bool:
    """Whether ``bars.parquet`` holds the streamed bars besides the derived ones. The streamed
    bars are the store's rows (adjusted as the summary's ``price_adjustment`` says), so at
    scale a copy of them is the input twice: ``all`` copies them always, ``derived`` never
    (``store_files`` names the files they are in, with their digests), and ``auto`` while the
    run would copy at most ``STREAMED_BARS_COPIED_UP_TO`` of them, estimated before the first
    session as symbols x sessions x a full session's bars of the base interval (5M: about a
    month of 250 symbols' minutes; a year of 20)."""
    if rule != "auto":
        return rule == "all"
    per_session = SESSION_SECONDS // interval_seconds(base) if base else 0
    return symbols * sessions * max(per_session, 1) <= STREAMED_BARS_COPIED_UP_TO


@dataclass
class BacktestRecorder:
    """Collects each session's results before session_data is cleared for the next one.
    With ``copy_streamed`` False, a streamed chunk keeps only its times and closes (what the
    equity is marked at), and ``bars_frame`` holds the derived bars only."""

    symbols: tuple[str, ...] = ()
    chunks: list[_BarChunk] = field(default_factory=list)
    quality: list[_QualityChunk] = field(default_factory=list)
    gaps: list[dict[str, object]] = field(default_factory=list)
    positions: list[tuple] = field(default_factory=list)  # the account at each session's end
    copy_streamed: bool = True
    # where the bars of each session are written as it ends, when they are not copied
    # (``copy_streamed`` False): the recorder then holds a session's bars, not the run's
    spill_dir: Path | None = None
    # the copied streamed bars go to the parts too (a backtest that checkpoints: what a
    # checkpoint holds is then the account's marks, not the run's bars)
    spill_copies: bool = False
    # the fills and corporate actions of the sessions recorded so far
    _fills_seen: int = 0
    _actions_seen: int = 0
    _streamed_rows: set[int] = field(default_factory=set)  # symbols (rows) with a streamed bar
    _parts: list[Path] = field(default_factory=list)  # the spilled sessions' bars, in order
    _spilled_bars: int = 0  # derived bars in the parts
    _signal_parts: list[Path] = field(default_factory=list)  # the spilled sessions' signals
    # each parted table's digest, taken as its parts are written (None: a resumed recording,
    # whose earlier parts were hashed by the killed run: read from the parts at the end)
    _digests: dict[str, TableDigest] | None = field(default_factory=dict)

    def copy(self) -> BacktestRecorder:
        """A recorder holding what this one holds, to record more into without touching it."""
        return BacktestRecorder(
            self.symbols, list(self.chunks), list(self.quality), list(self.gaps),
            list(self.positions), self.copy_streamed, None, False, self._fills_seen,
            self._actions_seen, set(self._streamed_rows), list(self._parts), self._spilled_bars,
            list(self._signal_parts),
        )  # fmt: skip

    def record_account(self, day: date, trader, session_data: SessionData) -> None:
        from simcore.results.trading_tables import position_rows

        self.positions.extend(position_rows(day, trader, session_data.last_closes()))
        if self.spills or not self.copy_streamed:  # keep only what marks equity
            self._keep_marks_of_held(day, trader)

    def _keep_marks_of_held(self, day: date, trader) -> None:
        """Drop the session's streamed closes of the symbols the account did not hold in it.
        Equity marks a close only while its symbol is held, and a symbol held at some time of
        the session is held at its end or was filled (or split) in it: a position changes by
        nothing else. A close from an earlier session that it needs (no bar yet today) is
        kept in that session, which it ended holding."""
        fills, actions = trader.book.fills, trader.corporate_actions
        keep = set(trader.portfolio.holding)
        keep.update(f.symbol for f in fills[self._fills_seen :])
        keep.update(a[2] for a in actions[self._actions_seen :])
        self._fills_seen, self._actions_seen = len(fills), len(actions)
        row_of = {s: i for i, s in enumerate(self.symbols)}
        wanted = np.array(sorted(row_of[s] for s in keep if s in row_of), dtype=np.int64)
        for chunk in self.chunks:
            if chunk.day == day and chunk.source == "STREAMED":
                rows = np.isin(chunk.symbol_index, wanted)
                chunk.symbol_index = chunk.symbol_index[rows]
                chunk.columns = {name: values[rows] for name, values in chunk.columns.items()}

    def record_session(self, day: date, session_data: SessionData, plan, quality_manager) -> None:
        self.symbols = session_data.symbols
        sources = [(i, "STREAMED", session_data.streamed(i)) for i in plan.bases]
        sources += [(i, "GENERATED", session_data.derived(i)) for i in plan.generated]
        for interval, source, bars in sources:
            if bars is None:
                continue
            rows, slots = bars.revealed_rows()  # by symbol, then time: what was delivered
            delivered = bars.present[:, : bars.revealed]  # the same cells, as a mask (faster)
            # a streamed chunk not copied keeps what marks the equity only
            names = ("close",) if source == "STREAMED" and not self.copy_streamed else COLUMNS[1:]
            if rows.size == delivered.size:  # every cell, by symbol then time: a view where the
                # session's columns are contiguous (no bar is written after its session ends)
                columns = {name: bars.values[name][:, : bars.revealed].ravel() for name in names}
            else:
                columns = {name: bars.values[name][:, : bars.revealed][delivered] for name in names}
            columns["timestamp"] = bars.label_ns[slots]
            times = bars.label_ns[: bars.revealed][delivered.any(axis=0)]
            self.chunks.append(_BarChunk(day, interval, source, rows, columns, times, rows.size))
            if source == "STREAMED":  # the symbols (rows of the mask) with a bar
                self._streamed_rows.update(np.flatnonzero(delivered.any(axis=1)).tolist())
        if self.spills:
            self._spill(day)
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

    @property
    def spills(self) -> bool:
        """Whether each session's bars and signals go to disk as it ends."""
        return self.spill_dir is not None and (not self.copy_streamed or self.spill_copies)

    def _part(self, kind: str, parts: list[Path], frame: pl.DataFrame) -> None:
        assert self.spill_dir is not None
        if not self._parts and not self._signal_parts:  # this run's parts only (an earlier
            shutil.rmtree(self.spill_dir, ignore_errors=True)  # killed run's are stale)
            self.spill_dir.mkdir(parents=True)
            self._digests = {}
        path = self.spill_dir / f"{kind}-{len(parts):05d}.parquet"
        frame.write_parquet(path, compression="lz4")
        parts.append(path)
        if self._digests is not None:
            schema = pl.Schema(BAR_SCHEMA if kind == "bars" else SIGNAL_SCHEMA)
            self._digests.setdefault(kind, TableDigest(schema)).update(frame)

    def _spill(self, day: date) -> None:
        """Write ``day``'s bars (derived, and streamed when copied) as the next part and let go
        of them; a streamed chunk keeps its times and closes (what equity is marked at)."""
        today = [c for c in self.chunks if c.day == day]
        written = [c for c in today if c.source != "STREAMED" or self.copy_streamed]
        if not written:
            return
        self._part("bars", self._parts, self._frame(written))
        self._spilled_bars += sum(c.bars for c in written if c.source != "STREAMED")
        for chunk in today:
            if chunk.source == "STREAMED":
                chunk.columns = {k: chunk.columns[k] for k in ("timestamp", "close")}
        self.chunks = [c for c in self.chunks if not (c.day == day and c.source != "STREAMED")]

    def record_signals(self, signals: list) -> None:
        """When spilling: the signals so far (a session's) to the next part, and the list
        emptied (the strategy's context keeps appending to it)."""
        if self.spills and signals:
            self._part("signals", self._signal_parts, signals_frame(signals))
            signals.clear()

    def bars_table(self) -> pl.DataFrame | PartedTable:
        """Every recorded bar: a frame, or the parts written as the sessions ended."""
        if self.spills:
            return self._parted("bars", self._parts, BAR_SCHEMA)
        return self.bars_frame()

    def signals_table(self, signals: list) -> pl.DataFrame | PartedTable:
        """Every signal: a frame of ``signals``, or the parts and then ``signals``' rest."""
        if not self.spills:
            return signals_frame(signals)
        self.record_signals(signals)
        return self._parted("signals", self._signal_parts, SIGNAL_SCHEMA)

    def _parted(self, kind: str, parts: list[Path], schema: dict) -> PartedTable:
        if self._digests is None:  # resumed: read back from the parts
            return PartedTable(tuple(parts), pl.Schema(schema))
        digest = self._digests.get(kind) or TableDigest(pl.Schema(schema))  # no part: empty
        return PartedTable(tuple(parts), pl.Schema(schema), digest.hexdigest())

    @property
    def parts(self) -> list[Path]:
        """The parts written so far (bars, then signals)."""
        return self._parts + self._signal_parts

    def resume_in(self, spill_dir: Path) -> None:
        """Continue a checkpointed recording whose parts are in ``spill_dir``: the parts it
        names stay, any other (a session after the checkpoint, written again) goes."""
        self.spill_dir = spill_dir
        self._digests = None  # the killed run's hashes did not survive it
        self._parts = [spill_dir / p.name for p in self._parts]
        self._signal_parts = [spill_dir / p.name for p in self._signal_parts]
        own = set(self.parts)
        for path in spill_dir.glob("*") if spill_dir.is_dir() else ():
            if path not in own:
                path.unlink()

    def remove_parts(self) -> None:
        """Once the tables are written, the parts they were made of go."""
        if self.spill_dir is not None and (self._parts or self._signal_parts):
            shutil.rmtree(self.spill_dir, ignore_errors=True)

    def streamed_symbols(self) -> set[str]:
        """The symbols with a streamed bar in some session."""
        return {self.symbols[i] for i in self._streamed_rows}

    def bar_count(self, source: str) -> int:
        """How many bars of ``source`` (STREAMED or GENERATED) were recorded."""
        spilled = self._spilled_bars if source == "GENERATED" else 0
        return spilled + sum(c.bars for c in self.chunks if c.source == source)

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
        """Every recorded bar in one frame (the streamed ones only when they are copied),
        built from the chunks in one go."""
        return self._frame([c for c in self.chunks if self.copy_streamed or c.source != "STREAMED"])

    def _frame(self, chunks: list[_BarChunk]) -> pl.DataFrame:
        if not chunks:
            return pl.DataFrame(schema=BAR_SCHEMA)
        sizes = [len(c.symbol_index) for c in chunks]
        chunk_of_row = pl.Series(np.repeat(np.arange(len(chunks)), sizes))

        def per_chunk(values: list, dtype: pl.DataType) -> pl.Series:
            return pl.Series(values, dtype=dtype).gather(chunk_of_row)

        symbols = pl.Series(list(self.symbols), dtype=pl.String)
        frame = pl.DataFrame(
            {
                "session_date": per_chunk([c.day for c in chunks], pl.Date),
                "symbol": symbols.gather(
                    pl.Series(np.concatenate([c.symbol_index for c in chunks]))
                ),
                "interval": per_chunk([c.interval for c in chunks], pl.String),
                "source": per_chunk([c.source for c in chunks], pl.String),
                "timestamp": _chunked([c.columns["timestamp"] for c in chunks]).cast(
                    pl.Datetime("ns", "UTC")
                ),
                **{name: _chunked([c.columns[name] for c in chunks]) for name in COLUMNS[1:]},
            }
        )
        return frame
