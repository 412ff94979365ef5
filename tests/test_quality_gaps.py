"""The gaps of a prefetched session (read off its whole grid at the close) are the gaps found
slot by slot as the session is released (the path a live or replayed grid takes), and so are
the received counts behind the quality."""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.engine.bars import StreamedBars
from simcore.engine.events import StreamNotification
from simcore.engine.quality import DataQualityManager
from simcore.engine.session_data import SessionData
from simcore.engine.streams import mark_streams
from simcore.store.source import SessionBars

SYMBOLS = ("AAA", "BBB", "CCC")
MINUTE = 60_000_000_000


def run_session(present: np.ndarray, releases: list[np.ndarray], live: bool):
    slots = present.shape[1]
    values = {f: np.where(present, 1.0, np.nan) for f in ("open", "high", "low", "close")}
    values["volume"] = present.astype(float)
    grid = SessionBars(
        date(2025, 7, 1), "1m", SYMBOLS, 0, slots * MINUTE - 30, MINUTE, present, values, 0, live
    )
    data = SessionData(now_ns=lambda: 10**18, symbols=SYMBOLS)
    data.attach_streamed("1m", StreamedBars(grid))
    plan = mark_streams(SYMBOLS, ["1m"], "backtest", {s: {"1m"} for s in SYMBOLS})
    quality = DataQualityManager(data, plan)
    quality.begin_session()
    for slots_released in releases:
        quality.handle(
            StreamNotification(int(slots_released[-1] + 1) * MINUTE, {"1m": slots_released})
        )
        yield data.get_quality("BBB", "1m")
    quality.handle(StreamNotification(slots * MINUTE, {}, end_of_session=True))
    yield sorted((g.symbol, g.start_ns, g.end_ns) for g in quality.gaps)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_gaps_and_quality_of_the_whole_grid_equal_those_found_slot_by_slot(data):
    slots = data.draw(st.integers(1, 12))
    present = np.array(
        data.draw(
            st.lists(
                st.lists(st.booleans(), min_size=slots, max_size=slots), min_size=3, max_size=3
            )
        )
    )
    with_data = np.flatnonzero(present.any(axis=0))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, with_data.size - 1)))))
    releases = [r for r in np.split(with_data, cuts) if r.size]
    whole = list(run_session(present, releases, live=False))
    slot_by_slot = list(run_session(present, releases, live=True))
    assert whole == slot_by_slot
