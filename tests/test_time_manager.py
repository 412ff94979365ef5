"""TimeManager: the design's worked examples, calendar agreement, caches, clock rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import exchange_calendars as xcals
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.errors import CalendarRangeError, ClockError, UserError
from simcore.time import TimeManager

ET = "America/New_York"


def test_design_example_weekend_resolves_to_monday(tm: TimeManager):
    start, end = tm.get_session_boundary_times(date(2025, 7, 5), date(2025, 7, 5))
    assert (start.date(), start.time(), end.time()) == (date(2025, 7, 7), time(9, 30), time(16, 0))
    assert str(start.tzinfo) == ET and str(end.tzinfo) == ET


def test_design_example_trading_day_is_used_as_is(tm: TimeManager):
    start, end = tm.get_session_boundary_times(date(2025, 7, 2), date(2025, 7, 2))
    assert start == datetime(2025, 7, 2, 9, 30, tzinfo=tm.tzinfo)
    assert end == datetime(2025, 7, 2, 16, 0, tzinfo=tm.tzinfo)


def test_early_close_day_after_thanksgiving(tm: TimeManager):
    session = tm.get_trading_session(date(2025, 11, 28))
    assert session is not None and session.is_early_close
    assert session.regular_close.time() == time(13, 0)
    assert session.minutes == 210
    assert tm.is_early_close(date(2025, 11, 28)) and not tm.is_early_close(date(2025, 11, 26))


def test_holidays_and_weekends(tm: TimeManager):
    assert tm.is_holiday(date(2025, 7, 4)) and not tm.is_trading_day(date(2025, 7, 4))
    assert not tm.is_holiday(date(2025, 7, 5))  # a Saturday is a weekend, not a holiday
    assert tm.is_holiday(date(2025, 1, 9))  # national day of mourning (an ad-hoc closure)
    assert tm.get_trading_session(date(2025, 7, 4)) is None


def test_inclusive_and_exclusive_date_finding(tm: TimeManager):
    assert tm.get_first_trading_date(date(2025, 7, 2)) == date(2025, 7, 2)
    assert tm.get_first_trading_date(date(2025, 7, 4)) == date(2025, 7, 7)
    assert tm.get_next_trading_date(date(2025, 7, 3)) == date(2025, 7, 7)
    assert tm.get_previous_trading_date(date(2025, 7, 7)) == date(2025, 7, 3)
    assert tm.count_trading_days(date(2025, 7, 1), date(2025, 7, 8)) == 5
    assert tm.count_trading_days(date(2025, 7, 8), date(2025, 7, 1)) == 0
    assert tm.trading_days(date(2025, 7, 3), date(2025, 7, 7)) == [
        date(2025, 7, 3),
        date(2025, 7, 7),
    ]
    assert tm.trailing_trading_days(date(2025, 7, 7), 2) == [date(2025, 7, 2), date(2025, 7, 3)]


def test_agrees_with_exchange_calendars_for_every_xnys_session_since_2000(tm: TimeManager):
    # up to the last session of simcore's table: it is built once a month, while
    # exchange_calendars' default end moves with today's date
    last = tm._table.last_session
    cal = xcals.get_calendar("XNYS", start="2000-01-01", end=last.isoformat())
    early = set(cal.early_closes.date)
    sessions = cal.sessions
    assert sessions[-1].date() == last
    assert len(sessions) > 6000
    for day, open_, close in zip(sessions.date, cal.opens, cal.closes, strict=True):
        session = tm.get_trading_session(day)
        assert session is not None, day
        assert session.regular_open == open_.to_pydatetime(), day
        assert session.regular_close == close.to_pydatetime(), day
        assert session.is_early_close == (day in early), day
    # every calendar day in between: trading day exactly when exchange_calendars says so
    all_days = [
        sessions[0].date() + timedelta(days=i) for i in range((sessions[-1] - sessions[0]).days + 1)
    ]
    session_set = set(sessions.date)
    assert [tm.is_trading_day(d) for d in all_days] == [d in session_set for d in all_days]


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2027, 10, 1)))
def test_date_finding_properties(day: date):
    tm = TimeManager()
    first = tm.get_first_trading_date(day)
    nxt = tm.get_next_trading_date(day)
    prev = tm.get_previous_trading_date(day)
    assert tm.is_trading_day(first) and tm.is_trading_day(nxt) and tm.is_trading_day(prev)
    assert prev < day <= first <= nxt and day < nxt
    assert (first == day) == tm.is_trading_day(day)
    assert tm.count_trading_days(day, first) == 1
    assert tm.count_trading_days(first, nxt) == (2 if first < nxt else 1)
    assert tm.count_trading_days(prev + timedelta(days=1), first - timedelta(days=1)) == 0


def test_cache_last_query_lru_and_invalidation():
    tm = TimeManager(cache_size=100)
    day = date(2025, 7, 2)
    tm.get_trading_session(day)
    tm.get_trading_session(day)
    tm.get_trading_session(day)
    stats = tm.cache_stats()["trading_session"]
    assert (stats.misses, stats.hits, stats.size) == (1, 2, 1)
    for i in range(150):  # fill past the LRU bound
        tm.get_trading_session(date(2024, 1, 1) + timedelta(days=i))
    assert tm.cache_stats()["trading_session"].size == 100
    misses = tm.cache_stats()["trading_session"].misses
    tm.get_trading_session(day)  # evicted long ago: a miss
    assert tm.cache_stats()["trading_session"].misses == misses + 1
    tm.invalidate_caches()
    assert all(s.size == 0 for s in tm.cache_stats().values())
    tm.get_trading_session(day)
    assert tm.cache_stats()["trading_session"].misses == misses + 2


def test_changing_market_updates_timezone_and_calendar():
    tm = TimeManager()
    tm.set_backtest_time(datetime(2025, 7, 7, 14, 0, tzinfo=UTC))
    assert tm.timezone == ET
    tm.set_market("CRYPTO", "CRYPTO")
    assert tm.timezone == "UTC" and tm.calendar_name == "24/7"
    assert tm.is_trading_day(date(2025, 7, 5))  # crypto trades on Saturdays
    assert str(tm.get_current_time().tzinfo) == "UTC"  # the clock follows the timezone
    tm.set_market("COMMODITIES", "FUTURES")
    session = tm.get_trading_session(date(2025, 7, 7))
    assert tm.timezone == "America/Chicago" and session is not None
    assert session.regular_open == datetime(2025, 7, 6, 17, 0, tzinfo=tm.tzinfo)
    with pytest.raises(ValueError, match="not a supported market"):
        tm.set_market("US_EQUITY", "FUTURES")


def test_virtual_clock_rules(tm: TimeManager):
    with pytest.raises(ClockError, match="not set"):
        tm.get_current_time()
    start = datetime(2025, 7, 2, 13, 30, tzinfo=UTC)
    tm.set_backtest_time(start)
    assert tm.get_current_time() == start and str(tm.get_current_time().tzinfo) == ET
    tm.advance_to(start + timedelta(minutes=1))
    with pytest.raises(ClockError, match="backwards"):
        tm.advance_to(start)
    with pytest.raises(ClockError, match="naive"):
        tm.advance_to(datetime(2025, 7, 2, 10, 0))
    tm.reset_backtest_time()
    with pytest.raises(ClockError):
        tm.get_current_time()


def test_live_clock_is_the_real_clock():
    tm = TimeManager(mode="live")
    before = datetime.now(UTC)
    now = tm.get_current_time()
    assert before <= now <= datetime.now(UTC) and str(now.tzinfo) == ET
    with pytest.raises(ClockError):
        tm.set_backtest_time(now)


def test_dates_outside_the_calendar_are_reported(tm: TimeManager):
    with pytest.raises(CalendarRangeError, match="before the first session of the XNYS calendar"):
        tm.get_trading_session(date(1980, 1, 2))
    with pytest.raises(CalendarRangeError, match="after the last session of the XNYS calendar"):
        tm.get_first_trading_date(date(2100, 1, 4))
    assert issubclass(CalendarRangeError, UserError)  # the CLI answers it with exit 1
    with pytest.raises(TypeError, match="datetime"):
        tm.get_trading_session(datetime(2025, 7, 2, 10, 0, tzinfo=UTC))  # type: ignore[arg-type]


def test_system_api_is_the_way_to_change_the_timezone():
    from simcore.config import SessionConfig
    from simcore.runtime.system import SystemManager

    config = SessionConfig.model_validate(
        {
            "session_name": "t",
            "mode": "live",
            "session_data_config": {"symbols": ["ESZ5"], "streams": ["1m"]},
            "trading_config": {
                "max_buying_power": 1.0,
                "max_per_trade": 1.0,
                "max_per_symbol": 1.0,
                "max_open_positions": 1,
            },
        }
    )
    system = SystemManager(config)
    assert system.timezone == "America/New_York"
    with pytest.raises(ValueError, match="not a supported market"):
        system.set_exchange_group("COMMODITIES")  # COMMODITIES/EQUITY does not exist
    assert system.timezone == "America/New_York" and system.exchange_group == "US_EQUITY"
    system.set_market("COMMODITIES", "FUTURES")
    assert system.timezone == "America/Chicago" == system.get_time_manager().timezone
    assert system.config.exchange_group == "COMMODITIES" and system.asset_class == "FUTURES"
    system.set_asset_class("FUTURES")
    system.set_exchange_group("FOREX")
    assert system.get_time_manager().calendar_name == "CMES"
    with pytest.raises(AttributeError):
        system.timezone = "UTC"  # type: ignore[misc]


def test_calendar_cache_reads_back_what_was_built(tmp_path, monkeypatch):
    import numpy as np

    from simcore.time import calendar_table

    monkeypatch.setenv("SIMCORE_CACHE", str(tmp_path))
    built = calendar_table._build("XNYS")
    path = calendar_table._cache_path("XNYS")
    calendar_table._write_cached(path, built)
    assert path.exists() and str(path).startswith(str(tmp_path))
    cached = calendar_table._read_cached(path, "XNYS")
    assert (
        cached is not None
        and cached.timezone == built.timezone
        and cached.weekmask == built.weekmask
    )
    for field in ("sessions", "opens_ns", "closes_ns", "early_close"):
        assert np.array_equal(getattr(cached, field), getattr(built, field))
    path.write_bytes(b"not a zip")  # a damaged cache file is rebuilt, not trusted
    assert calendar_table._read_cached(path, "XNYS") is None
