"""Live sessions on Alpaca market data, against the loopback emulator with alpaca-py's own
clients: history equals the emulator's data, a live replay equals the backtest of the same day,
and under each fault the emulator can inject no bar is lost or doubled.

Rehearsal clocks run the sample's early-close day (2025-07-03, 09:30-13:00) fast; timing is
never asserted beyond what a loaded machine always meets (the figures are in benchmarks/).
"""

from __future__ import annotations

import json
from datetime import UTC, date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from adapters.alpaca.emulator.server import AlpacaEmulator, Faults
from adapters.alpaca.history_api import AlpacaHistory
from adapters.alpaca.keys import AlpacaKeys, keys_from_env
from simcore.app.backtest import run_backtest
from simcore.config import SessionConfig
from simcore.engine.analysis import Strategy
from simcore.errors import UserError
from simcore.live.session import LiveOptions
from simcore.providers import CredentialsMissing, CredentialsRejected
from simcore.results.report import write_report
from simcore.store.parquet import BARS_1M, ParquetStore
from simcore.time import LiveClock, TimeManager
from tests.alpaca_support import (
    DAY,
    KEYS,
    et,
    live_config,
    ns,
    run_against_emulator,
    store_bars,
    streamed_bars,
)

# ---------------------------------------------------------------------- history (REST)


def test_history_through_the_emulator_equals_its_data_despite_paging_429_and_500(
    sample_store, tmp_path
):
    clock = LiveClock(et(16, 0), 1.0)  # after the close: the whole day is history
    faults = Faults(page_limit=700, rest_429=2, retry_after_seconds=0, rest_500=1)
    with AlpacaEmulator(
        sample_store, clock, key=KEYS.key, secret=KEYS.secret, faults=faults
    ) as emu:
        store = ParquetStore(tmp_path / "store")
        tm = TimeManager("US_EQUITY", "EQUITY", "live", clock=clock)
        slept: list[float] = []
        history = AlpacaHistory(store, tm, KEYS, url=emu.rest_url, sleep=slept.append)
        days = tm.trading_days(date(2025, 6, 23), DAY)
        report = history.fetch(["ALFA", "BRVO"], "1m", days)
        assert report.retries == 3 and slept[:2] == [0.0, 0.0]  # Retry-After honoured
        assert report.requests > 3  # pages of at most 700 bars, followed by alpaca-py
        again = history.fetch(["ALFA", "BRVO"], "1m", days)
        assert again.requests == 0 and again.symbol_days_cached == 2 * len(days)
    expected = sample_store.read(
        BARS_1M, ["ALFA", "BRVO"], et(0, 0).replace(day=23, month=6), et(23, 59)
    )
    got = store.read(BARS_1M, ["ALFA", "BRVO"])
    assert got.height == expected.height == report.bars
    assert_frame_equal(got.drop("trade_count", "vwap"), expected.drop("trade_count", "vwap"))


def test_missing_and_rejected_keys_are_user_errors(sample_store, monkeypatch):
    monkeypatch.delenv("APCA_API_KEY_ID", raising=False)
    monkeypatch.setenv("APCA_API_SECRET_KEY", "x")
    with pytest.raises(CredentialsMissing, match="APCA_API_KEY_ID is not set"):
        keys_from_env()
    clock = LiveClock(et(16, 0), 1.0)
    with AlpacaEmulator(sample_store, clock, key=KEYS.key, secret=KEYS.secret) as emu:
        tm = TimeManager("US_EQUITY", "EQUITY", "live", clock=clock)
        wrong = AlpacaKeys(KEYS.key, "not-the-secret")
        history = AlpacaHistory(ParquetStore("/nonexistent"), tm, wrong, url=emu.rest_url)
        with pytest.raises(CredentialsRejected, match="refused the keys") as refused:
            history.check_keys("ALFA")
        assert "not-the-secret" not in str(refused.value) and isinstance(refused.value, UserError)
    assert "not-the-secret" not in repr(wrong)


# ---------------------------------------------------------------------- a live session


class Probe(Strategy):
    """Records every 5m bar it is called with and the live clock at the call."""

    subscriptions = ("5m",)

    def on_start(self, ctx):
        self.seen: list[tuple[str, int, int]] = []

    def on_bar(self, ctx, symbol, interval, bar):
        self.seen.append((symbol, bar.timestamp, ctx.now_ns()))


def test_a_live_replay_equals_the_backtest_of_the_same_day(sample_store, tmp_path):
    probe = Probe()
    run = run_against_emulator(sample_store, tmp_path, et(9, 20), 3600.0, probe)
    live = run.result
    assert live.summary["status"] == "complete"
    expected = store_bars(sample_store)
    assert_frame_equal(streamed_bars(live), expected)  # every bar once, as served
    backtest_config = SessionConfig.model_validate(
        live_config().model_dump(mode="json", exclude={"mode"})
        | {
            "backtest_config": {
                "start_date": str(DAY),
                "end_date": str(DAY),
                "speed_multiplier": 0.0,
            },
            "api_config": {"data_api": "local", "trade_api": "paper"},
        }
    )
    backtest = run_backtest(backtest_config, sample_store, Strategy())
    for table in ("bars", "marking", "gaps"):
        assert_frame_equal(live.tables[table], backtest.tables[table])
    # quality agrees, except that live can tell a minute without trades (the provider has no
    # bar for it either, asked max_retries times) from a lost one, and does not count it
    no_trades = live.tables["gap_fills"].filter(pl.col("outcome") == "no_trades")
    assert set(no_trades["symbol"]) == {"BRVO"}  # the sample's missing minute that day
    quality = (
        live.tables["quality"]
        .join(backtest.tables["quality"], on=["session_date", "symbol", "interval"], suffix="_bt")
        .filter(~pl.col("interval").str.starts_with("historical"))
    )
    same = quality.filter(pl.col("symbol") != "BRVO")
    assert (same["quality"] == same["quality_bt"]).all()
    brvo = quality.filter(pl.col("symbol") == "BRVO")
    assert (brvo["quality"] == 100.0).all() and (brvo["quality_bt"] < 100.0).all()
    # the strategy saw each 5m bar at most once, never before its window had ended, and every
    # window no correction touched (a minute later than the grace, on a loaded machine at
    # 3600x, arrives as a correction: the bar is fixed, the strategy is not called again)
    windows = [(s, start) for s, start, _ in probe.seen]
    assert len(windows) == len(set(windows))
    assert all(now >= start + 300 * 10**9 for _, start, now in probe.seen)
    corrected = {
        (r["symbol"], r["bar"].timestamp() // 300 * 300 * 10**9)
        for r in live.tables["corrections"].iter_rows(named=True)
    }
    five_minute = backtest.tables["bars"].filter(pl.col("interval") == "5m")
    expected_windows = {
        (r["symbol"], int(r["timestamp"].timestamp()) * 10**9)
        for r in five_minute.iter_rows(named=True)
    }
    assert expected_windows - corrected <= set(windows) <= expected_windows


def emulated(start_hour: int, start_minute: int):
    return et(start_hour, start_minute)


def ends_complete(run, sample_store) -> None:
    """No bar lost or doubled: the session's bars equal the emulator's data exactly."""
    assert_frame_equal(streamed_bars(run.result), store_bars(sample_store))


def test_a_session_joined_late_fills_the_morning_from_history(sample_store, tmp_path):
    run = run_against_emulator(sample_store, tmp_path, et(12, 20), 1200.0)
    ends_complete(run, sample_store)
    filled = run.result.tables["gap_fills"].filter(pl.col("outcome") == "filled")
    assert filled.height >= 2 * 170 - 2  # 09:30-12:20, less the sample's missing minutes
    assert (filled["bar"] < et(12, 25).astimezone(UTC)).all()  # the feed connects by then


def test_a_live_session_writes_its_results_so_far_while_it_runs(sample_store, tmp_path):
    """With refresh_seconds, the results folder and its report are written during the session
    (status "running", the bars so far), with the pipeline quiet; the last write is the whole
    run's, the same as without refreshes."""
    seen: list[tuple[str, int]] = []

    def refreshed(folder) -> None:
        manifest = json.loads((folder / "manifest.json").read_text())
        seen.append((manifest["summary"]["status"], manifest["tables"]["bars"]["rows"]))
        write_report(folder)

    options = LiveOptions(sessions=1, lead_seconds=30, refresh_seconds=0.2, refreshed=refreshed)
    run = run_against_emulator(sample_store, tmp_path, et(12, 40), 600.0, options=options)
    ends_complete(run, sample_store)
    assert len(seen) >= 1, seen  # 20 session minutes at 600x: 2 s of wall time
    assert {status for status, _ in seen} == {"running"}
    rows = [n for _, n in seen]
    assert rows == sorted(rows) and rows[0] > 0  # the bars so far, growing
    final = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert final["summary"]["status"] == "complete" and final["tables"]["bars"]["rows"] >= rows[-1]
    assert run.result.manifest == final and (tmp_path / "out" / "report.html").is_file()


FAULTS = {
    "dropped connection": Faults(drop_at=[ns(et(12, 35))]),
    "connected but mute": Faults(mute=[(ns(et(12, 30)), ns(et(12, 42)))]),
    "connection limit on reconnect": Faults(drop_at=[ns(et(12, 33))], refuse_after_drop=2),
    "duplicates and out of order": Faults(
        duplicate={("ALFA", ns(et(12, 40))), ("BRVO", ns(et(12, 41)))},
        reorder={ns(et(12, 44)), ns(et(12, 47))},
    ),
    "missing minutes": Faults(missing={("ALFA", ns(et(12, 38))), ("BRVO", ns(et(12, 39)))}),
}


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_no_bar_is_lost_or_doubled_under_a_fault(fault, sample_store, tmp_path):
    faults = FAULTS[fault]
    run = run_against_emulator(sample_store, tmp_path, et(12, 20), 1200.0, faults=faults)
    ends_complete(run, sample_store)
    result = run.result
    if fault == "connected but mute":
        reconnects = result.runtime.figures.reconnects
        assert reconnects and "no bar for any symbol" in reconnects[0][1]
    if fault in ("dropped connection", "connection limit on reconnect"):
        assert run.emulator.connections_opened >= 2
    if fault == "missing minutes":
        fills = result.tables["gap_fills"].filter(pl.col("bar") >= et(12, 38))
        assert fills.filter(pl.col("outcome") == "filled").height == 2


def test_late_and_updated_bars_are_recorded_corrections(sample_store, tmp_path):
    late, updated = ("BRVO", ns(et(12, 42))), ("ALFA", ns(et(12, 44)))
    faults = Faults(late={late: 240.0}, updated={updated: {"close": 999.0, "high": 999.0}})
    run = run_against_emulator(sample_store, tmp_path, et(12, 20), 1200.0, faults=faults)
    corrections = run.result.tables["corrections"]
    kinds = {(r["symbol"], r["kind"]) for r in corrections.iter_rows(named=True)}
    assert ("BRVO", "late") in kinds or ("BRVO", "gap_fill") in kinds  # whichever came first
    assert ("ALFA", "updated") in kinds
    bars = streamed_bars(run.result)
    alfa = bars.filter((pl.col("symbol") == "ALFA") & (pl.col("timestamp") == et(12, 44)))
    assert alfa["close"].item() == 999.0  # applied, not silently dropped
    expected = store_bars(sample_store).filter(
        ~((pl.col("symbol") == "ALFA") & (pl.col("timestamp") == et(12, 44)))
    )
    assert_frame_equal(bars.join(expected, on=["symbol", "timestamp"], how="semi"), expected)


class Boom(Strategy):
    subscriptions = ("5m",)

    def on_bar(self, ctx, symbol, interval, bar):
        if ctx.now().minute >= 40:
            raise RuntimeError("strategy broke live")


def test_a_strategy_error_live_is_reported_and_the_outputs_written(sample_store, tmp_path):
    with pytest.raises(UserError, match="Boom failed in on_bar") as failed:
        run_against_emulator(sample_store, tmp_path, et(12, 20), 1200.0, Boom())
    assert "what the run produced up to then is in" in failed.value.__notes__[0]
    bars = pl.read_parquet(tmp_path / "out" / "bars.parquet")
    assert bars.height > 0
    manifest = (tmp_path / "out" / "manifest.json").read_text()
    assert '"status": "failed"' in manifest
