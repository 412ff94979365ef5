"""The light notifications passed between components (tuples of indices, never bar data).

The design's rule: queues carry only "what is new"; the data itself is read from session_data by
reference. Here "what is new" is a timestamp and, per interval, the indices of the symbols that
got a bar.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(slots=True)
class StreamNotification:
    """Coordinator -> processor and quality manager: base slots released, the clock now at ``ns``.

    Usually one slot per base interval (one timestamp). When no consumer listens between two
    timestamps, the coordinator releases them together (see ``SessionCoordinator.events``);
    the slots are then listed in time order.
    """

    ns: int
    released: dict[str, np.ndarray] = field(default_factory=dict)  # interval -> slots
    end_of_session: bool = False
    # live: base bars written after their slot was released, as (interval, symbol index, slot,
    # whether the slot had no bar before)
    corrections: list[tuple[str, int, int, bool]] = field(default_factory=list)


@dataclass(slots=True)
class DataUpdate:
    """Processor -> analysis engine: bars now complete, per interval, in processing order."""

    ns: int
    bars: list[tuple[str, np.ndarray]] = field(default_factory=list)  # (interval, symbol indices)
    end_of_session: bool = False
    # base slots released, in time order, when orders are working: (interval, slot)
    slots: list[tuple[str, int]] = field(default_factory=list)
