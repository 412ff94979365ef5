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
* ``end`` — the session ended (``why``: ``close``; ``stopped`` early; ``written``, resumed
  with ``--stop`` to write its results, not to go on).

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
from itertools import islice
from pathlib import Path

FOLDER = "journal"
WRITTEN = "written"  # why a session ended that was resumed only to write its results (--stop)


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
    if book is not None and len(book.orders) > seen.get("orders", 0):  # new orders only:
        orders = islice(book.orders.values(), seen.get("orders", 0), None)  # no copy per update
        record["orders"] = [_plain(o) for o in orders]
        seen["orders"] = len(book.orders)
    return record if len(record) > 2 else None


def journaled_counts(records: list[dict]) -> dict[str, int]:
    """How many of each thing the ``did`` records hold (what a replay need not journal again)."""
    counts: dict[str, int] = {}
    for record in records:
        if record["k"] == "did":
            for name in ("signals", "events", "fills", "rejections", "orders"):
                counts[name] = counts.get(name, 0) + len(record.get(name, ()))
    return counts


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


class TapeEnded(Exception):
    """Internal: the journal's dealings are used up."""


class Tape:
    """A broker's dealings with the outside world — each request and its answer, each trade
    update taken, each reading of its clocks — journaled as ``io`` records as they happen, and
    played back, in the same order, when a resumed session replays its journal.

    The broker asks through ``deal(name, fn, *args)``. While records are left to play back,
    the answer is the journal's (the same call must come: anything else means the strategy
    did not repeat itself, and the replay stops with an error naming both); then the call goes
    out and is journaled. ``errors`` turns a broker's exceptions into JSON and back.
    """

    def __init__(self, journal: Journal | None, errors, played: list[dict] | None = None):
        self.journal = journal
        # errors.encode(exc) -> dict, or None for an exception not from the outside world;
        # errors.decode(dict) -> the exception again
        self.errors = errors
        self._played = list(played or ())
        self._next = 0
        self.replayed = 0

    @property
    def playing(self) -> bool:
        return self._next < len(self._played)

    def deal(self, name: str, fn, *args):
        if self.playing:
            record = self._played[self._next]
            if record["m"] != name:
                raise JournalMismatch(
                    f"the resumed session asked the broker for {name} where the journal has "
                    f"{record['m']} (record {self._next + 1} of its dealings): the strategy "
                    "did not repeat what it did, and the session cannot continue from its journal"
                )
            self._next += 1
            self.replayed += 1
            if "e" in record:
                raise self.errors.decode(record["e"])
            return record["r"]
        try:
            result = fn(*args)
        except Exception as exc:
            encoded = self.errors.encode(exc)
            if encoded is not None and self.journal is not None:
                self.journal.append({"k": "io", "m": name, "e": encoded})
            raise
        if self.journal is not None:
            self.journal.append({"k": "io", "m": name, "r": result})
        return result


class JournalMismatch(RuntimeError):
    """A resumed session did not repeat what its journal says it did."""


def session_to_resume(out_dir: Path) -> tuple[list[dict], str | None]:
    """The journal ``simcore live --resume`` continues in ``out_dir``: its records, and what was
    wrong with its end (a record cut short by the kill). A clear error when there is none to
    continue."""
    from simcore.errors import UserError

    folder = out_dir / FOLDER
    paths = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    if not paths:
        raise UserError(
            f"nothing to resume in {out_dir}: no journal there (a live session writes "
            f"{FOLDER}/<session date>.jsonl as it runs). Run without --resume to start"
        )
    if len(paths) > 1:
        raise UserError(
            f"{folder} holds the journals of {len(paths)} sessions: --resume continues a run "
            "of one session (--sessions 1)"
        )
    records, problem = read_journal(paths[0])
    if not records or records[0].get("k") != "session":
        raise UserError(f"{paths[0]} does not begin with its session: it cannot be resumed")
    ended = [r for r in records if r["k"] == "end"]
    if ended and ended[-1].get("why") == WRITTEN:
        raise UserError(
            f"the session of {records[0]['day']} was resumed with --stop, which wrote its "
            f"results in {out_dir} and ended it: it is not continued (a new session starts "
            "without --resume, into another --out)"
        )
    if ended and ended[-1].get("why") == "close" and _complete(out_dir):
        raise UserError(
            f"nothing to resume: the session of {records[0]['day']} ran to its close, and its "
            f"results are in {out_dir}"
        )
    return records, problem


def _complete(out_dir: Path) -> bool:
    """Whether the folder holds a finished session's results (killed while writing them, a
    session that ran to its close is replayed from its journal to write them again)."""
    try:
        manifest = json.loads((out_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("summary", {}).get("status") == "complete"
