"""The journal of a live session: everything it receives and does, appended as it happens.

A session's journal is ``<out>/journal/<session date>.jsonl``, one JSON record per line, in the
order things happened:

* ``session`` — the session began (its date; the broker's run tag, which its client order ids
  carry, when it trades at a broker);
* ``item`` — a message the feed delivered, as the session took it in: a bar, an updated bar, a
  gap fill, a quote or a trade (``kind``, ``symbol``, ``t`` its time, ``v`` its values);
* ``tick`` — the coordinator released what was due at session time ``now`` (the corrections the
  items since the last tick made, then the slots due): what the strategy could see, and when;
* ``did`` — what the analysis engine's handling of one update did (``cycle``: its number in the
  session): the strategy's ``signals``, the ``orders`` it placed (their terms), the order
  ``events``, ``fills`` and ``rejections``;
* ``end`` — the session ended (at its close, or stopped early).

**Durability.** Every record is written with one ``write`` to a file opened for appending, as
it happens: a process killed (SIGKILL, the OOM killer) loses nothing written. The file is
fsynced at every ``tick`` that released a slot — at least once per released minute — and at
the end: a power cut loses at most the records since the last released minute. A record cut
short by a kill is the file's last line; ``read_journal`` ignores it and says so.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict
from datetime import date
from pathlib import Path

FOLDER = "journal"


def journal_path(out_dir: Path, day: date) -> Path:
    return out_dir / FOLDER / f"{day.isoformat()}.jsonl"


class Journal:
    """Appends a session's records; safe from the session's threads (one lock per write)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._lock = threading.Lock()
        self.records = 0
        self.syncs = 0

    def append(self, record: dict) -> None:
        line = (json.dumps(record, separators=(",", ":"), allow_nan=True) + "\n").encode()
        with self._lock:
            if self._fd < 0:
                return  # closed: a thread that outlived the session
            os.write(self._fd, line)
            self.records += 1

    def sync(self) -> None:
        """Make every record so far durable."""
        with self._lock:
            if self._fd >= 0:
                os.fsync(self._fd)
                self.syncs += 1

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.fsync(self._fd)
                os.close(self._fd)
                self._fd = -1


def read_journal(path: Path) -> tuple[list[dict], str | None]:
    """A journal's records in order, and what was wrong with its end (a last line cut short
    by a kill: None when it ends cleanly). A damaged line before the last is an error."""
    records: list[dict] = []
    lines = path.read_bytes().split(b"\n")
    tail = lines.pop()  # after the last newline: empty, or a record cut short
    problem = None
    for number, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except ValueError:
            raise ValueError(f"{path}: line {number} is not a journal record") from None
    if tail:
        problem = f"{path}: its last record was cut short ({len(tail)} bytes), left out"
    return records, problem


def item_record(item) -> dict:
    return {"k": "item", "kind": item.kind, "symbol": item.symbol, "t": item.time_ns,
            "v": list(item.values)}  # fmt: skip


def did_record(cycle: int, trader, signals: list, seen: dict[str, int]) -> dict | None:
    """What happened since ``seen`` (counts of each list, updated): None when nothing did."""
    book = trader.book if trader is not None else None
    lists = {"signals": signals}
    if book is not None:
        lists |= {"events": book.events, "fills": book.fills, "rejections": book.rejections}
    record: dict = {"k": "did", "cycle": cycle}
    for name, values in lists.items():
        new = values[seen.get(name, 0) :]
        if new:
            record[name] = [_plain(v) for v in new]
            seen[name] = len(values)
    if book is not None:
        orders = list(book.orders.values())[seen.get("orders", 0) :]
        if orders:
            record["orders"] = [_plain(o) for o in orders]
            seen["orders"] = len(book.orders)
    return record if len(record) > 2 else None


def _plain(value) -> dict:
    """A record's fields as JSON takes them (enums as their values)."""
    if hasattr(value, "__dataclass_fields__"):
        fields = (
            {name: getattr(value, name) for name in value.__dataclass_fields__}
            if hasattr(value, "__slots__")
            else asdict(value)
        )
    else:
        fields = dict(vars(value))
    return {k: (v.value if hasattr(v, "value") and not isinstance(v, int | float) else v)
            for k, v in fields.items()}  # fmt: skip
