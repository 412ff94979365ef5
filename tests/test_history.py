"""Trailing history read in blocks and sliced per session: every symbol's window at once equals
a filter of the rows, and a backtest's history and outputs do not depend on how far the store is
read ahead (a read per session, or one read for the whole run)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.app.backtest import run_backtest
from simcore.engine import session_days
from simcore.engine.analysis import Strategy
from simcore.engine.history.warmup import HistoryWarmup
from simcore.engine.history_windows import HistoryBlock
from simcore.engine.session_data import SessionData
from simcore.store.parquet import BARS_1D, BARS_1M, ParquetStore
from simcore.store.synth import SynthSpec, write_synthetic
from simcore.time import TimeManager
from tests.test_backtest import make_config

SYMBOLS = ("AAA", "BBB", "CCC", "DDD")
FIRST_DAY = date(2025, 1, 6)


@st.composite
def history_frames(draw):
    """Rows of some symbols (others absent) over 12 days, 0-3 rows a day, in shuffled order."""
    rows = []
    for symbol in draw(st.lists(st.sampled_from(SYMBOLS), unique=True)):
        for d in range(12):
            for k in range(draw(st.integers(0, 3))):
                ns = (d * 86_400 + k * 60) * 10**9
                rows.append((symbol, FIRST_DAY + timedelta(days=d), ns, float(d * 10 + k)))
    order = draw(st.permutations(range(len(rows))))
    rows = [rows[i] for i in order]
    return pl.DataFrame(
        {
            "symbol": [r[0] for r in rows],
            "day": [r[1] for r in rows],
            "timestamp": pl.Series([r[2] for r in rows], dtype=pl.Int64).cast(
                pl.Datetime("ns", "UTC")
            ),
            **{c: [r[3] for r in rows] for c in ("open", "high", "low", "close", "volume")},
        },
        schema_overrides={"symbol": pl.String, "day": pl.Date, "open": pl.Float64},
    ).with_columns(pl.col(c).cast(pl.Float64) for c in ("high", "low", "close", "volume"))


@settings(max_examples=60, deadline=None)
@given(history_frames(), st.integers(0, 11), st.integers(0, 6))
def test_every_symbols_window_at_once_equals_a_filter_of_its_rows(frame, first, length):
    block = HistoryBlock.from_frame(frame, SYMBOLS, frozenset())
    days = [FIRST_DAY + timedelta(days=d) for d in range(first, min(first + length, 12))]
    windows = block.windows(days)
    for position, symbol in enumerate(SYMBOLS):
        expected = frame.filter(
            (pl.col("symbol") == symbol)
            & pl.col("day").is_in(pl.Series(days, dtype=pl.Date).implode())
        ).sort("timestamp")
        view = windows.view(position)
        assert view.timestamp.tolist() == expected["timestamp"].dt.epoch("ns").to_list()
        assert view.close.tolist() == expected["close"].to_list()
        assert int(windows.counts()[position]) == expected.height


def test_one_symbols_history_replaced_alone_leaves_the_others():
    data = SessionData(now_ns=lambda: 0, symbols=("A", "B"))
    columns = {c: np.arange(3, dtype=float) for c in ("open", "high", "low", "close", "volume")}
    data.set_historical_bars("A", "1d", columns | {"timestamp": np.array([1, 2, 3])})
    data.set_historical_bars("B", "1d", columns | {"timestamp": np.array([1, 2, 4])})
    one = {c: np.array([9.0]) for c in ("open", "high", "low", "close", "volume")}
    data.set_historical_bars("A", "1d", one | {"timestamp": np.array([5])})
    assert data.get_historical_bars("A", "1d").timestamp.tolist() == [5]
    assert data.get_historical_bars("B", "1d").timestamp.tolist() == [1, 2, 4]
    assert data.historical_keys() == [("A", "1d"), ("B", "1d")]
    assert data.last_closes().tolist() == [9.0, 2.0]  # before any session bar: history's
    assert data.last_close("A") == 9.0


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> ParquetStore:
    store = ParquetStore(tmp_path_factory.mktemp("history") / "store")
    spec = SynthSpec(
        SYMBOLS[:3], date(2025, 6, 2), date(2025, 6, 13), date(2025, 4, 1), seed=5, gap_rate=0.02
    )
    write_synthetic(store, spec, TimeManager())
    return store


HISTORICAL = {
    "data": [
        {"trailing_days": 2, "intervals": ["1m"], "apply_to": "all"},
        {"trailing_days": 7, "intervals": ["1d"], "apply_to": ["AAA"]},
        {"trailing_days": 3, "intervals": ["1d"], "apply_to": "all"},
    ]
}


class HistoryProbe(Strategy):
    subscriptions = ("1m",)

    def on_start(self, ctx):
        self.seen: dict[tuple, list[int]] = {}

    def on_session_start(self, ctx, session):
        for symbol in ctx.symbols:
            for interval in ("1m", "1d"):
                stamps = ctx.historical_bars(symbol, interval).timestamp.tolist()
                self.seen[(session.date, symbol, interval)] = stamps


def run(store: ParquetStore, read_ahead: int, monkeypatch) -> tuple[dict, dict]:
    monkeypatch.setattr(session_days, "READ_AHEAD_BARS", read_ahead)
    probe = HistoryProbe()
    config = make_config(
        SYMBOLS[:3], "2025-06-04", "2025-06-13", streams=("1m", "5m"), historical=HISTORICAL
    )
    result = run_backtest(config, store, probe)
    return probe.seen, result.tables


def test_history_and_outputs_do_not_depend_on_the_read_ahead(store, monkeypatch):
    per_session, per_session_tables = run(store, 1, monkeypatch)
    whole_run, whole_run_tables = run(store, 10**9, monkeypatch)
    assert per_session == whole_run
    assert per_session_tables.keys() == whole_run_tables.keys()
    for name, table in per_session_tables.items():
        assert table.equals(whole_run_tables[name]), name
    tm = TimeManager()
    local_day = tm.utc_to_local_date_expr(pl.col("timestamp")).alias("day")
    minutes = store.read(BARS_1M, SYMBOLS[:3], regular_only=True).with_columns(local_day)
    daily = store.read(BARS_1D, SYMBOLS[:3]).with_columns(local_day)
    sessions = sorted({key[0] for key in whole_run})
    assert len(sessions) == 8
    for day in sessions:
        for symbol in SYMBOLS[:3]:
            for interval, frame, depth in (
                ("1m", minutes, 2),
                ("1d", daily, 7 if symbol == "AAA" else 3),
            ):
                trailing = tm.trailing_trading_days(day, depth)
                expected = frame.filter(
                    (pl.col("symbol") == symbol)
                    & pl.col("day").is_in(pl.Series(trailing, dtype=pl.Date).implode())
                ).sort("timestamp")
                stamps = expected["timestamp"].dt.epoch("ns").to_list()
                assert whole_run[(day, symbol, interval)] == stamps, (day, symbol, interval)
                assert max(stamps) < tm.to_utc_ns(tm.get_trading_session(day).regular_open)
    quality = whole_run_tables["quality"].filter(pl.col("interval") == "historical 1d")
    assert quality.height == 3 * len(sessions) and (quality["quality"] == 100.0).all()


INDICATORS = {
    "data": [{"trailing_days": 2, "intervals": ["1d"], "apply_to": "all"}],
    "indicators": {
        "avg_volume": {"type": "trailing_average", "period": "5d", "granularity": "daily"},
        "avg_close_full_days": {
            "type": "trailing_average",
            "period": "2w",
            "granularity": "daily",
            "field": "close",
            "skip_early_close": True,
        },
        "high_1m": {"type": "trailing_max", "period": "1m", "field": "high"},
        "low_1m": {"type": "trailing_min", "period": "1m", "field": "low"},
        "avg_minute_volume": {"type": "trailing_average", "period": "2d", "granularity": "minute"},
    },
}


def test_daily_indicators_from_the_history_block_equal_their_own_queries(store, monkeypatch):
    """Daily indicators served from the 1d block already read (every symbol has stored daily
    bars) are exactly those of a query per session and indicator."""
    config = make_config(
        SYMBOLS[:3], "2025-06-02", "2025-06-13", streams=("1m",), historical=INDICATORS
    )
    from_block = run_backtest(config, store, Strategy()).tables
    monkeypatch.setattr(HistoryWarmup, "_daily_indicator_from_history", lambda *a: None)
    queried = run_backtest(config, store, Strategy()).tables
    table = from_block["historical_indicators"]
    assert table.equals(queried["historical_indicators"])
    assert set(table["indicator"]) == set(INDICATORS["indicators"])
    assert table.filter(pl.col("minute").is_null()).height == 4 * 3 * 10  # 4 daily, 3 symbols
    assert table.filter(pl.col("minute").is_null())["value"].is_nan().sum() == 0


def test_short_windows_at_the_calendars_start_are_read_ahead_whole(tmp_path):
    """Near the calendar's first session the trailing windows are shorter than asked; one read
    for the whole run still hands each session every day before it."""
    store = ParquetStore(tmp_path / "store")
    spec = SynthSpec(("AAA",), date(1990, 1, 2), date(1990, 1, 8), seed=3)
    write_synthetic(store, spec, TimeManager())
    historical = {"data": [{"trailing_days": 3, "intervals": ["1d"], "apply_to": "all"}]}
    config = make_config(
        ["AAA"], "1990-01-03", "1990-01-08", streams=("1m",), historical=historical
    )
    probe = HistoryProbe()
    run_backtest(config, store, probe)
    seen = {day: len(stamps) for (day, _, kind), stamps in probe.seen.items() if kind == "1d"}
    assert seen == {
        date(1990, 1, 3): 1,
        date(1990, 1, 4): 2,
        date(1990, 1, 5): 3,
        date(1990, 1, 8): 3,
    }
