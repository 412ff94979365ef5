"""The wall-clock thread runtime: parity with SimPy at speed 0, clock-driven replays released on
schedule (never early), overruns detected and reported, failures named, no thread left behind.

Timing assertions are bounds a loaded 2-core machine always meets; the figures themselves are
measured in ``benchmarks/release_lag.py``.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from simcore.app.backtest import resolve_strategy, run_backtest
from simcore.config import SessionConfig, load_config
from simcore.engine.analysis import Strategy
from simcore.engine.sync import SubscriptionTimeout
from simcore.errors import UserError
from simcore.results.writing import frame_digest
from simcore.runtime.system import SystemManager
from simcore.runtime.threads import THREAD_NAMES, ThreadRuntime
from simcore.store.parquet import BARS_1M, ParquetStore
from simcore.store.schema import conform
from simcore.time import TimeManager

REPO = Path(__file__).resolve().parents[1]
DAY = date(2025, 7, 2)
SPARSE_EVERY = 30  # minutes between bars in the sparse store: 13 releases a session


def digests(tables: dict[str, pl.DataFrame]) -> dict[str, str]:
    return {name: frame_digest(frame) for name, frame in tables.items()}


def with_speed(config: SessionConfig, speed: float, day: date | None = None) -> SessionConfig:
    update: dict[str, object] = {"speed_multiplier": speed}
    if day is not None:
        update |= {"start_date": day, "end_date": day}
    bt = config.backtest_config.model_copy(update=update)
    return config.model_copy(update={"backtest_config": bt})


@pytest.mark.parametrize("name", ["example_backtest", "single_day"])
def test_threads_at_speed_0_give_the_simpy_outputs_byte_for_byte(name, sample_store):
    config = load_config(REPO / "configs" / f"{name}.json")
    sim = run_backtest(config, sample_store, resolve_strategy(config, None), runtime="sim")
    threads = run_backtest(config, sample_store, resolve_strategy(config, None), runtime="threads")
    assert digests(threads.tables) == digests(sim.tables)
    assert threads.summary == sim.summary


def test_threads_parity_on_the_real_lean_week(lean_store):
    store, _ = lean_store
    config = load_config(REPO / "configs" / "lean_oct2013.json")
    sim = run_backtest(config, store, resolve_strategy(config, None), runtime="sim")
    threads = run_backtest(config, store, resolve_strategy(config, None), runtime="threads")
    assert digests(threads.tables) == digests(sim.tables)
    assert sim.summary["bars_streamed"] > 0


@pytest.fixture(scope="module")
def sparse_store(tmp_path_factory) -> ParquetStore:
    """Two symbols with a bar every 30 minutes on 2025-07-02: a replay of the whole session at
    a high multiplier has 13 releases, each a few hundred ms apart."""
    tm = TimeManager()
    session = tm.get_trading_session(DAY)
    open_ns = tm.to_utc_ns(session.regular_open)
    rows = []
    for s, symbol in enumerate(("AAA", "BBB")):
        for k in range(0, session.minutes, SPARSE_EVERY):
            price = 100.0 + s * 10 + k / 100
            rows.append(
                (symbol, open_ns + k * 60_000_000_000, price, price + 1, price - 1, price, 1e3)
            )
    frame = pl.DataFrame(
        rows, schema=["symbol", "ts", "open", "high", "low", "close", "volume"], orient="row"
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")).alias("timestamp"))
    store = ParquetStore(tmp_path_factory.mktemp("sparse") / "store")
    store.write(BARS_1M, conform(frame.with_columns(pl.lit(False).alias("extended")), "bars"))
    return store


def sparse_config(speed: float) -> SessionConfig:
    return SessionConfig.model_validate(
        {
            "session_name": "sparse replay",
            "backtest_config": {"start_date": "2025-07-02", "end_date": "2025-07-02",
                                "speed_multiplier": speed},
            "session_data_config": {"symbols": ["AAA", "BBB"], "streams": ["1m", "5m", "15m"]},
            "trading_config": {"max_buying_power": 1e5, "max_per_trade": 1e4,
                               "max_per_symbol": 2e4, "max_open_positions": 2},
            "api_config": {"data_api": "local", "trade_api": "paper"},
        }
    )  # fmt: skip


class WallProbe(Strategy):
    """Records, at every bar, the wall clock and the virtual time it was called at."""

    subscriptions = ("1m", "15m")

    def on_start(self, ctx):
        self.calls: list[tuple[int, float]] = []
        self.minute_bars: list[tuple[int, int]] = []

    def on_bar(self, ctx, symbol, interval, bar):
        self.calls.append((ctx.now_ns(), time.perf_counter()))
        if interval == "1m":
            self.minute_bars.append((bar.timestamp, ctx.now_ns()))
        if interval == "15m":
            ctx.signal(symbol, "buy", "probe", close=bar.close)


SPEED = 390 * 60 / 3.0  # the whole session in three seconds


def test_a_replay_releases_on_schedule_and_equals_the_data_driven_run(sparse_store):
    data_driven_probe = WallProbe()
    data_driven = run_backtest(sparse_config(0.0), sparse_store, data_driven_probe)
    # a bar is handled at the time it completes, the session's last one too (not at the close)
    assert all(now == start + 60 * 10**9 for start, now in data_driven_probe.minute_bars)
    system_probe = WallProbe()
    replay = run_backtest(sparse_config(SPEED), sparse_store, system_probe)
    assert replay.tables["overruns"].height == 0  # 230 ms between releases: nothing falls behind
    assert digests(replay.tables) == digests(data_driven.tables)  # table for table
    lags = replay.metrics.clock_driven["release_lag_ms"]
    assert lags["count"] == 13 + 1  # 13 releases and the close
    # never early (checked against the probe's own wall clock), and never far late
    ((open_ns, started),) = replay.runtime.session_starts
    for now_ns, wall in system_probe.calls:
        due = started + (now_ns - open_ns) / 1e9 / SPEED
        assert wall >= due
    assert lags["max"] < 1000.0


class Sleeper(Strategy):
    """30 ms per bar in the session's first ten minutes, then quick."""

    subscriptions = ("1m",)

    def on_bar(self, ctx, symbol, interval, bar):
        if ctx.minute_index(bar.timestamp) < 10:
            time.sleep(0.03)


def test_a_slow_strategy_overruns_are_detected_counted_and_reported(sample_store):
    # 390 releases at 20,000x are 3 ms apart; the strategy takes 60 ms a minute at first
    config = with_speed(load_config(REPO / "configs" / "single_day.json"), 20_000.0)
    result = run_backtest(config, sample_store, Sleeper())
    overruns = result.tables["overruns"]
    assert overruns.height > 0
    assert set(overruns["link"]) == {"coordinator->processor"}
    # the strategy is to blame; once it is quick again the processor works off the backlog
    assert "analysis engine" in set(overruns["busy"])
    assert overruns["time"].min() < datetime(2025, 7, 2, 13, 41, tzinfo=UTC)  # the slow start
    assert (overruns["lag_ms"] > 0).all()
    counted = result.metrics.clock_driven["overruns"]["coordinator->processor"]
    assert counted == overruns.height
    assert "Overruns: coordinator->processor" in result.metrics.report()
    # the data was still delivered: every bar of the session was streamed and recorded
    reference = run_backtest(with_speed(config, 0.0), sample_store, Strategy())
    assert result.summary["bars_streamed"] == reference.summary["bars_streamed"]


class FailsAtTen(Strategy):
    subscriptions = ("5m",)

    def on_bar(self, ctx, symbol, interval, bar):
        if ctx.now().hour == 10:
            raise ValueError("ten o'clock")


def test_a_strategy_error_on_threads_stops_every_thread_and_writes_what_was_produced(
    sample_store, tmp_path
):
    config = load_config(REPO / "configs" / "single_day.json")
    with pytest.raises(UserError, match="FailsAtTen failed in on_bar") as failed:
        run_backtest(config, sample_store, FailsAtTen(), tmp_path / "out", runtime="threads")
    assert "what the run produced" in failed.value.__notes__[0]
    bars = pl.read_parquet(tmp_path / "out" / "bars.parquet")
    assert bars.height > 0 and bars["timestamp"].dt.hour().max() == 13  # up to 10:00 ET
    assert not [t for t in threading.enumerate() if t.name in THREAD_NAMES]


def test_an_exception_in_a_component_names_it(sample_store, monkeypatch):
    from simcore.engine.processor import DataProcessor

    def broken(self, note):
        raise RuntimeError("processor bug")

    monkeypatch.setattr(DataProcessor, "handle", broken)
    config = load_config(REPO / "configs" / "single_day.json")
    with pytest.raises(RuntimeError, match="processor bug") as failed:
        run_backtest(config, sample_store, resolve_strategy(config, None), runtime="threads")
    assert failed.value.__notes__[0] == "(raised in simcore's data processor)"


def test_a_stalled_consumer_is_a_subscription_timeout(sample_store, monkeypatch):
    monkeypatch.setattr(ThreadRuntime, "CONSUMER_TIMEOUT", 0.5)

    class Stuck(Strategy):
        subscriptions = ("5m",)

        def on_bar(self, ctx, symbol, interval, bar):
            time.sleep(1.5)

    config = load_config(REPO / "configs" / "single_day.json")
    with pytest.raises(SubscriptionTimeout, match="analysis engine did not signal ready"):
        run_backtest(config, sample_store, Stuck(), runtime="threads")


def test_threads_are_named_and_started_in_the_designs_order(sample_store):
    seen: list[list[str]] = []

    class Looks(Strategy):
        subscriptions = ("15m",)

        def on_start(self, ctx):
            seen.append(sorted(t.name for t in threading.enumerate() if t.name in THREAD_NAMES))

        def on_bar(self, ctx, symbol, interval, bar):
            seen.append(sorted(t.name for t in threading.enumerate() if t.name in THREAD_NAMES))

    config = load_config(REPO / "configs" / "single_day.json")
    system = SystemManager(config)
    from simcore.store.source import LocalDataSource

    components = system.start(
        Looks(), LocalDataSource(sample_store, system.get_time_manager()), runtime="threads"
    )
    assert seen[0] == []  # on_start runs before the threads
    assert seen[-1] == sorted(THREAD_NAMES)
    starts = [t.name for t in components.runtime.threads]
    assert starts == list(THREAD_NAMES)  # analysis engine first, then the coordinator
    system.stop()
    assert not any(t.is_alive() for t in components.runtime.threads)
