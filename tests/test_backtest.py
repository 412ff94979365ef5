"""The data-driven backtest end to end: no look-ahead, time invariants, derived bars against a
Polars reference, historical indicators from the past only, quality by hand, clear refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simcore.app.backtest import run_backtest
from simcore.config import SessionConfig
from simcore.config.vocabulary import INTERVAL_LENGTH
from simcore.engine.analysis import Strategy, StrategyContext
from simcore.engine.bars import Bar
from simcore.errors import DataError, NotAvailableError, UserError
from simcore.store.parquet import BARS_1D, BARS_1M, ParquetStore
from simcore.store.schema import conform
from simcore.store.synth import SynthSpec, write_synthetic
from simcore.time import TimeManager, TradingSession

INTERVALS = ("1m", "5m", "15m", "1h", "1d")
NS = 1_000_000_000


def make_config(symbols, start, end, streams=INTERVALS, historical=None, **extra) -> SessionConfig:
    doc = {
        "session_name": "test",
        "backtest_config": {"start_date": start, "end_date": end, "speed_multiplier": 0.0},
        "session_data_config": {"symbols": list(symbols), "streams": list(streams), **extra},
        "trading_config": {
            "max_buying_power": 1e5,
            "max_per_trade": 1e4,
            "max_per_symbol": 2e4,
            "max_open_positions": 5,
        },
        "api_config": {"data_api": "local", "trade_api": "paper"},
    }
    if historical:
        doc["session_data_config"]["historical"] = historical
    return SessionConfig.model_validate(doc)


@pytest.fixture(scope="module")
def gappy_store(tmp_path_factory) -> ParquetStore:
    """Two symbols, 2025-06-02..07-09 (07-03 early close, 07-04 holiday), 3% of minutes missing."""
    store = ParquetStore(tmp_path_factory.mktemp("gappy") / "store")
    spec = SynthSpec(
        ("AAA", "BBB"),
        date(2025, 6, 2),
        date(2025, 7, 9),
        date(2025, 1, 2),
        seed=99,
        gap_rate=0.03,
        quotes=True,
    )
    write_synthetic(store, spec, TimeManager())
    return store


class Probe(Strategy):
    """Checks, at every callback, that nothing visible lies in the future."""

    subscriptions = INTERVALS
    reads = INTERVALS  # every interval is checked at every callback

    def on_start(self, ctx):
        self.calls = 0
        self.session_ends: list[tuple[int, int]] = []

    def on_session_start(self, ctx: StrategyContext, session: TradingSession):
        now = ctx.now_ns()
        open_ns = ctx.time_manager.to_utc_ns(session.regular_open)
        assert now == open_ns  # the session starts exactly at the open
        for symbol in ctx.symbols:
            for interval in ("1m", "1d"):
                history = ctx.historical_bars(symbol, interval)
                assert (history.timestamp < open_ns).all()  # history is strictly before the session

    def on_bar(self, ctx: StrategyContext, symbol: str, interval: str, bar: Bar):
        self.calls += 1
        now = ctx.now_ns()
        session = ctx.session
        open_ns = ctx.time_manager.to_utc_ns(session.regular_open)
        close_ns = ctx.time_manager.to_utc_ns(session.regular_close)
        assert open_ns <= now <= close_ns
        for other in INTERVALS:
            view = ctx.bars(symbol, other)
            if not len(view):
                continue
            if other == "1d":
                ends = np.full(len(view), close_ns)
            else:
                length = INTERVAL_LENGTH[other] // timedelta(microseconds=1) * 1000
                ends = np.minimum(view.timestamp + length, close_ns)
            assert (ends <= now).all(), f"{other} bar visible before its end"
        quotes = ctx.quotes(symbol)
        if quotes:
            assert (quotes["timestamp"] <= now).all()

    def on_session_end(self, ctx: StrategyContext, session: TradingSession):
        self.session_ends.append((ctx.now_ns(), ctx.time_manager.to_utc_ns(session.regular_close)))


def test_no_callback_sees_the_future_and_time_stays_in_session(gappy_store):
    probe = Probe()
    result = run_backtest(
        make_config(["AAA", "BBB"], "2025-07-01", "2025-07-09"), gappy_store, probe
    )
    assert probe.calls > 5000
    assert len(probe.session_ends) == 6  # 07-04 (holiday) is skipped
    assert all(
        now == close for now, close in probe.session_ends
    )  # end of session exactly at the close
    early = [
        close
        for _, close in probe.session_ends
        if datetime.fromtimestamp(close / NS).date() == date(2025, 7, 3)
    ]
    assert early and datetime.fromtimestamp(early[0] / NS).hour == 17  # 13:00 New York = 17:00 UTC
    assert result.summary["bars_streamed"] > 0


def _reference(streamed: pl.DataFrame, minutes: int, offset: str) -> pl.DataFrame:
    return (
        streamed.sort("timestamp")
        .group_by_dynamic(
            "timestamp", every=f"{minutes}m", offset=offset, group_by="symbol", label="left"
        )
        .agg(
            pl.col("open").first(),
            pl.col("high").max(),
            pl.col("low").min(),
            pl.col("close").last(),
            pl.col("volume").sum(),
        )
        .sort("symbol", "timestamp")
    )


@pytest.mark.parametrize(
    ("alignment", "interval", "minutes", "offset"),
    [
        ("session", "5m", 5, "0m"),
        ("session", "15m", 15, "0m"),
        ("session", "1h", 60, "30m"),
        ("clock", "1h", 60, "0m"),
    ],
)
def test_derived_bars_equal_group_by_dynamic(gappy_store, alignment, interval, minutes, offset):
    config = make_config(["AAA", "BBB"], "2025-07-01", "2025-07-09", bar_alignment=alignment)
    bars = run_backtest(config, gappy_store, Strategy()).tables["bars"]
    streamed = bars.filter(pl.col("interval") == "1m").select(
        "symbol", "timestamp", "open", "high", "low", "close", "volume"
    )
    derived = (
        bars.filter(pl.col("interval") == interval)
        .select(streamed.columns)
        .sort("symbol", "timestamp")
    )
    expected = _reference(streamed, minutes, offset).with_columns(
        pl.col("timestamp").cast(derived.schema["timestamp"])
    )
    assert derived.height == expected.height > 0
    assert derived.equals(expected)


def test_derived_daily_bars_aggregate_the_session_and_carry_the_daily_label(gappy_store):
    tm = TimeManager()
    bars = run_backtest(
        make_config(["AAA"], "2025-07-02", "2025-07-03"), gappy_store, Strategy()
    ).tables["bars"]
    minute = bars.filter(pl.col("interval") == "1m").sort("timestamp")
    daily = bars.filter(pl.col("interval") == "1d").sort("timestamp")
    assert daily.height == 2
    for row in daily.iter_rows(named=True):
        day = row["session_date"]
        part = minute.filter(pl.col("session_date") == day)
        assert row["timestamp"] == datetime.fromtimestamp(
            tm.daily_bar_label_ns(day) / NS, tz=row["timestamp"].tzinfo
        )
        assert (row["open"], row["close"]) == (part["open"][0], part["close"][-1])
        assert (row["high"], row["low"], row["volume"]) == (
            part["high"].max(),
            part["low"].min(),
            part["volume"].sum(),
        )


def test_historical_indicators_use_only_earlier_sessions(gappy_store, tmp_path):
    historical = {
        "indicators": {
            "avg_volume": {"type": "trailing_average", "period": "5d", "granularity": "daily"},
            "avg_minute": {"type": "trailing_average", "period": "3d", "granularity": "minute"},
            "high_4w": {"type": "trailing_max", "period": "4w", "field": "high"},
        }
    }
    config = make_config(["AAA"], "2025-07-07", "2025-07-08", historical=historical)
    base = run_backtest(config, gappy_store, Strategy()).tables["historical_indicators"]

    # the same store with the session days and after made absurd: day N's indicators must not move
    altered = ParquetStore(tmp_path / "altered")
    for dataset in (BARS_1M, BARS_1D):
        frame = gappy_store.read(dataset, ["AAA"])
        future = pl.col("timestamp") >= datetime(2025, 7, 7, 4, 0, tzinfo=UTC)  # 00:00 New York
        frame = frame.with_columns(
            pl.when(future)
            .then(pl.col("volume") * 1000)
            .otherwise(pl.col("volume"))
            .alias("volume"),
            pl.when(future).then(pl.col("high") * 10).otherwise(pl.col("high")).alias("high"),
        )
        altered.write(dataset, frame)
    changed = run_backtest(config, altered, Strategy()).tables["historical_indicators"]
    on_day = pl.col("session_date") == date(2025, 7, 7)
    assert base.filter(on_day).height == 2 + 390  # two scalars and one value per minute
    assert base.filter(on_day).equals(changed.filter(on_day))  # 07-07 sees none of the change
    assert not base.filter(~on_day).equals(changed.filter(~on_day))  # 07-08 sees 07-07 in its past

    # and they equal an independent computation over the sessions before 07-07
    tm = TimeManager()
    days = tm.trailing_trading_days(date(2025, 7, 7), 5)
    assert days == [
        date(2025, 6, 27),
        date(2025, 6, 30),
        date(2025, 7, 1),
        date(2025, 7, 2),
        date(2025, 7, 3),
    ]
    daily = gappy_store.read(BARS_1D, ["AAA"]).with_columns(
        tm.utc_to_local_date_expr(pl.col("timestamp")).alias("day")
    )
    expected_avg = daily.filter(pl.col("day").is_in(days))["volume"].mean()
    got = base.filter(
        (pl.col("session_date") == date(2025, 7, 7)) & (pl.col("indicator") == "avg_volume")
    )["value"].item()
    assert got == pytest.approx(expected_avg, rel=1e-12)
    four_weeks = tm.trading_days(
        date(2025, 6, 9), date(2025, 7, 3)
    )  # 4 calendar weeks before 07-07
    expected_high = daily.filter(pl.col("day").is_in(four_weeks))["high"].max()
    got_high = base.filter(
        (pl.col("session_date") == date(2025, 7, 7)) & (pl.col("indicator") == "high_4w")
    )["value"].item()
    assert got_high == expected_high


def test_outputs_before_a_change_do_not_depend_on_data_after_it(gappy_store, tmp_path):
    """Change every bar from 2025-07-08 12:00 New York on; everything stamped before must not move."""
    from simcore.strategies.sma_cross import SmaCrossCounter

    cutoff = datetime(2025, 7, 8, 16, 0, tzinfo=UTC)  # 12:00 New York
    altered = ParquetStore(tmp_path / "altered")
    for dataset in (BARS_1M, BARS_1D):
        frame = gappy_store.read(dataset, ["AAA", "BBB"])
        late = pl.col("timestamp") >= cutoff
        frame = frame.with_columns(
            *[
                pl.when(late).then(pl.col(c) * 1.5).otherwise(pl.col(c)).alias(c)
                for c in ("open", "high", "low", "close")
            ]
        )
        altered.write(dataset, frame)
    config = make_config(["AAA", "BBB"], "2025-07-07", "2025-07-08", streams=("1m", "5m", "15m"))
    a = run_backtest(config, gappy_store, SmaCrossCounter()).tables
    b = run_backtest(config, altered, SmaCrossCounter()).tables
    for name, stamp in (("bars", "timestamp"), ("signals", "time")):
        before_a = a[name].filter(pl.col(stamp) < cutoff)
        before_b = b[name].filter(pl.col(stamp) < cutoff)
        assert before_a.height > 0 and before_a.equals(before_b), name
    assert not a["bars"].equals(b["bars"])  # the change itself is visible after the cutoff


def test_quality_and_gaps_match_a_hand_count(tmp_path):
    tm = TimeManager()
    store = ParquetStore(tmp_path / "s")
    session = tm.get_trading_session(date(2025, 7, 2))
    open_ns = tm.to_utc_ns(session.regular_open)
    missing = {0, 100, 101, 389}  # the first minute, two in a row, the last minute
    stamps = [open_ns + m * 60 * NS for m in range(390) if m not in missing]
    frame = pl.DataFrame(
        {
            "symbol": "QQQ",
            "timestamp": stamps,
            "open": 10.0,
            "high": 11.0,
            "low": 9.0,
            "close": 10.5,
            "volume": 100.0,
        }
    ).with_columns(pl.col("timestamp").cast(pl.Datetime("ns", "UTC")).dt.cast_time_unit("us"))
    store.write(BARS_1M, conform(frame.with_columns(pl.lit(False).alias("extended")), "bars"))
    result = run_backtest(
        make_config(["QQQ"], "2025-07-02", "2025-07-02", streams=("1m", "5m")), store, Strategy()
    )
    quality = {r["interval"]: r["quality"] for r in result.tables["quality"].iter_rows(named=True)}
    assert quality["1m"] == pytest.approx(100 * 386 / 390, abs=1e-6)
    assert quality["5m"] == quality["1m"]  # derived intervals carry their base's quality
    gaps = [(r["start"], r["end"]) for r in result.tables["gaps"].iter_rows(named=True)]
    to_dt = lambda m: datetime.fromtimestamp((open_ns + m * 60 * NS) / NS, tz=gaps[0][0].tzinfo)  # noqa: E731
    assert gaps == [(to_dt(0), to_dt(1)), (to_dt(100), to_dt(102)), (to_dt(389), to_dt(390))]
    five = result.tables["bars"].filter(pl.col("interval") == "5m")
    assert five.height == 78  # every window has at least one bar


def test_session_quality_disabled_reports_100(gappy_store):
    config = make_config(
        ["AAA"], "2025-07-02", "2025-07-02", gap_filler={"enable_session_quality": False}
    )
    tables = run_backtest(config, gappy_store, Strategy()).tables
    session_rows = tables["quality"].filter(~pl.col("interval").str.starts_with("historical"))
    assert (session_rows["quality"] == 100.0).all() and tables["gaps"].height == 0


def test_refusals_are_clear(gappy_store, monkeypatch):
    for name in ("SCHWAB_API_KEY", "SCHWAB_APP_SECRET", "SCHWAB_TOKEN_PATH"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(DataError, match="no data at all for: ZZZ"):
        run_backtest(
            make_config(["AAA", "ZZZ"], "2025-07-02", "2025-07-02"), gappy_store, Strategy()
        )
    schwab = make_config(["AAA"], "2025-07-02", "2025-07-02").model_copy(
        update={
            "api_config": make_config(["AAA"], "2025-07-02", "2025-07-02").api_config.model_copy(
                update={"data_api": "schwab"}
            )
        }
    )
    with pytest.raises(UserError, match="SCHWAB_API_KEY and SCHWAB_APP_SECRET and"):
        run_backtest(schwab, gappy_store, Strategy())


def test_a_consumer_that_never_signals_ready_is_reported_not_hung(gappy_store, monkeypatch):
    from simcore.engine.sync import SubscriptionTimeout
    from simcore.runtime import sim

    def deaf_analysis(self, inbox):
        while True:
            update = yield inbox.queue.get()
            self.engine.handle(update)  # ... and never signals ready

    monkeypatch.setattr(sim.SimRuntime, "_analysis", deaf_analysis)

    class FiveMinute(Strategy):
        subscriptions = ("5m",)

    with pytest.raises(SubscriptionTimeout, match="analysis engine"):
        run_backtest(make_config(["AAA"], "2025-07-02", "2025-07-02"), gappy_store, FiveMinute())


def test_one_shot_subscription_contract():
    from simcore.engine.sync import OverrunError, StreamSubscription

    class Flag:
        def __init__(self):
            self.value = True

        def is_set(self):
            return self.value

        def set(self):
            self.value = True

        def clear(self):
            self.value = False

    sub = StreamSubscription("*", "bars", "1m", Flag())
    assert sub.take_if_ready() and not sub.take_if_ready()  # one-shot
    with pytest.raises(OverrunError, match="overrun"):
        sub.take_or_overrun()
    sub.signal_ready()
    sub.take_or_overrun()


def test_strategy_loading_errors_are_user_errors():
    from simcore.errors import UserError
    from simcore.strategies.loading import load_strategy

    assert (
        type(load_strategy("simcore.strategies.sma_cross:SmaCrossCounter")).__name__
        == "SmaCrossCounter"
    )
    for spec, message in (
        ("no_colon", "must look like"),
        ("no.such.module:X", "cannot be imported"),
        (
            "simcore.engine.analysis:StrategyContext",
            "not a subclass of simcore.engine.analysis.Strategy",
        ),
    ):
        with pytest.raises(UserError, match=message):
            load_strategy(spec)


def test_coalescing_timestamps_nobody_observes_changes_no_output(gappy_store, monkeypatch):
    """With a 15m subscription the coordinator releases minutes in blocks; the results must be
    those of releasing every minute on its own."""
    from simcore.engine.processor import DataProcessor

    class Fifteen(Strategy):
        subscriptions = ("15m",)
        reads = ("5m", "1m")

        def on_bar(self, ctx, symbol, interval, bar):
            five = ctx.bars(symbol, "5m")
            minute = ctx.bars(symbol, "1m")
            ctx.signal(symbol, "flat", "observed", n5=len(five), n1=len(minute), close=bar.close)

    config = make_config(["AAA", "BBB"], "2025-07-02", "2025-07-03", streams=("1m", "5m", "15m"))
    coalesced = run_backtest(config, gappy_store, Fifteen())
    monkeypatch.setattr(DataProcessor, "stop_times", lambda self, subscriptions: None)
    every_minute = run_backtest(config, gappy_store, Fifteen())
    assert coalesced.metrics.data_processor.count < every_minute.metrics.data_processor.count / 10
    for name, table in coalesced.tables.items():
        assert table.equals(every_minute.tables[name]), name
    assert coalesced.tables["signals"].height > 0


def test_a_window_end_with_no_data_for_anyone_is_delivered_at_the_next_timestamp(
    tmp_path, monkeypatch
):
    """Minute 09:34 is missing for every symbol, so 09:35 (the first 5m window's end) has no
    data: the window must be delivered at 09:36 with or without coalescing."""
    from simcore.engine.processor import DataProcessor

    tm = TimeManager()
    open_ns = tm.to_utc_ns(tm.get_trading_session(date(2025, 7, 2)).regular_open)
    store = ParquetStore(tmp_path / "s")
    minutes = [m for m in range(390) if m != 4]
    frame = pl.DataFrame(
        {
            "symbol": ["X"] * len(minutes) + ["Y"] * len(minutes),
            "timestamp": [open_ns + m * 60 * NS for m in minutes] * 2,
            "open": 10.0,
            "high": 11.0,
            "low": 9.0,
            "close": 10.5,
            "volume": 100.0,
        }
    ).with_columns(
        pl.col("timestamp").cast(pl.Datetime("ns", "UTC")).dt.cast_time_unit("us"),
        pl.lit(False).alias("extended"),
    )
    store.write(BARS_1M, conform(frame, "bars"))

    class Times(Strategy):
        subscriptions = ("5m",)

        def on_bar(self, ctx, symbol, interval, bar):
            ctx.signal(symbol, "flat", "seen", bar_start=bar.timestamp)

    config = make_config(["X", "Y"], "2025-07-02", "2025-07-02", streams=("1m", "5m"))
    coalesced = run_backtest(config, store, Times()).tables["signals"]
    monkeypatch.setattr(DataProcessor, "stop_times", lambda self, subscriptions: None)
    every_minute = run_backtest(config, store, Times()).tables["signals"]
    assert coalesced.equals(every_minute)
    first = coalesced.row(0, named=True)
    assert first["time"] == datetime.fromtimestamp((open_ns + 6 * 60 * NS) / NS, tz=UTC)  # 09:36


def test_batch_callback_and_per_bar_callback_agree(gappy_store):
    """SmaCrossCounter.on_bars (arrays) and its on_bar (one bar at a time) give the same run."""
    from simcore.strategies.sma_cross import SmaCrossCounter

    class PerBar(SmaCrossCounter):
        on_bars = Strategy.on_bars  # the default: one on_bar call per symbol

    config = make_config(["AAA", "BBB"], "2025-07-01", "2025-07-09", streams=("1m", "5m"))
    batch, per_bar = SmaCrossCounter(), PerBar()
    a = run_backtest(config, gappy_store, batch).tables["signals"]
    b = run_backtest(config, gappy_store, per_bar).tables["signals"]
    assert batch.crosses == per_bar.crosses == a.height > 10
    assert a.equals(b)


def test_history_apply_to_skip_early_close_and_calendar_periods(gappy_store):
    """apply_to limits history to its symbols; skip_early_close leaves 07-03 out of a daily
    average; an Nm period covers the calendar months before the session."""
    historical = {
        "data": [{"trailing_days": 3, "intervals": ["1m"], "apply_to": ["BBB"]}],
        "indicators": {
            "avg_all": {"type": "trailing_average", "period": "3d", "granularity": "daily"},
            "avg_full_days": {
                "type": "trailing_average",
                "period": "3d",
                "granularity": "daily",
                "skip_early_close": True,
            },
            "low_1m": {"type": "trailing_min", "period": "1m", "field": "low"},
        },
    }
    tm = TimeManager()
    seen: dict[str, int] = {}

    class HistoryProbe(Strategy):
        subscriptions = ("5m",)

        def on_session_start(self, ctx, session):
            for symbol in ctx.symbols:
                seen[symbol] = len(ctx.historical_bars(symbol, "1m"))

    config = make_config(
        ["AAA", "BBB"], "2025-07-07", "2025-07-07", streams=("1m", "5m"), historical=historical
    )
    result = run_backtest(config, gappy_store, HistoryProbe())
    # BBB gets 07-01, 07-02 and the early-closing 07-03: at most 390 + 390 + 210 minutes (3% are missing)
    assert seen["AAA"] == 0 and 0.9 * 990 < seen["BBB"] <= 990
    values = {
        (r["symbol"], r["indicator"]): r["value"]
        for r in result.tables["historical_indicators"].iter_rows(named=True)
    }
    daily = gappy_store.read(BARS_1D, ["AAA"]).with_columns(
        tm.utc_to_local_date_expr(pl.col("timestamp")).alias("day")
    )
    window = [date(2025, 7, 1), date(2025, 7, 2), date(2025, 7, 3)]
    assert tm.trailing_trading_days(date(2025, 7, 7), 3) == window and tm.is_early_close(
        date(2025, 7, 3)
    )
    volume = dict(daily.select("day", "volume").iter_rows())
    assert values[("AAA", "avg_all")] == pytest.approx(
        np.mean([volume[d] for d in window]), rel=1e-12
    )
    assert values[("AAA", "avg_full_days")] == pytest.approx(
        np.mean([volume[d] for d in window[:2]]), rel=1e-12
    )
    month = daily.filter((pl.col("day") >= date(2025, 6, 7)) & (pl.col("day") < date(2025, 7, 7)))
    assert values[("AAA", "low_1m")] == month["low"].min()


def test_mixed_base_intervals_are_refused_clearly(gappy_store, tmp_path):
    store = ParquetStore(tmp_path / "mixed")
    store.write(BARS_1M, gappy_store.read(BARS_1M, ["AAA"]))
    store.write(BARS_1D, gappy_store.read(BARS_1D, ["BBB"]))
    with pytest.raises(NotAvailableError, match=r"different base intervals \(AAA: 1m, BBB: 1d\)"):
        run_backtest(
            make_config(["AAA", "BBB"], "2025-07-02", "2025-07-02", streams=("1m", "1d")),
            store,
            Strategy(),
        )


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    gap_rate=st.sampled_from([0.0, 0.05, 0.4]),
    subscription=st.sampled_from(["1m", "5m", "15m", "1h"]),
    alignment=st.sampled_from(["session", "clock"]),
)
def test_property_nothing_visible_is_from_the_future(
    tmp_path_factory, seed, gap_rate, subscription, alignment
):
    """For random data, gaps, subscriptions and bin alignments (with the early close of 07-03):
    at every callback, every visible bar of every interval ended at or before now."""
    store = ParquetStore(tmp_path_factory.mktemp("prop") / "s")
    write_synthetic(
        store,
        SynthSpec(("AAA", "BBB"), date(2025, 7, 2), date(2025, 7, 3), seed=seed, gap_rate=gap_rate),
        TimeManager(),
    )

    class SubscribedProbe(Probe):
        subscriptions = (subscription,)

    probe = SubscribedProbe()
    config = make_config(["AAA", "BBB"], "2025-07-02", "2025-07-03", bar_alignment=alignment)
    run_backtest(config, store, probe)
    assert probe.calls > 0 and len(probe.session_ends) == 2
    assert all(now == close for now, close in probe.session_ends)


def test_stored_bars_outside_the_session_are_counted_not_streamed(tmp_path):
    """A store whose extended flag disagrees with the calendar (a bar at 07-01 16:00 marked
    regular): the bar is counted in the summary and kept out of the stream."""
    tm = TimeManager()
    stamps = []
    for day in (date(2025, 7, 1), date(2025, 7, 2)):
        open_ns = tm.to_utc_ns(tm.get_trading_session(day).regular_open)
        stamps += [open_ns + m * 60 * NS for m in range(390)]
    stamps.append(tm.to_utc_ns(tm.get_trading_session(date(2025, 7, 1)).regular_close))
    frame = pl.DataFrame(
        {
            "symbol": "QQQ",
            "timestamp": sorted(stamps),
            "open": 10.0,
            "high": 11.0,
            "low": 9.0,
            "close": 10.5,
            "volume": 100.0,
        }
    ).with_columns(
        pl.col("timestamp").cast(pl.Datetime("ns", "UTC")).dt.cast_time_unit("us"),
        pl.lit(False).alias("extended"),
    )
    store = ParquetStore(tmp_path / "s")
    store.write(BARS_1M, conform(frame, "bars"))
    result = run_backtest(
        make_config(["QQQ"], "2025-07-01", "2025-07-02", streams=("1m",)), store, Strategy()
    )
    assert result.summary["bars_outside_session"] == 1
    assert result.summary["bars_streamed"] == 2 * 390
