"""A trading calendar from exchange_calendars, flattened into sorted NumPy arrays.

exchange_calendars answers one question per call through pandas, which costs tens of
microseconds; the engine asks the same questions millions of times. This table is built once
per calendar name and answers by binary search. It holds no timezone logic: opens and closes
stay in UTC nanoseconds, and the TimeManager converts them for delivery.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import exchange_calendars as xcals
import numpy as np

from simcore.errors import CalendarRangeError

# Calendars are built from this date on: the bundled LEAN daily history starts in 1998 and the
# calendar-agreement test covers 2000 onward.
CALENDAR_START = "1990-01-01"


@dataclass(frozen=True)
class CalendarTable:
    name: str
    timezone: str
    sessions: np.ndarray  # datetime64[D], ascending
    opens_ns: np.ndarray  # int64 UTC nanoseconds, aligned with sessions
    closes_ns: np.ndarray  # int64 UTC nanoseconds
    early_close: np.ndarray  # bool
    weekmask: str  # "1111100": Monday..Sunday, 1 = the exchange normally trades that weekday

    @property
    def first_session(self) -> date:
        return self.sessions[0].astype(date)

    @property
    def last_session(self) -> date:
        return self.sessions[-1].astype(date)

    def check_in_range(self, day: date) -> np.datetime64:
        """The date as datetime64[D], or a CalendarRangeError naming the calendar's bounds."""
        d64 = np.datetime64(day, "D")
        if d64 < self.sessions[0] or d64 > self.sessions[-1]:
            raise CalendarRangeError(self.range_message(day))
        return d64

    def range_message(self, day: date) -> str:
        """Why ``day`` cannot be placed on this calendar, and what the calendar covers."""
        bounds = f"{self.first_session.isoformat()} to {self.last_session.isoformat()}"
        if np.datetime64(day, "D") > self.sessions[-1]:
            return (
                f"{day.isoformat()} is after the last session of the {self.name} calendar "
                f"({bounds}): exchange_calendars publishes sessions to about a year ahead"
            )
        return (
            f"{day.isoformat()} is before the first session of the {self.name} calendar "
            f"({bounds}): simcore builds calendars from {CALENDAR_START}"
        )

    def index_of(self, day: date) -> int:
        """Index of the session on ``day``, or -1 when ``day`` is not a session."""
        d64 = self.check_in_range(day)
        i = int(np.searchsorted(self.sessions, d64))
        return i if i < len(self.sessions) and self.sessions[i] == d64 else -1

    def first_index_on_or_after(self, day: date) -> int:
        i = int(np.searchsorted(self.sessions, self.check_in_range(day), side="left"))
        if i >= len(self.sessions):
            raise CalendarRangeError(
                f"no {self.name} session on or after {day.isoformat()} in the calendar "
                f"(its last is {self.last_session.isoformat()})"
            )
        return i

    def last_index_on_or_before(self, day: date) -> int:
        i = int(np.searchsorted(self.sessions, self.check_in_range(day), side="right")) - 1
        if i < 0:
            raise CalendarRangeError(
                f"no {self.name} session on or before {day.isoformat()} in the calendar "
                f"(its first is {self.first_session.isoformat()})"
            )
        return i


def cache_dir() -> Path:
    """Where built calendar tables are kept: $SIMCORE_CACHE, else the user's cache folder."""
    explicit = os.environ.get("SIMCORE_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "simcore"


def _cache_path(name: str) -> Path:
    """One file per calendar, exchange_calendars version and month of building: a calendar
    reaches about a year past the day it was built, so a table built months ago would end
    too early; a new month builds it anew."""
    safe = name.replace("/", "_")
    built = datetime.now(UTC).strftime("%Y-%m")
    return (
        cache_dir()
        / "calendars"
        / f"{safe}-xcals{xcals.__version__}-{CALENDAR_START}-built{built}.npz"
    )


def _build(name: str) -> CalendarTable:
    cal = xcals.get_calendar(name, start=CALENDAR_START)
    sessions = cal.sessions.values.astype("datetime64[D]")
    opens = cal.opens.dt.tz_convert(None).to_numpy().astype("datetime64[ns]").astype(np.int64)
    closes = cal.closes.dt.tz_convert(None).to_numpy().astype("datetime64[ns]").astype(np.int64)
    early = np.isin(sessions, cal.early_closes.values.astype("datetime64[D]"))
    return CalendarTable(name, str(cal.tz), sessions, opens, closes, early, cal.weekmask)


def _read_cached(path: Path, name: str) -> CalendarTable | None:
    try:
        with np.load(path) as data:
            return CalendarTable(
                name,
                str(data["timezone"]),
                data["sessions"],
                data["opens_ns"],
                data["closes_ns"],
                data["early_close"],
                str(data["weekmask"]),
            )
    except (OSError, KeyError, ValueError):
        return None


def _write_cached(path: Path, table: CalendarTable) -> None:
    """Best effort: a cache that cannot be written only costs the next process a rebuild."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
        np.savez(
            tmp,
            timezone=table.timezone,
            sessions=table.sessions,
            opens_ns=table.opens_ns,
            closes_ns=table.closes_ns,
            early_close=table.early_close,
            weekmask=table.weekmask,
        )
        os.replace(tmp, path)
    except OSError:
        pass


@functools.lru_cache(maxsize=8)
def load_calendar(name: str) -> CalendarTable:
    """The table of an exchange_calendars calendar: built once per machine and exchange_calendars
    version (building XNYS from 1990 takes about 0.4 s), then read from the cache folder."""
    path = _cache_path(name)
    table = _read_cached(path, name) if path.exists() else None
    if table is None:
        table = _build(name)
        _write_cached(path, table)
    for arr in (table.sessions, table.opens_ns, table.closes_ns, table.early_close):
        arr.setflags(write=False)
    return table
