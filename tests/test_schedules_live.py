"""Schedules in a live session: a rehearsal against the Alpaca emulator runs them at the same
session times as the data-driven backtest of the day (a minute's release comes a grace period
after its end, so live runs them seconds later), early close included."""

from __future__ import annotations

from datetime import timedelta

from simcore.app.backtest import run_backtest
from simcore.engine.analysis import Strategy
from tests.alpaca_support import et, live_config, run_against_emulator
from tests.test_alpaca_trading import backtest_config


class AtTimes(Strategy):
    subscriptions = ("1m",)

    def on_start(self, ctx):
        self.ran = []
        ctx.schedule(lambda c: self.ran.append(("12:50", c.now())), at="12:50")
        ctx.schedule(lambda c: self.ran.append(("close-5", c.now())), before_close=5)
        ctx.schedule(lambda c: ctx.buy("ALFA", 10), at="12:45", name="buy")


def test_a_live_session_runs_schedules_at_the_backtests_session_times(sample_store, tmp_path):
    live = AtTimes()
    run = run_against_emulator(
        sample_store, tmp_path, et(12, 35), 150.0, live, config=live_config()
    )
    backtest = AtTimes()
    expected = run_backtest(backtest_config(), sample_store, backtest)
    assert (
        [name for name, _ in live.ran] == [name for name, _ in backtest.ran] == ["12:50", "close-5"]
    )
    for (_, at_live), (_, at_backtest) in zip(live.ran, backtest.ran, strict=True):
        assert f"{at_backtest:%H:%M:%S}" in ("12:50:00", "12:55:00")  # 13:00 close: 12:55
        # live runs it at the minute's release, seconds after; a loaded machine may run it a
        # little later (at 150x a session minute is 0.4 s), never earlier
        assert at_backtest <= at_live <= at_backtest + timedelta(minutes=3)
    fills = ["time", "symbol", "side", "quantity", "price"]
    live_fills, backtest_fills = run.result.tables["fills"], expected.tables["fills"]
    if run.result.tables["overruns"].is_empty():  # kept up: the backtest's fills
        assert live_fills.select(fills).equals(backtest_fills.select(fills))
    else:  # overran (a loaded machine): the same trades, none earlier
        same = ["symbol", "side", "quantity"]
        assert live_fills.select(same).equals(backtest_fills.select(same))
        assert (live_fills["time"] >= backtest_fills["time"]).all()
