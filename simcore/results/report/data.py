"""What the report shows, computed from a results folder: small, chart-ready summaries.

A run's folder holds every bar, order and fill; a year of 500 symbols' minutes is ~50M bars.
The page must open in a few seconds, so nothing here is sent whole: equity and drawdown are cut
into at most ``MAX_POINTS`` buckets (the last equity and the deepest drawdown of each, so a
drawdown is never smoothed away), each symbol's price into at most ``MAX_BARS`` OHLC bars of
its strategy's interval (consecutive bars merged; fewer each when there are many symbols, so
that the page stays near ``PAGE_POINTS`` points: 400 bars a symbol for 500 symbols), its
fills, signals and orders thinned alike with their totals said, and lists (gaps, overruns)
capped with their full count said. Times are the exchange's wall clock (the run's timezone), as epoch
milliseconds, which is what a date axis in the browser reads without a timezone database.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from simcore.config.vocabulary import interval_sort_key
from simcore.errors import UserError
from simcore.time import TimeManager

MAX_POINTS = 4_000  # equity and drawdown points
MAX_BARS = 1_500  # price bars of one symbol, at most
ROWS_AT_ONCE = 2_000_000  # rows of a table read at once to draw the symbols' series
MAX_MARKS = 2_000  # fills, signals or orders of one symbol, at most
PAGE_POINTS = 200_000  # per-symbol points of the whole page, about: many symbols get fewer each
MIN_PER_SYMBOL = 100
MAX_ROWS = 500  # rows of a listed table (gaps, overruns, gap fills)


@dataclass
class RunFiles:
    """A results folder as written by ``simcore.results.recording``: its tables, summary and metrics."""

    folder: Path
    summary: dict
    metrics: dict
    tables: dict[str, pl.LazyFrame] = field(default_factory=dict)

    @classmethod
    def read(cls, folder: Path) -> RunFiles:
        manifest_path = folder / "manifest.json"
        if not manifest_path.is_file():
            raise UserError(
                f"{folder} is not a results folder: it has no manifest.json "
                "(`simcore backtest` and `simcore live` write one)"
            )
        manifest = json.loads(manifest_path.read_text())
        metrics_path = folder / "metrics.json"
        metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
        tables = {path.stem: pl.scan_parquet(path) for path in sorted(folder.glob("*.parquet"))}
        return cls(folder, manifest.get("summary", {}), metrics, tables)

    def table(self, name: str) -> pl.DataFrame:
        lazy = self.tables.get(name)
        return lazy.collect() if lazy is not None else pl.DataFrame()

    @property
    def timezone(self) -> str:
        return self.summary.get("timezone", "America/New_York")


def local_ms(column: str, timezone: str) -> pl.Expr:
    """Epoch milliseconds of the exchange's wall clock (a date axis shows them as they read)."""
    return TimeManager.wall_clock_ms_expr(pl.col(column), timezone).alias(column)


def _bucket_size(rows: int, limit: int) -> int:
    return max(1, math.ceil(rows / limit))


def equity_curve(run: RunFiles) -> dict[str, list]:
    """Equity and drawdown (fraction below the running peak), cut into at most MAX_POINTS."""
    equity = run.table("equity")
    if equity.is_empty():
        return {"t": [], "equity": [], "drawdown": [], "exposure": []}
    start = (run.summary.get("statistics") or {}).get("start_equity")
    peak = pl.col("equity").cum_max()
    if start:  # the starting cash is the first peak
        peak = pl.max_horizontal(peak, pl.lit(float(start)))
    value = pl.col("market_value") if "market_value" in equity.columns else pl.lit(0.0)
    frame = (
        equity.sort("timestamp")
        .select(local_ms("timestamp", run.timezone), "equity", value.alias("market_value"))
        .with_columns(
            (pl.col("equity") / peak - 1).alias("drawdown"),
            (pl.col("market_value") / pl.col("equity")).alias("exposure"),
        )
        .with_row_index("row")
    )
    size = _bucket_size(frame.height, MAX_POINTS)
    cut = frame.group_by((pl.col("row") // size).alias("bucket"), maintain_order=True).agg(
        pl.col("timestamp").last(),
        pl.col("equity").last(),
        pl.col("drawdown").min(),
        pl.col("exposure").last(),
    )
    return {
        "t": cut["timestamp"].to_list(),
        "equity": cut["equity"].round(2).to_list(),
        "drawdown": cut["drawdown"].round(6).to_list(),
        "exposure": cut["exposure"].round(4).to_list(),
    }


def price_interval(run: RunFiles) -> str | None:
    """The bars a symbol's chart shows: the smallest interval the strategy subscribed to, or
    failing that the smallest in the run."""
    bars = run.tables.get("bars")
    if bars is None:
        return None
    intervals = bars.select(pl.col("interval").unique()).collect()["interval"].to_list()
    if not intervals:
        return None
    subscribed = [i for i in run.summary.get("subscriptions", []) if i in intervals]
    return min(subscribed or intervals, key=interval_sort_key)


def session_hours(run: RunFiles) -> tuple[float, float]:
    """The hours of day (exchange wall clock) the sessions span, read off the equity, which
    has a row for every bar of the streamed base interval (stamped with the bar's start): the
    earliest bar's start and the latest bar's end (what a date axis keeps between nights)."""
    equity = run.tables.get("equity")
    if equity is None:
        return 0.0, 24.0
    day = 86_400_000
    starts = equity.select(local_ms("timestamp", run.timezone)).collect()["timestamp"] % day
    if starts.is_empty():
        return 0.0, 24.0
    end = starts.max() + _base_interval_ms(run)
    return starts.min() / 3_600_000, min(24.0, end / 3_600_000)


def _base_interval_ms(run: RunFiles) -> int:
    marking = run.table("marking")
    streamed = [] if marking.is_empty() else marking.filter(pl.col("mark") == "STREAMED")["stream"]
    bars = [s for s in streamed if s not in ("quotes", "ticks")]
    if not bars:
        return 60_000
    return int(min(interval_sort_key(s) for s in bars).total_seconds() * 1000)


def per_symbol_budget(symbols: int, most: int) -> int:
    """How many points each symbol's series may carry: ``most`` for a few symbols, fewer for
    many, so that the page's data stay near ``PAGE_POINTS`` whatever the run's size."""
    return max(MIN_PER_SYMBOL, min(most, PAGE_POINTS // max(symbols, 1)))


def symbol_series(run: RunFiles) -> dict[str, dict[str, object]]:
    """Per symbol: its price bars (consecutive bars merged, within the budget), and its
    signals, orders and fills (evenly thinned beyond the budget, their total kept), each as
    columns of plain lists (the page's JSON). Prices are rounded to 1e-4."""
    interval = price_interval(run)
    symbols = run.summary.get("symbols", [])
    out: dict[str, dict[str, object]] = {s: {} for s in symbols}
    tz = run.timezone
    budget = per_symbol_budget(len(symbols), MAX_BARS)
    if interval is not None:
        # the table holds a symbol's bars of an interval in time order (by session, then
        # symbol, then time): a bar's place among its symbol's is its place in the table
        row = pl.int_range(pl.len()).over("symbol")
        size = (pl.len().over("symbol") / budget).ceil().cast(pl.Int64)
        bars = run.tables["bars"].filter(pl.col("interval") == interval)
        for batch in _symbol_batches(bars, symbols):
            cut = (
                batch.select("symbol", local_ms("timestamp", tz), "open", "high", "low", "close")
                .with_columns((row // size).alias("bucket"), size.alias("size"))
                .group_by("symbol", "bucket", maintain_order=True)
                .agg(
                    pl.col("size").first(),
                    pl.col("timestamp").first(),
                    pl.col("open").first().round(4),
                    pl.col("high").max().round(4),
                    pl.col("low").min().round(4),
                    pl.col("close").last().round(4),
                )
                .collect()
            )
            for (symbol,), group in cut.group_by("symbol", maintain_order=True):
                merged = int(group["size"][0])
                out.setdefault(symbol, {})["bars"] = {
                    "interval": interval if merged == 1 else f"{interval} x{merged}",
                    **{
                        c: group[c].to_list() for c in ("timestamp", "open", "high", "low", "close")
                    },
                }
    marks = per_symbol_budget(len(symbols), MAX_MARKS)
    for name, time_column, columns in (
        ("fills", "time", ("side", "quantity", "price")),
        ("signals", "time", ("side", "reason")),
        ("orders", "placed", ("side", "type", "quantity", "status")),
    ):
        lazy = run.tables.get(name)
        if lazy is None:
            continue
        step = (pl.len().over("symbol") / marks).ceil().cast(pl.Int64)
        for batch in _symbol_batches(lazy, symbols):  # in time order, as written
            frame = (
                batch.select("symbol", local_ms(time_column, tz), *columns)
                .with_columns(pl.len().over("symbol").alias("total"))
                .filter(pl.int_range(pl.len()).over("symbol") % step == 0)
                .collect()
            )
            for (symbol,), group in frame.group_by("symbol", maintain_order=True):
                shown = {c: group[c].to_list() for c in group.columns[1:-1]}
                shown["total"] = int(group["total"][0])
                out.setdefault(symbol, {})[name] = shown
    return out


def _symbol_batches(table: pl.LazyFrame, symbols: list[str]) -> Iterator[pl.LazyFrame]:
    """``table``'s rows a batch of symbols at a time, of about ``ROWS_AT_ONCE`` rows: the
    page's memory is a batch's, not the run's (a year of 3,000 symbols' 5m bars is 59M)."""
    rows = table.select(pl.len()).collect().item()
    step = max(1, ROWS_AT_ONCE * len(symbols) // max(rows, 1))
    for first in range(0, max(len(symbols), 1), step):
        yield table.filter(pl.col("symbol").is_in(symbols[first : first + step]))


def quality_matrix(run: RunFiles) -> dict[str, list]:
    """Quality (%) of the streamed base interval per symbol (rows) and session (columns)."""
    quality = run.table("quality")
    marking = run.table("marking")
    if quality.is_empty():
        return {"symbols": [], "sessions": [], "z": [], "interval": None}
    streamed = (
        marking.filter(pl.col("mark") == "STREAMED")["stream"].to_list()
        if not marking.is_empty()
        else []
    )
    intervals = [i for i in quality["interval"].unique().to_list() if i in streamed]
    interval = intervals[0] if intervals else quality["interval"][0]
    wide = (
        quality.filter(pl.col("interval") == interval)
        .with_columns(pl.col("session_date").cast(pl.String))
        .pivot(on="session_date", index="symbol", values="quality", sort_columns=True)
        .sort("symbol")
    )
    sessions = wide.columns[1:]
    return {
        "interval": interval,
        "symbols": wide["symbol"].to_list(),
        "sessions": sessions,
        "z": [
            [None if v is None else round(v, 2) for v in row]
            for row in wide.select(sessions).rows()
        ],
    }


def listed(frame: pl.DataFrame, timezone: str) -> dict[str, object]:
    """A table for the page: at most MAX_ROWS rows (times as exchange wall clock text), and
    how many there were."""
    shown = frame.head(MAX_ROWS).with_columns(
        TimeManager.wall_clock_text_expr(pl.col(pl.Datetime), timezone),
        pl.col(pl.Date).cast(pl.String),
    )
    return {
        "columns": shown.columns,
        "rows": [list(r) for r in shown.rows()],
        "total": frame.height,
    }
