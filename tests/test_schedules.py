"""Scheduled callbacks (``ctx.schedule``): when they run on the session clock, early closes, what
they see and what their orders do, the same times data-driven and replayed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from simcore.app.backtest import run_backtest
from simcore.engine.analysis import Strategy
from simcore.engine.schedules import ScheduleError
from simcore.errors import UserError
from tests.test_trading_backtest import config


def local(ctx) -> str:
    return f"{ctx.now():%Y-%m-%d %H:%M}"


class Clockwork(Strategy):
    """Records when each schedule ran and what the latest visible bar was then."""

    subscriptions = ("5m",)
    reads = ("1m",)

    def on_start(self, ctx):
        self.ran: list[tuple[str, str, int]] = []
        self.started: list[str] = []
        ctx.schedule(self.note("open+0"), after_open=0)
        ctx.schedule(self.note("10:15"), at="10:15")
        ctx.schedule(self.note("close-5"), before_close=5)
        ctx.schedule(self.note("15:50"), at="15:50")
        ctx.schedule(self.note("once 11:00"), at="11:00", every_session=False)
        ctx.schedule(self.note("close-30m"), before_close=timedelta(minutes=30))

    def note(self, name):
        def ran(ctx):
            latest = ctx.bars("ALFA", "1m").timestamp
            self.ran.append((name, local(ctx), int(latest[-1]) if len(latest) else -1))

        ran.__name__ = name
        return ran

    def on_session_start(self, ctx, session):
        self.started.append(f"{session.date}")


def test_schedules_run_at_their_times_and_respect_the_early_close(sample_store):
    strategy = Clockwork()
    result = run_backtest(
        config("2025-07-02", "2025-07-03", ("ALFA",)), sample_store, strategy
    )  # 07-03 closes at 13:00
    ran = [(name, at) for name, at, _ in strategy.ran]
    assert ran == [
        ("open+0", "2025-07-02 09:31"),  # the first release at or after 09:30: the first bar's end
        ("10:15", "2025-07-02 10:15"),
        ("once 11:00", "2025-07-02 11:00"),
        ("close-30m", "2025-07-02 15:30"),
        ("15:50", "2025-07-02 15:50"),
        ("close-5", "2025-07-02 15:55"),
        ("open+0", "2025-07-03 09:31"),
        ("10:15", "2025-07-03 10:15"),
        ("close-30m", "2025-07-03 12:30"),
        ("close-5", "2025-07-03 12:55"),
    ]
    assert result.summary["warnings"][-1] == (
        "schedule '15:50' (at 15:50) did not run on 2025-07-03: the session ran 09:30 to 13:00"
    )


def test_a_schedule_sees_every_bar_up_to_its_time_and_none_after(sample_store):
    strategy = Clockwork()
    run_backtest(config("2025-07-02", "2025-07-02", ("ALFA",)), sample_store, strategy)
    for name, at, latest_start in strategy.ran:
        now = datetime.strptime(at, "%Y-%m-%d %H:%M")
        seen = datetime.fromtimestamp(latest_start / 1e9) if latest_start >= 0 else None
        assert seen is not None, name
        # the latest visible 1m bar started a minute before the schedule ran (it ended then)
        assert f"{seen:%M}" == f"{now - timedelta(minutes=1):%M}", name


class FlattenBeforeTheClose(Strategy):
    """Buys at the open (a schedule), sells everything 10 minutes before the close."""

    subscriptions = ("15m",)

    def on_start(self, ctx):
        ctx.schedule(lambda ctx: ctx.buy("ALFA", 10), after_open=0, name="buy at the open")
        ctx.schedule(lambda ctx: ctx.flatten(), before_close=10, name="flatten")


@pytest.mark.parametrize("day, close", [("2025-07-02", "19:50"), ("2025-07-03", "16:50")])
def test_an_order_from_a_schedule_fills_on_the_next_bar(sample_store, day, close):
    result = run_backtest(config(day, day, ("ALFA",)), sample_store, FlattenBeforeTheClose())
    fills = result.tables["fills"]
    bars = result.tables["bars"].filter(interval="1m", symbol="ALFA").sort("timestamp")
    assert fills["side"].to_list() == ["buy", "sell"]
    times = [f"{t:%H:%M}" for t in fills["time"].to_list()]  # UTC
    assert times == ["13:31", close]  # the bar after the schedule's time: at its open
    for fill in fills.iter_rows(named=True):
        bar = bars.filter(timestamp=fill["time"])
        assert fill["price"] == bar["open"][0]
    assert result.tables["positions"]["quantity"][-1] == 0


def test_replayed_against_the_clock_schedules_run_at_the_same_virtual_times(sample_store):
    data_driven, replayed = Clockwork(), Clockwork()
    run_backtest(config("2025-07-03", "2025-07-03", ("ALFA",)), sample_store, data_driven)
    replay = run_backtest(
        config("2025-07-03", "2025-07-03", ("ALFA",), speed=20_000.0), sample_store, replayed
    )
    assert len(data_driven.ran) == 5
    assert [name for name, _, _ in replayed.ran] == [name for name, _, _ in data_driven.ran]
    kept_up = replay.tables["overruns"].is_empty()
    for (_, replay_at, replay_seen), (_, data_at, data_seen) in zip(
        replayed.ran, data_driven.ran, strict=True
    ):
        # the clock a callback reads may have moved on (1 session minute = 3 ms of wall
        # clock here), never back ("YYYY-MM-DD HH:MM")
        assert replay_at >= data_at
        if kept_up:  # the same release: the same bars seen
            assert replay_seen == data_seen
        else:  # overran (a loaded machine): it may see bars that arrived meanwhile, not fewer
            assert replay_seen >= data_seen


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({}, "give exactly one of at, after_open or before_close"),
        ({"at": "10:00", "before_close": 5}, r"\(got at, before_close\)"),
        ({"at": "ten"}, "at must be a time of day such as '15:50', got 'ten'"),
        ({"after_open": -5}, "after_open must not be negative"),
        ({"before_close": "5"}, "before_close is minutes"),
    ],
)
def test_a_schedule_that_cannot_be_made_says_which_argument(sample_store, arguments, message):
    class Wrong(Strategy):
        def on_start(self, ctx):
            ctx.schedule(lambda ctx: None, **arguments)

    with pytest.raises(UserError, match="failed in on_start") as caught:
        run_backtest(config("2025-07-02", "2025-07-02", ("ALFA",)), sample_store, Wrong())
    assert isinstance(caught.value.__cause__, ScheduleError)
    assert caught.match(message)


def test_a_schedule_that_raises_is_named_in_the_error(sample_store):
    class Broken(Strategy):
        def on_start(self, ctx):
            ctx.schedule(lambda ctx: 1 / 0, at="10:00", name="rebalance")

    with pytest.raises(
        UserError, match=r"failed in the schedule 'rebalance' \(time 2025-07-02T10:00"
    ):
        run_backtest(config("2025-07-02", "2025-07-02", ("ALFA",)), sample_store, Broken())


def test_a_schedule_made_during_a_session_runs_from_the_next_and_can_be_canceled(sample_store):
    class Later(Strategy):
        subscriptions = ("15m",)

        def on_start(self, ctx):
            self.ran = []

        def on_bar(self, ctx, symbol, interval, bar):
            if local(ctx).endswith("10:00") and not hasattr(self, "made"):
                self.made = [
                    ctx.schedule(lambda c: self.ran.append(("past", local(c))), at="09:45"),
                    ctx.schedule(lambda c: self.ran.append(("ahead", local(c))), at="11:00"),
                ]
            if local(ctx).endswith("2025-07-03 10:00"):
                self.made[1].cancel()

    strategy = Later()
    run_backtest(config("2025-07-02", "2025-07-03", ("ALFA",)), sample_store, strategy)
    # made at 10:00 on 07-02: from 07-03, where "ahead" was canceled before its time
    assert strategy.ran == [("past", "2025-07-03 09:45")]
