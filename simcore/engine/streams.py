"""Stream marking: which requested streams are STREAMED, GENERATED or IGNORED, per symbol.

The session coordinator decides this once per session from the mode and from what the data
source actually holds (Architecture Rule 1):

* **backtest** — one base bar interval per symbol is streamed, the smallest one needed: the
  largest stored base (1s, 1m, 1d) that is no longer than the smallest requested bar interval.
  With ``["1s", "1m", "10m"]`` requested and 1s stored, 1s is streamed and 1m and 10m are
  generated, as in the design's example; with ``["1m", "5m"]`` requested and both 1s and 1m
  stored, 1m is streamed (generating 1m from 1s would give the same bars at 60x the work).
  When no stored base is that small, the smallest useful one is streamed and the requests
  below it are IGNORED (``1s`` cannot be made from 1m bars).
  Every other requested bar interval is generated from that base. Quotes are streamed if
  stored; ticks are never streamed in backtest.
* **live** — the base is chosen by the same rule among the bar intervals the provider's live
  stream offers (Polygon: 1s and 1m; Alpaca and Schwab: 1m), and quotes and ticks are streamed
  when offered. One bar stream per session: the other requested bar intervals are generated
  from the base even where the provider also streams them (``["1s", "1m"]`` on Polygon takes
  second aggregates and builds 1m from them), so a live session's bars are built as the
  backtest's are and one grid holds them. The design's live rule ("stream what the API has")
  is kept for the base, quotes and ticks; the README says why bars deviate.

Whatever cannot be streamed or generated is IGNORED, with the reason recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from simcore.config.vocabulary import BAR_INTERVALS, BASE_INTERVALS, interval_sort_key


class Mark(StrEnum):
    STREAMED = "STREAMED"
    GENERATED = "GENERATED"
    IGNORED = "IGNORED"


@dataclass(frozen=True, slots=True)
class StreamDecision:
    symbol: str
    stream: str
    mark: Mark
    requested: bool  # False for a base interval streamed only to generate others
    reason: str


@dataclass(frozen=True)
class StreamPlan:
    """The marking of every stream of every symbol, and each symbol's streamed base."""

    decisions: tuple[StreamDecision, ...]
    base: Mapping[str, str | None]  # symbol -> streamed base bar interval (None: no bars)
    _index: dict[tuple[str, str], Mark] = field(init=False, repr=False, compare=False)
    _generated: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    _carriers: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    bases: tuple[str, ...] = field(init=False, compare=False)  # streamed bases, shortest first
    generated: tuple[str, ...] = field(init=False, compare=False)  # every derived interval

    def __post_init__(self) -> None:
        index = {(d.symbol, d.stream): d.mark for d in self.decisions}
        generated: dict[str, list[str]] = {}
        for d in self.decisions:
            if d.mark is Mark.GENERATED:
                generated.setdefault(d.symbol, []).append(d.stream)
        carriers: dict[str, list[str]] = {}  # bar interval -> symbols with it as base or derived
        for d in self.decisions:
            kept = d.mark is Mark.GENERATED or (
                d.mark is Mark.STREAMED and self.base.get(d.symbol) == d.stream
            )
            if kept and d.symbol not in carriers.setdefault(d.stream, []):
                carriers[d.stream].append(d.symbol)
        object.__setattr__(
            self,
            "_carriers",
            {i: tuple(carriers[i]) for i in sorted(carriers, key=interval_sort_key)},
        )
        object.__setattr__(
            self,
            "bases",
            tuple(sorted({b for b in self.base.values() if b}, key=interval_sort_key)),
        )
        object.__setattr__(
            self,
            "generated",
            tuple(sorted({i for v in generated.values() for i in v}, key=interval_sort_key)),
        )
        object.__setattr__(self, "_index", index)
        object.__setattr__(
            self,
            "_generated",
            {s: tuple(sorted(v, key=interval_sort_key)) for s, v in generated.items()},
        )

    def mark(self, symbol: str, stream: str) -> Mark:
        try:
            return self._index[(symbol, stream)]
        except KeyError:
            raise KeyError(f"{symbol} {stream} was not marked") from None

    def streams(self, symbol: str, mark: Mark) -> list[str]:
        return [d.stream for d in self.decisions if d.symbol == symbol and d.mark is mark]

    def bar_carriers(self) -> dict[str, tuple[str, ...]]:
        """Each bar interval a session keeps (shortest first) -> the symbols that stream it as
        their base or derive it, in symbol order."""
        return self._carriers

    def symbols_streaming(self, stream: str) -> list[str]:
        """The symbols whose ``stream`` is STREAMED, in the plan's order."""
        return [d.symbol for d in self.decisions if d.stream == stream and d.mark is Mark.STREAMED]

    def live_channels(self) -> tuple[str, ...]:
        """What a live feed must carry for this plan: the streamed base bar intervals, then
        quotes and ticks where STREAMED (the vocabulary of ``HistoryApi.streamable``)."""
        streamed = {d.stream for d in self.decisions if d.mark is Mark.STREAMED}
        bars = sorted((s for s in streamed if s in BAR_INTERVALS), key=interval_sort_key)
        return (*bars, *(s for s in ("quotes", "ticks") if s in streamed))

    def generated_intervals(self, symbol: str) -> tuple[str, ...]:
        """Bar intervals to derive for ``symbol``, in ascending order (5m before 15m)."""
        return self._generated.get(symbol, ())

    def as_rows(self) -> list[dict[str, object]]:
        """A plain, ordered table for the outputs (symbol, stream, mark, requested, reason)."""
        return [
            {
                "symbol": d.symbol,
                "stream": d.stream,
                "mark": d.mark.value,
                "requested": d.requested,
                "reason": d.reason,
            }
            for d in self.decisions
        ]


def _choose_base(requested_bars: list[str], stored: set[str]) -> str | None:
    """The largest stored base no longer than the smallest requested bar interval; failing
    that, the smallest stored base that serves any request (smaller requests are IGNORED)."""
    useful = [
        b
        for b in BASE_INTERVALS
        if b in stored
        and any(
            b == r or (interval_sort_key(b) < interval_sort_key(r) and _divides(b, r))
            for r in requested_bars
        )
    ]
    if not useful:
        return None
    smallest_requested = interval_sort_key(min(requested_bars, key=interval_sort_key))
    fitting = [b for b in useful if interval_sort_key(b) <= smallest_requested]
    return max(fitting, key=interval_sort_key) if fitting else min(useful, key=interval_sort_key)


def _divides(base: str, interval: str) -> bool:
    """Whether bars of ``interval`` can be built from whole bars of ``base``."""
    if interval == "1d":
        return True  # a session is a whole number of 1s or 1m bars, early closes included
    if base == "1d":
        return False
    return interval_sort_key(interval) % interval_sort_key(base) == timedelta(0)


def mark_streams(
    symbols: Iterable[str],
    requested: Iterable[str],
    mode: str,
    available: Mapping[str, set[str]],
) -> StreamPlan:
    """Mark ``requested`` streams for each symbol.

    ``available[symbol]`` is what the source holds (backtest: the store's datasets among
    ``1s 1m 1d quotes ticks``) or offers (live: what the provider streams).
    """
    requested = list(requested)
    requested_bars = [s for s in requested if s in BAR_INTERVALS]
    decisions: list[StreamDecision] = []
    bases: dict[str, str | None] = {}
    for symbol in symbols:
        have = set(available.get(symbol, set()))
        base = _choose_base(requested_bars, have) if requested_bars else None
        bases[symbol] = base
        if base is not None and base not in requested:
            decisions.append(
                StreamDecision(symbol, base, Mark.STREAMED, False, "base for generated bars")
            )
        for stream in requested:
            decisions.append(_decide(symbol, stream, mode, have, base))
    return StreamPlan(tuple(decisions), bases)


def _decide(
    symbol: str, stream: str, mode: str, have: set[str], base: str | None
) -> StreamDecision:
    if stream == "ticks":
        if mode == "backtest":
            return StreamDecision(
                symbol, stream, Mark.IGNORED, True, "ticks are not streamed in backtest"
            )
        if "ticks" in have:
            return StreamDecision(symbol, stream, Mark.STREAMED, True, "offered by the provider")
        return StreamDecision(symbol, stream, Mark.IGNORED, True, "not offered by the provider")
    if stream == "quotes":
        if "quotes" in have:
            source = "stored" if mode == "backtest" else "offered by the provider"
            return StreamDecision(symbol, stream, Mark.STREAMED, True, source)
        return StreamDecision(symbol, stream, Mark.IGNORED, True, "no quotes available")
    # a bar interval
    if stream == base:
        return StreamDecision(symbol, stream, Mark.STREAMED, True, "smallest base interval needed")
    if base is None:
        nothing = "no stored bars" if mode == "backtest" else "no bars the provider streams"
        return StreamDecision(symbol, stream, Mark.IGNORED, True, f"{nothing} it can be built from")
    if interval_sort_key(stream) < interval_sort_key(base) or not _divides(base, stream):
        return StreamDecision(
            symbol, stream, Mark.IGNORED, True, f"cannot be built from {base} bars"
        )
    return StreamDecision(symbol, stream, Mark.GENERATED, True, f"derived from {base}")
