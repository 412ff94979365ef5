"""How a live runtime keeps its session's journal (``simcore.live.journal``): one journal per
session, the broker's dealings taped into it, what the engine is handed and what it did — and,
for a resumed session, the journal's records to replay and the checks that the replay repeats
the session. The runtime (``simcore.live.runtime``) says when; this says what is written.

May import: simcore.live.journal and simcore.errors.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from simcore.live.journal import (
    Journal,
    JournalMismatch,
    Tape,
    did_record,
    item_record,
    journal_path,
    journaled_counts,
)


class JournalKeeper:
    def __init__(self, folder: Path | None, resume: list[dict] | None, clock):
        self.folder = folder  # None: no journal
        self.resume = resume  # a resumed session: its journal's records
        self.clock = clock
        self.journal: Journal | None = None
        self.last_path: Path | None = None  # the journal of the session now or last kept
        self.tape: Tape | None = None
        self.replaying = False
        self._journaled: dict[str, int] = {}  # how much of each record list is journaled
        self._handled: list[dict] = []  # a replay: what the engine was handed, in order
        self._handled_next = 0

    @property
    def taking_in(self) -> bool:
        """Whether what the coordinator takes in is journaled (a replay's is there already)."""
        return self.journal is not None and not self.replaying

    def item(self, item) -> None:
        if self.taking_in:
            self.journal.append(item_record(item))

    def tick(self, now_ns: int, released: bool, drain: bool = False) -> None:
        """A release at ``now_ns``; made durable before the strategy acts on new data."""
        if self.taking_in:
            self.journal.append({"k": "tick", "now": now_ns, **({"drain": True} if drain else {})})
            if released:
                self.journal.sync()

    def sync(self) -> None:
        if self.journal is not None:
            self.journal.sync()

    def open(self, day: date, broker) -> None:
        """The session's journal, and the broker's dealings taped into it. A resumed session
        appends to the journal it replays, with the broker's run tag (its client order ids)
        and its dealings played back first."""
        if self.folder is None or self.journal is not None:
            return
        self.journal = Journal(journal_path(self.folder, day))
        self.last_path = self.journal.path
        errors = getattr(broker, "tape_errors", None)
        if self.resume is None:
            self._journaled = {}
            tag = getattr(broker, "run_tag", None)
            record = {"k": "session", "day": day.isoformat(), "tag": tag}
            self.journal.append(record | {"clock": self.clock.describe()})
            self.journal.sync()
            if errors is not None:
                broker.tape = self.tape = Tape(self.journal, errors)
            return
        first = self.resume[0]
        if first.get("day") != day.isoformat():
            raise JournalMismatch(
                f"the journal is of the session of {first.get('day')}; the clock is in the "
                f"session of {day}: that session has ended, and cannot be resumed"
            )
        self._journaled = journaled_counts(self.resume)
        if broker is not None:
            if errors is None:
                raise JournalMismatch(
                    f"{type(broker).__name__} does not journal its dealings: a resumed session "
                    "could send an order twice, so it is not resumed"
                )
            broker.run_tag, broker.resuming = first["tag"], True
            dealings = [r for r in self.resume if r["k"] == "io"]
            broker.tape = self.tape = Tape(self.journal, errors, dealings)

    def begin_replay(self) -> list[dict]:
        """The records to replay (what the engine was handed is checked as it goes)."""
        records, self.resume = self.resume or [], None
        self.replaying = True
        self._handled = [r for r in records if r["k"] == "handled"]
        self._handled_next = 0
        return records

    def end_replay(self, now_ns: int) -> None:
        self.replaying = False
        if self.journal is not None:
            self.journal.append({"k": "resumed", "now": now_ns})

    def did(self, engine) -> None:
        """What the engine's last handling did: signals, orders, events, fills (a replay's:
        only beyond what the journal holds)."""
        if self.journal is None:
            return
        record = did_record(engine.cycles, engine.trader, engine.ctx.signals, self._journaled)
        if record is not None:
            self.journal.append(record)

    def handed(self, update) -> None:
        """Journal what the engine is handed (a replay: check it is what the journal says)."""
        if self.journal is None:
            return
        bars = sorted(interval for interval, _ in update.bars)
        record = {"k": "handled", "ns": update.ns, "bars": bars, "slots": len(update.slots)}
        if not self.replaying:
            self.journal.append(record)
            return
        number = self._handled_next
        expected = self._handled[number] if number < len(self._handled) else None
        self._handled_next += 1
        if expected is not None and expected != record:
            raise JournalMismatch(
                f"the resumed session's engine was handed {record} where the journal has "
                f"{expected} (update {number + 1}): the replay does not repeat the session"
            )

    def position(self) -> dict[str, object] | None:
        """Where the results written now stand in the journal: its file (relative to the
        results folder) and its length — the results are the engine's state after those
        records (what a replay of them rebuilds)."""
        if self.folder is None or self.last_path is None or not self.last_path.is_file():
            return None
        return {
            "file": str(self.last_path.relative_to(self.folder)),
            "bytes": self.last_path.stat().st_size,
        }

    def close(self, why: str) -> None:
        """The session's last record (``why`` it ended) and the journal made durable."""
        if self.journal is not None:
            self.journal.append({"k": "end", "why": why})
            self.journal.close()
            self.journal = None
            if self.tape is not None:
                self.tape.journal = None  # the next session's journal takes the next dealings
