"""The local store as a data source for the engine: what it holds, session loads, history.

The coordinator asks a data source three things (the design's "use the API" principle):
``available(symbol)`` for stream marking, ``start_bars`` / ``start_quotes`` to load its stream
queues for one or more sessions (prefetch), and ``history`` for the trailing windows.

A session's bars come back on a dense grid: one row per symbol, one column per base-interval
slot of the regular session, NaN where a bar is missing. One column is one timestamp for every
symbol, which is what lets the engine release all symbols' bars of a timestamp as one event and
derive longer bars for all symbols in one vectorised step.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from simcore.store.factors import adjust, read_factors
from simcore.store.parquet import BARS_1D, QUOTES, TICKS, Dataset, ParquetStore
from simcore.store.schema import SCHEMAS
from simcore.time import TimeManager, TradingSession

FIELDS = ("open", "high", "low", "close", "volume")
LIVE_STREAMS = frozenset({"1m", "quotes", "ticks"})  # what Alpaca's stock stream carries
_BASE_LENGTH_NS = {"1s": 1_000_000_000, "1m": 60_000_000_000}


@dataclass
class SessionBars:
    """One session's base bars for all symbols on a (symbol x slot) grid."""

    day: date
    interval: str
    symbols: tuple[str, ...]
    open_ns: int
    close_ns: int
    slot_ns: int  # length of one slot (the base interval; the whole session for 1d)
    present: np.ndarray  # bool (S, M)
    values: dict[str, np.ndarray]  # field -> float64 (S, M); NaN (volume: 0) where absent
    outside_session: int  # stored regular bars that fell outside the grid (should be 0)
    live: bool = False  # filled as bars arrive (live), not known in advance (prefetched)

    @property
    def slots(self) -> int:
        return self.present.shape[1]

    def slot_start_ns(self, slot: int) -> int:
        return self.open_ns + slot * self.slot_ns


@dataclass
class SessionQuotes:
    """One session's quotes per symbol, in time order (point-in-time, regular session)."""

    day: date
    timestamp: dict[str, np.ndarray]  # symbol -> int64 UTC ns
    values: dict[str, dict[str, np.ndarray]]  # symbol -> column -> values


class LocalDataSource:
    """Reads a ParquetStore for the engine; every time question goes to the TimeManager."""

    remedy = "import it with `simcore data import`, or check the symbols and --store"

    def __init__(
        self,
        store: ParquetStore,
        time_manager: TimeManager,
        price_adjustment: str = "raw",
        live_streams: frozenset[str] = LIVE_STREAMS,
    ):
        self.store = store
        self.tm = time_manager
        self.price_adjustment = price_adjustment
        self.live_streams = live_streams  # what the emulator replaying the store streams
        self._factors: dict[tuple[str, ...], pl.DataFrame] = {}

    def factors(self, symbols: Sequence[str]) -> pl.DataFrame:
        """The split and dividend factors of ``symbols`` (read once)."""
        key = tuple(symbols)
        if key not in self._factors:
            self._factors[key] = read_factors(self.store, key)
        return self._factors[key]

    def corporate_actions(
        self, symbols: Sequence[str], previous: date, day: date
    ) -> list[tuple[str, str, float]]:
        """Raw prices only (adjusted ones already account for them): the splits and cash
        dividends that take effect between the sessions of ``previous`` and ``day``, as
        (symbol, "split", new shares per old share) or (symbol, "dividend", cash per share).
        A factor row dated D is the last day of the old basis; the event is the next session."""
        if self.price_adjustment != "raw":
            return []
        factors = self.factors(symbols)
        actions = []
        for (symbol,), rows in factors.group_by("symbol", maintain_order=True):
            before = rows.filter(pl.col("date") >= previous).head(1)
            after = rows.filter(pl.col("date") >= day).head(1)
            if before.is_empty() or after.is_empty() or before["date"][0] >= day:
                continue
            split_before, split_after = before["split_factor"][0], after["split_factor"][0]
            if split_before != split_after:
                actions.append((str(symbol), "split", split_after / split_before))
            price_before, price_after = before["price_factor"][0], after["price_factor"][0]
            if price_before != price_after:
                reference = before["reference_price"][0]
                amount = round(reference * (1 - price_before / price_after), 6)
                actions.append((str(symbol), "dividend", amount))
        return actions

    def _adjust(self, frame, symbols: Sequence[str], day: str = "day"):
        if self.price_adjustment == "raw":
            return frame
        return adjust(frame, self.factors(symbols), self.price_adjustment, day)

    @property
    def description(self) -> str:
        return f"the local store at {self.store.root}"

    def available(self, symbol: str) -> set[str]:
        """Datasets the store holds for ``symbol``: among 1s, 1m, 1d, quotes, ticks."""
        held = {
            d.interval
            for d in (Dataset("bars", "1s"), Dataset("bars", "1m"), BARS_1D)
            if self.store.has(d, symbol)
        }
        if self.store.has(QUOTES, symbol):
            held.add("quotes")
        if self.store.has(TICKS, symbol):
            held.add("ticks")
        return held  # type: ignore[return-value]

    def streamable(self, symbol: str) -> set[str]:
        """What a live replay of the store streams, where the store holds it: through the
        Alpaca emulator (the default) 1m bars, quotes and trades; ``live_streams`` says
        otherwise for another provider's emulator (Polygon's streams 1s bars too)."""
        return self.available(symbol) & self.live_streams

    def _session(self, day: date) -> TradingSession:
        session = self.tm.get_trading_session(day)
        if session is None:
            raise ValueError(f"{day} is not a trading day")
        return session

    def start_bars(
        self, symbols: Sequence[str], interval: str, days: Iterable[date]
    ) -> dict[date, SessionBars]:
        """Load the regular-session base bars of ``days`` (one scan) onto per-session grids."""
        days = list(days)
        if not days:
            return {}
        sessions = {d: self._session(d) for d in days}
        first, last = sessions[days[0]], sessions[days[-1]]
        dataset = BARS_1D if interval == "1d" else Dataset("bars", interval)
        if interval == "1d":
            start = first.regular_open - timedelta(days=1)
            scan = self.store.scan(dataset, symbols, start, last.regular_close)
        else:
            # whole exchange-local dates, so that a bar flagged regular but outside its session
            # is read and counted (SessionBars.outside_session), whatever the prefetch batch
            start = self.tm.from_utc_ns(self.tm.daily_bar_label_ns(days[0]))
            end = self.tm.from_utc_ns(self.tm.daily_bar_label_ns(days[-1] + timedelta(days=1)))
            scan = self.store.scan(dataset, symbols, start, end, regular_only=True)
        index = {s: i for i, s in enumerate(symbols)}
        if self.price_adjustment != "raw":  # factors apply by exchange-local date
            local_day = self.tm.utc_to_local_date_expr(pl.col("timestamp")).alias("day")
            scan = self._adjust(scan.with_columns(local_day), symbols)
        # one query for the whole batch; the per-session grids are then filled with NumPy
        columns = scan.select(
            "symbol", pl.col("timestamp").dt.epoch("ns").alias("ns"), *FIELDS
        ).collect()
        rows = {name: columns[name].to_numpy() for name in ("ns", *FIELDS)}
        rows["row"] = _symbol_rows(columns["symbol"], index)
        return _grids(days, interval, tuple(symbols), [sessions[d] for d in days], rows, self.tm)

    def extended_bars(
        self, symbols: Sequence[str], interval: str, first: date, last: date
    ) -> dict[str, int]:
        """Bars of ``symbols`` on the exchange-local dates ``first``..``last`` that the store
        flags outside the regular session (never streamed), per symbol with any."""
        if interval == "1d":
            return {}
        start = self.tm.from_utc_ns(self.tm.daily_bar_label_ns(first))
        end = self.tm.from_utc_ns(self.tm.daily_bar_label_ns(last + timedelta(days=1)))
        counts = (
            self.store.scan(Dataset("bars", interval), symbols, start, end)
            .filter(pl.col("extended"))
            .group_by("symbol")
            .len()
            .collect()
        )
        return dict(counts.iter_rows())

    def empty_session_bars(self, symbols: Sequence[str], interval: str, day: date) -> SessionBars:
        """A live session's grid: every slot empty, filled as bars arrive."""
        none = np.array([], dtype=np.int64)
        rows: dict[str, np.ndarray] = {"row": none, "ns": none}
        rows |= {f: np.array([], dtype=np.float64) for f in FIELDS}
        grid = _grids([day], interval, tuple(symbols), [self._session(day)], rows, self.tm)[day]
        grid.live = True
        return grid

    def start_quotes(
        self, symbols: Sequence[str], days: Iterable[date]
    ) -> dict[date, SessionQuotes]:
        days = list(days)
        if not days:
            return {}
        sessions = {d: self._session(d) for d in days}
        start = sessions[days[0]].regular_open
        end = sessions[days[-1]].regular_close + timedelta(microseconds=1)
        frame = self.store.read(QUOTES, symbols, start, end, regular_only=True).with_columns(
            self.tm.utc_to_local_date_expr(pl.col("timestamp")).alias("day"),
            pl.col("timestamp").dt.epoch("ns").alias("ns"),
        )
        frame = self._adjust(frame, symbols)
        out = {}
        for day in days:
            part = frame.filter(pl.col("day") == day).sort("symbol", "ns")
            # each symbol's rows in one pass (in the sorted order), not one filter per symbol
            by_symbol = part.partition_by("symbol", as_dict=True, maintain_order=True)
            none = part.clear()
            stamps, values = {}, {}
            for symbol in symbols:
                rows = by_symbol.get((symbol,), none)
                stamps[symbol] = rows["ns"].to_numpy()
                values[symbol] = {
                    c: rows[c].to_numpy()
                    for c in ("bid_price", "bid_size", "ask_price", "ask_size")
                }
            out[day] = SessionQuotes(day, stamps, values)
        return out

    def history(self, symbols: Sequence[str], interval: str, days: Sequence[date]) -> pl.LazyFrame:
        """Regular-session bars of ``interval`` on the given (past) trading days, lazily, with
        an exchange-local ``day`` column. Daily bars are matched by their session date."""
        if not days:  # e.g. no session before the calendar's first: no rows, the same columns
            return pl.LazyFrame(schema=SCHEMAS["bars"] | {"day": pl.Date})
        first, last = self._session(days[0]), self._session(days[-1])
        local_day = self.tm.utc_to_local_date_expr(pl.col("timestamp")).alias("day")
        if interval == "1d":
            scan = self.store.scan(
                BARS_1D, symbols, first.regular_open - timedelta(days=1), last.regular_close
            )
        else:
            scan = self.store.scan(
                Dataset("bars", interval),
                symbols,
                first.regular_open,
                last.regular_close,
                regular_only=True,
            )
        rows = scan.with_columns(local_day).filter(
            pl.col("day").is_in(pl.Series(list(days)).implode())
        )
        return self._adjust(rows, symbols)


def _symbol_rows(symbol: pl.Series, index: dict[str, int]) -> np.ndarray:
    """Each row's symbol as its grid row. The store's scans come in runs of one symbol, so the
    names are looked up once per run, not once per row."""
    runs = symbol.rle().struct.unnest()
    rows = np.array([index[name] for name in runs["value"].to_list()], dtype=np.int64)
    return np.repeat(rows, runs["len"].to_numpy())


def _grids(
    days: list[date],
    interval: str,
    symbols: tuple[str, ...],
    sessions: list[TradingSession],
    rows_of: dict[str, np.ndarray],
    tm: TimeManager,
) -> dict[date, SessionBars]:
    """Every session's grid of a batch from its rows (symbol row index, UTC ns, OHLCV), in
    one pass: a row belongs to the session of its exchange-local date (local midnights bound
    the dates), its slot is its offset from that session's open; a row of a session's date
    outside its slots is counted (``outside_session``), a row of another date is not read.
    The grids are views into one (session x symbol x slot) block."""
    opens = np.array([TimeManager.to_utc_ns(s.regular_open) for s in sessions], dtype=np.int64)
    closes = np.array([TimeManager.to_utc_ns(s.regular_close) for s in sessions], dtype=np.int64)
    if interval == "1d":
        slot_ns = closes - opens
        slots = np.ones(len(days), dtype=np.int64)
    else:
        slot_ns = np.full(len(days), _BASE_LENGTH_NS[interval], dtype=np.int64)
        slots = np.maximum(1, (closes - opens + slot_ns - 1) // slot_ns)
    midnights = np.array([tm.daily_bar_label_ns(d) for d in days], dtype=np.int64)
    next_midnights = np.array(
        [tm.daily_bar_label_ns(d + timedelta(days=1)) for d in days], dtype=np.int64
    )
    shape = (len(days), len(symbols), int(slots.max()))
    present = np.zeros(shape, dtype=bool)
    # prices are NaN where a bar is missing; volume is 0 there, so window sums need no NaN pass
    values = {f: np.full(shape, 0.0 if f == "volume" else np.nan) for f in FIELDS}
    outside = np.zeros(len(days), dtype=np.int64)
    ns = rows_of["ns"]
    if ns.size:
        session = np.searchsorted(midnights, ns, side="right") - 1
        dated = session >= 0
        np.maximum(session, 0, out=session)
        dated &= ns < next_midnights[session]
        if interval == "1d":
            cols = np.zeros(ns.size, dtype=np.int64)
        else:  # in place where it can be: a batch is millions of rows
            cols = np.subtract(ns, opens[session])
            cols //= slot_ns[0] if (slot_ns == slot_ns[0]).all() else slot_ns[session]
        inside = dated & (cols >= 0) & (cols < slots[session])
        outside = np.bincount(session[dated & ~inside], minlength=len(days))
        every = bool(inside.all())  # the usual case: no row to leave out, so no gathers
        take = slice(None) if every else np.flatnonzero(inside)
        flat = session if every else session[take]
        flat *= shape[1]
        flat += rows_of["row"][take]
        flat *= shape[2]
        flat += cols[take]
        present.reshape(-1)[flat] = True
        for f in FIELDS:
            values[f].reshape(-1)[flat] = rows_of[f][take]
    out = {}
    for d, day in enumerate(days):
        m = int(slots[d])
        out[day] = SessionBars(
            day, interval, symbols, int(opens[d]), int(closes[d]), int(slot_ns[d]),
            present[d, :, :m], {f: values[f][d, :, :m] for f in FIELDS}, int(outside[d]),
        )  # fmt: skip
    return out
