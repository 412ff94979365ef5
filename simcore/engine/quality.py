"""Data quality manager: quality per symbol per streamed bar interval, and the gap list.

Quality = bars received / bars expected so far, where "expected" counts the base slots of the
regular session that have elapsed by the calendar (an early close has fewer). It is measured on
STREAMED bar intervals only; every derived interval shares its base's quality array, so it
follows every change without copying. ``enable_session_quality: false`` publishes 100%.

The gap list (symbol, start, end, retry count) is internal: it is what a live gap filler would
work from. Gap filling runs only in live mode and is not part of the backtest. Never blocks:
the runtime does not wait on this component.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore.engine.events import StreamNotification
from simcore.engine.gap_fill import GapFiller
from simcore.engine.session_data import SessionData
from simcore.engine.streams import StreamPlan


@dataclass(frozen=True, slots=True)
class Gap:
    symbol: str
    interval: str
    start_ns: int  # first missing bar's start
    end_ns: int  # end of the last missing bar
    retries: int = 0


class DataQualityManager:
    def __init__(
        self,
        session_data: SessionData,
        plan: StreamPlan,
        enabled: bool = True,
        filler: GapFiller | None = None,
    ):
        self.session_data = session_data
        self.plan = plan
        self.enabled = enabled
        self.filler = filler if enabled else None  # live only: gaps to ask the provider for
        self.gaps: list[Gap] = []
        self._last_slot: dict[str, np.ndarray] = {}
        self._received: dict[str, np.ndarray] = {}
        self._elapsed: dict[str, int] = {}
        self._quality: dict[str, np.ndarray] = {}
        # base -> (bars received up to each slot, the quality then), per symbol, when the
        # session's grid was prefetched whole (a backtest): a release reads its last slot's
        # column instead of counting, and the gaps are the grid's runs of missing slots
        self._by_slot: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._carrier_rows: dict[str, np.ndarray] | None = None  # interval -> symbol indices
        self._carrier_plan: StreamPlan | None = None  # the plan they were looked up for

    def begin_session(self) -> None:
        self.gaps = []
        self._last_slot = {}
        self._received = {}
        self._elapsed = {}
        self._quality = {}
        self._by_slot = {}
        if self.filler is not None:
            self.filler.begin_session()
        count = len(self.session_data.symbols)
        for base in self.plan.bases:
            if self.session_data.streamed(base) is None:
                continue
            percent = np.full(count, 100.0 if not self.enabled else 0.0)
            self._quality[base] = percent
            self._last_slot[base] = np.full(count, -1, dtype=np.int64)
            # counted from the notifications, not read from the stream's cursor: on wall-clock
            # threads the coordinator may already have released later slots
            self._received[base] = np.zeros(count, dtype=np.int64)
            self.session_data.set_quality(base, percent)
            grid = self.session_data.streamed(base).grid
            if self.enabled and not grid.live and self.filler is None:  # known whole
                received = np.cumsum(grid.present, axis=1)
                elapsed = np.arange(1, grid.slots + 1)
                # what _publish computes after each slot, for every slot at once
                quality = np.minimum(100.0 * received / elapsed, 100.0)
                self._by_slot[base] = (received, quality)
        for interval, symbols in self.plan.bar_carriers().items():
            base = self.plan.base.get(symbols[0])
            if interval != base and base in self._quality:
                self.session_data.share_quality(interval, base)

    def handle(self, note: StreamNotification) -> None:
        if not self.enabled:
            return
        for base, slots in note.released.items():
            if not slots.size:
                continue
            last = int(slots[-1])
            self._elapsed[base] = last + 1
            by_slot = self._by_slot.get(base)
            if by_slot is not None:  # the gaps are read off the whole grid at the close
                self._quality[base][:] = by_slot[1][:, last]
                continue
            self._record_gaps(base, slots)
            if self.filler is not None:
                self._track_missing(base, slots, note.ns)
            self._publish(base)
        for base, symbol, _, new_bar in note.corrections:
            if new_bar and base in self._received:
                self._received[base][symbol] += 1
            if self.filler is not None:
                self.filler.arrived(symbol, base, _)
            self._publish(base)
        if note.end_of_session:
            self._close_session()

    def _publish(self, base: str) -> None:
        """received / expected so far; in live, minutes the provider confirmed had no trades
        are not expected."""
        elapsed = self._elapsed.get(base, 0)
        if self.filler is None:  # every symbol expects the same number of slots
            if elapsed > 0:
                np.minimum(100.0 * self._received[base] / elapsed, 100.0, out=self._quality[base])
            else:
                self._quality[base][:] = 100.0
            return
        expected = np.full(len(self.session_data.symbols), elapsed, float)
        expected -= np.array(self.filler.no_trade_counts(len(expected), base), dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            percent = np.where(expected > 0, 100.0 * self._received[base] / expected, 100.0)
        self._quality[base][:] = np.minimum(percent, 100.0)

    def _track_missing(self, base: str, slots: np.ndarray, now_ns: int) -> None:
        grid = self.session_data.streamed(base).grid
        absent_rows, absent_cols = np.nonzero(~grid.present[:, slots])
        for s, c in zip(absent_rows.tolist(), absent_cols.tolist(), strict=True):
            slot = int(slots[c])
            self.filler.missing(s, base, slot, grid.slot_start_ns(slot), now_ns)

    def gap_fill_rows(self) -> list[tuple[str, str, int, int, str]]:
        """(symbol, interval, bar start ns, attempts, outcome) of every live gap."""
        if self.filler is None:
            return []
        return [
            (self.session_data.symbols[g.symbol], g.interval, g.bar_ns, g.attempts, g.outcome)
            for g in sorted(self.filler.gaps.values(), key=lambda g: (g.symbol, g.bar_ns))
        ]

    def _record_gaps(self, base: str, slots: np.ndarray) -> None:
        """Gaps closed by this block's bars: per symbol, a present slot more than one after the
        symbol's previous present slot (vectorised over symbols and slots)."""
        grid = self.session_data.streamed(base).grid
        last = self._last_slot[base]
        block = grid.present[:, slots]
        first = int(slots[0])
        if block.all():
            self._received[base] += slots.size
            if int(slots[-1]) - first + 1 == slots.size and (last == first - 1).all():
                last[:] = slots[-1]  # every symbol has every slot, continuing its last: no gap
                return
        else:
            self._received[base] += block.sum(axis=1)
        rows, columns = np.nonzero(block)  # by symbol, then time
        if not rows.size:
            return
        current = slots[columns]
        first_of_row = np.concatenate(([True], rows[1:] != rows[:-1]))
        previous = np.empty_like(current)
        previous[1:] = current[:-1]
        previous[first_of_row] = last[rows[first_of_row]]
        for r, p, c in zip(
            *(a[current - previous > 1].tolist() for a in (rows, previous, current)), strict=True
        ):
            self.gaps.append(
                Gap(
                    self.session_data.symbols[r],
                    base,
                    grid.slot_start_ns(p + 1),
                    grid.slot_start_ns(c),
                )
            )
        last_of_row = np.concatenate((rows[1:] != rows[:-1], [True]))
        last[rows[last_of_row]] = current[last_of_row]

    def _close_session(self) -> None:
        if self.filler is not None:  # live: what arrived late or was filled is no gap after all
            self.gaps = [g for base in self._quality for g in self._final_gaps(base)]
        for base in self._quality:
            grid = self.session_data.streamed(base).grid
            if base in self._by_slot:  # slots after the last released one hold no bar
                self._received[base] = self._by_slot[base][0][:, -1].copy()
            self._elapsed[base] = grid.slots
            self._publish(base)
            if base in self._by_slot:
                self.gaps.extend(self._final_gaps(base))
                continue
            if self.filler is not None:
                continue
            last = self._last_slot[base]
            for s in np.flatnonzero(last < grid.slots - 1):
                self.gaps.append(
                    Gap(
                        self.session_data.symbols[s],
                        base,
                        grid.slot_start_ns(int(last[s]) + 1),
                        grid.close_ns,
                    )
                )

    def _final_gaps(self, base: str) -> list[Gap]:
        """The runs of missing slots of the session's final grid, per symbol (all symbols at
        once: a run starts where presence falls and ends where it comes back)."""
        grid = self.session_data.streamed(base).grid
        missing = np.zeros((grid.present.shape[0], grid.slots + 2), dtype=np.int8)
        missing[:, 1:-1] = ~grid.present
        edges = np.diff(missing, axis=1)
        rows, firsts = np.nonzero(edges == 1)  # row-major: each row's runs in time order
        _, ends = np.nonzero(edges == -1)  # the slot after each run
        symbols = self.session_data.symbols
        return [
            Gap(
                symbols[s],
                base,
                grid.slot_start_ns(first),
                grid.close_ns if end == grid.slots else grid.slot_start_ns(end),
            )
            for s, first, end in zip(rows.tolist(), firsts.tolist(), ends.tolist(), strict=True)
        ]

    def quality_arrays(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """(interval, symbol indices, percent) for every streamed and derived bar interval: the
        symbols that stream or derive it, all at once."""
        if self._carrier_rows is None or self._carrier_plan is not self.plan:
            index = self.session_data.index  # looked up once per plan, not per session
            self._carrier_plan = self.plan
            self._carrier_rows = {
                interval: np.array([index[s] for s in symbols], dtype=np.int64)
                for interval, symbols in self.plan.bar_carriers().items()
            }
        out = []
        for interval, rows in self._carrier_rows.items():
            percent = self.session_data.quality_of(interval)
            if percent is not None:
                out.append((interval, rows, percent[rows]))
        return out
