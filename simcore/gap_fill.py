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

    def begin_session(self) -> None:
        self.gaps = {}

    def missing(self, symbol: int, interval: str, slot: int, bar_ns: int, now_ns: int) -> None:
        key = (symbol, interval, slot)
        if key not in self.gaps:
            first_try = now_ns + self.retry_interval_ns  # the feed may still bring it late
            self.gaps[key] = GapState(symbol, interval, slot, bar_ns, next_try_ns=first_try)

    def arrived(self, symbol: int, interval: str, slot: int) -> bool:
        """A bar for a gap came in (late, or from a fill): True when it closed an open gap."""
        gap = self.gaps.get((symbol, interval, slot))
        if gap is None or gap.outcome not in ("open", "unfillable", "no_trades"):
            return False
        gap.outcome = "filled"
        return True

    def next_due_ns(self) -> int | None:
        times = [g.next_try_ns for g in self.gaps.values() if g.outcome == "open"]
        return min(times) if times else None

    def due(self, now_ns: int) -> list[FillRequest]:
        """The gaps to ask for now, one request per symbol and run of consecutive slots."""
        due = sorted(
            (g for g in self.gaps.values() if g.outcome == "open" and g.next_try_ns <= now_ns),
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
            else:
                gap.next_try_ns = now_ns + self.retry_interval_ns

    def no_trade_counts(self, symbols: int, interval: str) -> list[int]:
        counts = [0] * symbols
        for gap in self.gaps.values():
            if gap.interval == interval and gap.outcome == "no_trades":
                counts[gap.symbol] += 1
        return counts

    def open_count(self) -> int:
        return sum(g.outcome == "open" for g in self.gaps.values())

    def filled_count(self) -> int:
        return sum(g.outcome == "filled" for g in self.gaps.values())


def _request(run: list[GapState]) -> FillRequest:
    return FillRequest(
        run[0].symbol, run[0].interval, run[0].bar_ns, run[-1].bar_ns, tuple(g.slot for g in run)
    )
