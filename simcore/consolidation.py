"""Building bars of a longer interval from base bars, one bar at a time (LEAN's consolidators).

A derived bar covers a window [start, end). Windows are aligned to the session open by default
(09:30, 09:35, … for 5m) or to the clock (``alignment="clock"``: 09:00-10:00 for 1h, the first
one partial, labelled 09:00, as LEAN's and Alpaca's hourly bars are). The last window of a day
is cut at the close, so an early close ends its last bar at 13:00.

A derived bar is emitted only once its window is complete: when the base bar that ends exactly
at the window's end arrives, when a base bar of a later window arrives (base bars were missing),
or when the clock passes the window's end (``flush_until``). It is never emitted early, so no
consumer sees a 5m bar before its last minute has happened.
"""

from __future__ import annotations

from dataclasses import dataclass

from simcore.bars import Bar


@dataclass(slots=True)
class _Window:
    start: int
    end: int
    open: float
    high: float
    low: float
    close: float
    volume: float


class BarConsolidator:
    """Derives ``interval_ns`` bars from ``base_ns`` bars within one session [open, close)."""

    __slots__ = ("_alignment", "_base_ns", "_close", "_current", "_interval", "_open")

    def __init__(
        self,
        interval_ns: int,
        base_ns: int,
        session_open_ns: int,
        session_close_ns: int,
        alignment: str = "session",
    ):
        if interval_ns <= base_ns or interval_ns % base_ns:
            raise ValueError("the derived interval must be a whole multiple of the base interval")
        if alignment not in ("session", "clock"):
            raise ValueError(f"alignment must be 'session' or 'clock', not {alignment!r}")
        self._interval = interval_ns
        self._base_ns = base_ns
        self._open = session_open_ns
        self._close = session_close_ns
        self._alignment = alignment
        self._current: _Window | None = None

    def _window_bounds(self, ts: int) -> tuple[int, int]:
        if self._alignment == "session":
            start = self._open + (ts - self._open) // self._interval * self._interval
        else:
            start = ts // self._interval * self._interval  # UTC-epoch aligned: whole hours
        end = min(start + self._interval, self._close)
        return start, end

    def update(self, bar: Bar) -> list[Bar]:
        """Feed one base bar (in time order); returns the derived bars it completes."""
        if not self._open <= bar.timestamp < self._close:
            raise ValueError(
                "base bar outside the session; extended-hours bars are not consolidated"
            )
        done: list[Bar] = []
        current = self._current
        if current is not None and bar.timestamp >= current.end:
            done.append(_emit(current))
            current = None
        if current is None:
            start, end = self._window_bounds(bar.timestamp)
            current = _Window(start, end, bar.open, bar.high, bar.low, bar.close, bar.volume)
        else:
            current.high = max(current.high, bar.high)
            current.low = min(current.low, bar.low)
            current.close = bar.close
            current.volume += bar.volume
        if bar.timestamp + self._base_ns >= current.end:
            done.append(_emit(current))
            current = None
        self._current = current
        return done

    def flush_until(self, now_ns: int) -> list[Bar]:
        """Emit the open window if the clock has reached its end (its last base bars missing)."""
        current = self._current
        if current is not None and now_ns >= current.end:
            self._current = None
            return [_emit(current)]
        return []


def _emit(window: _Window) -> Bar:
    return Bar(window.start, window.open, window.high, window.low, window.close, window.volume)
