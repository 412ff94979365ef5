"""Row validation for everything that enters the store: each bad row is counted by reason.

Rules are checked in order and a row is rejected for the first rule it breaks, so the counts
add up to the number of rejected rows. Rows that are merely out of order are sorted, not
rejected, and counted as ``reordered``. Duplicates (same symbol and timestamp) keep the first
row. Intraday rows outside the regular session are kept and flagged ``extended``.

A file too big to hold is cleaned a block at a time (``simcore.store.importers``), with a
``BlockCarry`` taking each symbol's times from one block to the next: a row earlier than its
symbol's last row of the blocks before is counted ``reordered``, and a row at its symbol's
latest time of the blocks before is a ``duplicate`` — the first is kept. A row that is both
earlier than that latest time and at the time of some other earlier row is the one case a
block cannot see: it replaces the stored row, and is counted ``replaced`` by the write.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import polars as pl

from simcore.store.parquet import Dataset
from simcore.store.schema import SYMBOL_PATTERN, conform
from simcore.time import TimeManager

# Daily volume above this multiple of the trailing median is flagged as suspect (kept).
SUSPECT_VOLUME_FACTOR = 20.0
SUSPECT_VOLUME_WINDOW = 20

_PRICE_COLUMNS = {
    "bars": ("open", "high", "low", "close"),
    "quotes": ("bid_price", "ask_price"),
    "ticks": ("price",),
}
_SIZE_COLUMNS = {"bars": ("volume",), "quotes": ("bid_size", "ask_size"), "ticks": ("size",)}


def _any_missing(columns: tuple[str, ...]) -> pl.Expr:
    expr = pl.lit(False)
    for c in columns:
        expr |= pl.col(c).is_null() | pl.col(c).is_nan()
    return expr


def _any(columns: tuple[str, ...], predicate) -> pl.Expr:
    expr = pl.lit(False)
    for c in columns:
        expr |= predicate(pl.col(c))
    return expr


def rejection_rules(kind: str) -> list[tuple[str, pl.Expr]]:
    """(reason, expression true for a bad row) in the order they are checked."""
    prices, sizes = _PRICE_COLUMNS[kind], _SIZE_COLUMNS[kind]
    rules = [
        ("missing_symbol", pl.col("symbol").is_null() | (pl.col("symbol") == "")),
        ("bad_symbol", ~pl.col("symbol").str.contains(SYMBOL_PATTERN.pattern)),
        ("bad_timestamp", pl.col("timestamp").is_null()),
        ("missing_value", _any_missing(prices + sizes)),
        ("non_positive_price", _any(prices, lambda c: c <= 0)),
        ("negative_volume" if kind == "bars" else "negative_size", _any(sizes, lambda c: c < 0)),
    ]
    if kind == "bars":
        rules += [
            ("high_below_low", pl.col("high") < pl.col("low")),
            (
                "open_outside_range",
                (pl.col("open") > pl.col("high")) | (pl.col("open") < pl.col("low")),
            ),
            (
                "close_outside_range",
                (pl.col("close") > pl.col("high")) | (pl.col("close") < pl.col("low")),
            ),
        ]
    if kind == "quotes":
        rules.append(("crossed_quote", pl.col("bid_price") > pl.col("ask_price")))
    return rules


@dataclass
class BlockCarry:
    """Each symbol's times from the blocks of a file cleaned so far (a symbol's, not a row's:
    bounded by the symbols, not the file)."""

    last: dict[str, object] = field(default_factory=dict)  # its last valid row's, in file order
    latest: dict[str, object] = field(default_factory=dict)  # its latest kept time

    def frame(self, dtype: pl.DataType) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "symbol": list(self.last),
                "_last": pl.Series(list(self.last.values()), dtype=dtype),
                "_latest": pl.Series([self.latest.get(s) for s in self.last], dtype=dtype),
            }
        )

    def take(self, valid: pl.DataFrame) -> None:
        """What a block's valid rows (in file order) leave for the next."""
        ends = valid.group_by("symbol", maintain_order=True).agg(
            pl.col("timestamp").last().alias("last"), pl.col("timestamp").max().alias("latest")
        )
        for symbol, last, latest in ends.iter_rows():
            self.last[symbol] = last
            before = self.latest.get(symbol)
            self.latest[symbol] = latest if before is None else max(before, latest)


@dataclass
class CleanResult:
    """What cleaning made of one batch of rows."""

    dataset: Dataset
    clean: pl.DataFrame
    rejected: pl.DataFrame  # the rejected rows as given, with a ``reason`` column
    rows_read: int
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    reordered: int = 0
    extended: int = 0
    suspect_volume: pl.DataFrame | None = None  # daily rows flagged, kept in the store

    @property
    def rows_rejected(self) -> int:
        return self.rejected.height

    @property
    def rows_kept(self) -> int:
        return self.rows_read - self.rows_rejected

    def counts_only(self) -> CleanResult:
        """The same result without its clean rows (once they are in the store, a report of a
        long import keeps counts, not the data)."""
        return replace(self, clean=self.clean.clear())

    @classmethod
    def nothing(cls, dataset: Dataset) -> CleanResult:
        """No rows and no counts (a write's share of an import, counted apart)."""
        return cls(dataset, pl.DataFrame(), pl.DataFrame(), 0)

    def merged(self, other: CleanResult) -> CleanResult:
        """This batch's counts and rejected rows followed by ``other``'s (the same dataset);
        without the clean rows."""
        reasons = dict(self.rejected_by_reason)
        for reason, count in other.rejected_by_reason.items():
            reasons[reason] = reasons.get(reason, 0) + count
        suspects = [f for f in (self.suspect_volume, other.suspect_volume) if f is not None]
        return CleanResult(
            self.dataset,
            self.clean.clear(),
            pl.concat([self.rejected, other.rejected], how="diagonal"),
            self.rows_read + other.rows_read,
            reasons,
            self.reordered + other.reordered,
            self.extended + other.extended,
            pl.concat(suspects, how="diagonal") if suspects else None,
        )

    def check_accounting(self) -> None:
        """Every row read is either clean or rejected: nothing lost silently."""
        assert self.rows_read == self.clean.height + self.rows_rejected, (
            f"row accounting broken: read {self.rows_read}, kept {self.clean.height}, "
            f"rejected {self.rows_rejected}"
        )


def clean_rows(
    frame: pl.DataFrame,
    dataset: Dataset,
    time_manager: TimeManager,
    carry: BlockCarry | None = None,
) -> CleanResult:
    """Validate, de-duplicate, sort and flag rows of ``dataset`` (already in schema columns);
    ``carry``: the block of a file after the blocks it carries the times of (updated)."""
    frame = conform(frame, dataset.kind).with_row_index("_row")
    rows_read = frame.height

    reason = pl.lit(None, dtype=pl.String)
    for name, bad in reversed(rejection_rules(dataset.kind)):
        reason = pl.when(bad.fill_null(False)).then(pl.lit(name)).otherwise(reason)
    frame = frame.with_columns(reason.alias("reason"))

    # Out of order: a timestamp earlier than the one before it, per symbol, in source order.
    valid = frame.filter(pl.col("reason").is_null())
    before = pl.col("timestamp").shift(1).over("symbol")
    seen = pl.lit(False)
    if carry is not None and carry.last:
        valid = valid.join(
            carry.frame(valid.schema["timestamp"]), on="symbol", how="left", maintain_order="left"
        )
        before = pl.coalesce(before, pl.col("_last"))
        seen = (pl.col("timestamp") == pl.col("_latest")).fill_null(False)
    reordered = valid.select((pl.col("timestamp") < before).sum()).item()
    if carry is not None:
        carry.take(valid)

    valid = valid.with_columns(seen.alias("_seen")).drop("_last", "_latest", strict=False)
    valid = valid.sort(["symbol", "timestamp", "_row"])
    duplicate = pl.col("_seen") | (
        pl.col("timestamp") == pl.col("timestamp").shift(1).over("symbol")
    )
    valid = valid.with_columns(
        pl.when(duplicate.fill_null(False))
        .then(pl.lit("duplicate"))
        .otherwise(None)
        .alias("reason")
    ).drop("_seen")
    if dataset.kind == "bars" and dataset.interval == "1d":
        valid = _reject_non_sessions(valid, time_manager)

    rejected = pl.concat(
        [frame.filter(pl.col("reason").is_not_null()), valid.filter(pl.col("reason").is_not_null())]
    ).sort("_row")
    clean = valid.filter(pl.col("reason").is_null()).drop("reason")
    clean = flag_extended(clean, dataset, time_manager)

    counts = dict(
        sorted(rejected.group_by("reason").len().iter_rows(), key=lambda kv: (-kv[1], kv[0]))
    )
    result = CleanResult(
        dataset=dataset,
        clean=clean.drop("_row"),
        rejected=rejected.drop("_row"),
        rows_read=rows_read,
        rejected_by_reason=counts,
        reordered=int(reordered or 0),
        extended=int(clean["extended"].sum() or 0),
        suspect_volume=_suspect_volume(clean) if dataset.interval == "1d" else None,
    )
    result.check_accounting()
    return result


def _reject_non_sessions(frame: pl.DataFrame, tm: TimeManager) -> pl.DataFrame:
    """A daily bar dated on a day the exchange did not trade is rejected as not_a_session."""
    if frame.is_empty():
        return frame
    local_date = tm.utc_to_local_date_expr(pl.col("timestamp"))
    dates = frame.select(local_date.alias("d"))["d"]
    first, last = dates.min(), dates.max()
    assert isinstance(first, date) and isinstance(last, date)
    sessions = tm.sessions_frame(first, last)["session_date"]
    return frame.with_columns(
        pl.when(pl.col("reason").is_null() & ~local_date.is_in(sessions.implode()))
        .then(pl.lit("not_a_session"))
        .otherwise(pl.col("reason"))
        .alias("reason")
    )


def flag_extended(frame: pl.DataFrame, dataset: Dataset, tm: TimeManager) -> pl.DataFrame:
    """Set ``extended`` on intraday rows outside their day's regular session.

    A bar stamped at its start is regular in [open, close); a quote or tick is a point in time
    and is regular in [open, close], so the quote standing at the closing bell counts.
    """
    if dataset.interval == "1d" or frame.is_empty():
        return frame.with_columns(pl.lit(False).alias("extended"))
    lo = frame["timestamp"].min()
    hi = frame["timestamp"].max()
    assert lo is not None and hi is not None
    first = tm.session_date_of(lo)  # type: ignore[arg-type]
    last = tm.session_date_of(hi)  # type: ignore[arg-type]
    sessions = tm.sessions_frame(first, last).select(
        pl.col("open").alias("_open"), pl.col("close").alias("_close")
    )
    ordered = frame.with_row_index("_order").sort("timestamp")
    joined = ordered.join_asof(sessions, left_on="timestamp", right_on="_open", strategy="backward")
    before_close = (
        pl.col("timestamp") < pl.col("_close")
        if dataset.kind == "bars"
        else pl.col("timestamp") <= pl.col("_close")
    )
    regular = (pl.col("timestamp") >= pl.col("_open")) & before_close
    return (
        joined.with_columns((~regular.fill_null(False)).alias("extended"))
        .sort("_order")
        .drop("_order", "_open", "_close")
    )


def _suspect_volume(daily: pl.DataFrame) -> pl.DataFrame:
    """Daily rows whose volume is zero or far above the symbol's trailing median."""
    median = (
        pl.col("volume")
        .shift(1)
        .rolling_median(SUSPECT_VOLUME_WINDOW, min_samples=SUSPECT_VOLUME_WINDOW // 2)
        .over("symbol")
    )
    flagged = daily.sort(["symbol", "timestamp"]).with_columns(median.alias("trailing_median"))
    return flagged.filter(
        (pl.col("volume") == 0)
        | (pl.col("volume") > SUSPECT_VOLUME_FACTOR * pl.col("trailing_median"))
    ).select("symbol", "timestamp", "volume", "trailing_median")
