"""The run's trading days, and how many of them a backtest reads at once (the read-ahead).

A backtest reads the store in blocks of sessions: at least ``prefetch_days``, and more while a
block holds at most ``READ_AHEAD_BARS`` bars (one read serves a year of daily bars for 500
symbols, where a read per session would cost more than the session). Each session still sees
exactly its own window: a read ahead changes the number of reads, never what a session sees.
The history warm-up and the backtest feed both ask this one schedule. Live sessions read one
session at a time: the store grows while they run (gap fills).
"""

from __future__ import annotations

from datetime import date

from simcore.config.vocabulary import interval_sort_key

READ_AHEAD_BARS = 2_000_000
SESSION_SECONDS = 23_400  # a regular session, for sizing reads (early closes only read less)


class SessionDays:
    def __init__(self, days: list[date], prefetch_days: int, live: bool):
        self.days = days
        self.position = {d: i for i, d in enumerate(days)}  # a session's index in days
        self.prefetch_days = prefetch_days if not live else 1
        self.live = live
        self.read_ahead_bars = READ_AHEAD_BARS

    def read_ahead(self, day: date, interval: str, symbols: int, trailing: int = 0) -> list[date]:
        """The sessions read together with ``day``: at least prefetch_days, and as many more as
        keep the read within ``read_ahead_bars`` (trailing days of history included)."""
        position = self.position[day]
        count = 1
        if not self.live:
            per_session = symbols * max(1, SESSION_SECONDS // interval_seconds(interval))
            fits = self.read_ahead_bars // max(1, per_session) - trailing
            count = max(self.prefetch_days, fits)
        return self.days[position : position + count]

    def prefetched(self, day: date) -> list[date]:
        """``day`` and the sessions after it up to prefetch_days (how quotes are read)."""
        position = self.position[day]
        return self.days[position : position + self.prefetch_days]


def interval_seconds(interval: str) -> int:
    """Length in seconds ("1d": a regular session, one bar)."""
    return int(interval_sort_key(interval).total_seconds()) if interval != "1d" else SESSION_SECONDS
