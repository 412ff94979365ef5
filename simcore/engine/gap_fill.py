"""Gap filling, live mode only: which missing bars to ask the provider for, and when.

A released slot without a symbol's bar is a gap. Every ``retry_interval_seconds`` (session
clock) up to ``max_retries`` times, the data quality manager asks the provider's history API
for the gaps due; what it gets goes back to the coordinator, which writes it in as a correction
(kind ``gap_fill``). A gap is then:

* ``filled`` — the provider had the bar;
* ``no_trades`` — every attempt was answered and none had the bar: the symbol did not trade in
  that minute, which is not a failure of the feed (quality does not count it as missing);
* ``unfillable`` — the retries ran out without an answer (errors);
* ``open`` — still being retried when the session ended.

The bookkeeping here is plain logic; the runtime decides when to call it, on its own thread.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class GapState:
    symbol: int
    interval: str
    slot: int
    bar_ns: int
    attempts: int = 0
    answered: int = 0  # attempts the provider answered (with or without the bar)
    next_try_ns: int = 0
    outcome: str = "open"


@dataclass(frozen=True, slots=True)
class FillRequest:
    """One request to the provider: a symbol's missing bars between two times (inclusive)."""

    symbol: int
    interval: str
    start_ns: int
    end_ns: int
    slots: tuple[int, ...]


class GapFiller:
    def __init__(self, max_retries: int, retry_interval_ns: int):
        self.max_retries = max_retries
        self.retry_interval_ns = retry_interval_ns
        self.gaps: dict[tuple[int, str, int], GapState] = {}
        # kept as the gaps change, so that a session joined late (thousands of second bars to
        # fill) costs the quality manager nothing per slot once they are filled
        self._open: dict[tuple[int, str, int], GapState] = {}
        self._no_trades: dict[str, dict[int, int]] = {}  # interval -> symbol -> gaps
        self._filled = 0

    def begin_session(self) -> None:
        self.gaps, self._open, self._no_trades, self._filled = {}, {}, {}, 0

    def missing(self, symbol: int, interval: str, slot: int, bar_ns: int, now_ns: int) -> None:
        key = (symbol, interval, slot)
        if key not in self.gaps:
            first_try = now_ns + self.retry_interval_ns  # the feed may still bring it late
            gap = GapState(symbol, interval, slot, bar_ns, next_try_ns=first_try)
            self.gaps[key] = self._open[key] = gap

    def arrived(self, symbol: int, interval: str, slot: int) -> bool:
        """A bar for a gap came in (late, or from a fill): True when it closed an open gap."""
        key = (symbol, interval, slot)
        gap = self.gaps.get(key)
        if gap is None or gap.outcome not in ("open", "unfillable", "no_trades"):
            return False
        if gap.outcome == "no_trades":
            self._no_trades[interval][symbol] -= 1
        self._open.pop(key, None)
        gap.outcome = "filled"
        self._filled += 1
        return True

    def next_due_ns(self) -> int | None:
        return min((g.next_try_ns for g in self._open.values()), default=None)

    def due(self, now_ns: int) -> list[FillRequest]:
        """The gaps to ask for now, one request per symbol and run of consecutive slots."""
        due = sorted(
            (g for g in self._open.values() if g.next_try_ns <= now_ns),
            key=lambda g: (g.symbol, g.interval, g.slot),
        )
        requests: list[FillRequest] = []
        run: list[GapState] = []
        for gap in due:
            if run and (
                gap.symbol != run[-1].symbol
                or gap.interval != run[-1].interval
                or gap.slot != run[-1].slot + 1
            ):
                requests.append(_request(run))
                run = []
            run.append(gap)
        if run:
            requests.append(_request(run))
        return requests

    def attempted(self, request: FillRequest, answered: bool, now_ns: int) -> None:
        """One attempt made (``answered``: the provider replied, whatever it had)."""
        for slot in request.slots:
            gap = self.gaps[(request.symbol, request.interval, slot)]
            if gap.outcome != "open":
                continue
            gap.attempts += 1
            gap.answered += int(answered)
            if gap.attempts >= self.max_retries:
                gap.outcome = "no_trades" if gap.answered == gap.attempts else "unfillable"
                del self._open[(request.symbol, request.interval, slot)]
                if gap.outcome == "no_trades":
                    by_symbol = self._no_trades.setdefault(request.interval, {})
                    by_symbol[gap.symbol] = by_symbol.get(gap.symbol, 0) + 1
            else:
                gap.next_try_ns = now_ns + self.retry_interval_ns

    def no_trade_counts(self, symbols: int, interval: str) -> list[int]:
        by_symbol = self._no_trades.get(interval, {})
        return [by_symbol.get(s, 0) for s in range(symbols)]

    def open_count(self) -> int:
        return len(self._open)

    def filled_count(self) -> int:
        return self._filled


def _request(run: list[GapState]) -> FillRequest:
    return FillRequest(
        run[0].symbol, run[0].interval, run[0].bar_ns, run[-1].bar_ns, tuple(g.slot for g in run)
    )
