"""Checkpoints of a data-driven backtest between sessions: what ``simcore backtest --resume``
continues from.

What carries from one session into the next is small and known: the strategy and its context
(signals, schedules), the trader (book, portfolio, broker), the real-time indicators, the
recorder (its parts on disk are named, not copied), the historical indicators computed so far
and the run's counters. Everything else — history windows, historical indicators, the session's
bars — is rebuilt from the store at every session's start. So a checkpoint is that state,
pickled after a session has ended and been recorded: ``<out>/.checkpoint/state.pickle``, with
``about.json`` beside it saying which session it follows and what config it belongs to.

The run's environment (session_data, the TimeManager, the data source) is not copied: the
pickle refers to it by name (pickle's persistent ids) and a resumed run binds those names to
its own. A checkpoint is written aside, fsynced with the parts it names, and renamed into
place: a run killed at any point leaves the previous checkpoint or the new one, whole.

Writing one costs time that grows with what the strategy holds (orders, fills), so a run
writes one after a session when the sessions since the last have taken at least
``1 / CHECKPOINT_SHARE`` times what the last checkpoint cost (at most 5% of the run's time).
A run killed after its last session resumes from its last checkpoint like any other. The
outputs never depend on when checkpoints were taken.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import time
import warnings
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from simcore.errors import UserError

FOLDER = ".checkpoint"
STATE = "state.pickle"
ABOUT = "about.json"
CHECKPOINT_SHARE = 0.05  # at most this share of a run's time goes to writing checkpoints
FORMAT = 1  # the layout of a checkpoint; a different one is refused, not misread


class CheckpointError(UserError):
    """A checkpoint cannot be written or resumed (what and why in the message)."""


def fingerprint(config, strategy) -> dict[str, object]:
    """What must be the same for a run to continue another: the config, the strategy's class
    and parameters, and simcore's version."""
    from simcore import __version__

    return {
        "format": FORMAT,
        "simcore": __version__,
        "config": config.model_dump(mode="json"),
        "strategy": f"{type(strategy).__module__}:{type(strategy).__qualname__}",
        "parameters": {k: repr(v) for k, v in sorted(strategy.parameter_values.items())},
    }


@dataclass
class CarriedState:
    """What a checkpoint holds: the state that carries from a session into the next."""

    day: date  # the last session it includes
    engine: object  # the AnalysisEngine: strategy, context (signals, schedules), trader
    recorder: object  # the BacktestRecorder
    metrics: object  # PerformanceMetrics
    indicators: dict[tuple[str, str], object]  # (interval, name) -> real-time indicator
    historical_indicators: list  # the history warm-up's indicator values so far
    bars_generated: int
    bars_outside_session: int


class CheckpointWarning(UserWarning):
    """A run that cannot checkpoint (its state does not pickle) goes on without: said once."""


class NothingToResume(CheckpointError):
    """``--resume`` found no checkpoint; ``complete``: because the run there had completed."""

    def __init__(self, message: str, complete: bool):
        super().__init__(message)
        self.complete = complete


class _Pickler(pickle.Pickler):
    def __init__(self, file, environment: dict[str, object]):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._names = {id(obj): name for name, obj in environment.items()}

    def persistent_id(self, obj):
        return self._names.get(id(obj))


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, environment: dict[str, object]):
        super().__init__(file)
        self._environment = environment

    def persistent_load(self, name):
        return self._environment[name]


def environment(session_data, time_manager, source) -> dict[str, object]:
    """The objects of a run a checkpoint names instead of copying, by name: the same names
    when it is written and when a resumed run reads it with its own objects."""
    return {
        "session_data": session_data,
        "time_manager": time_manager,
        "source": source,
        "store": getattr(source, "store", None),
    }


class Checkpoints:
    """Writes a run's checkpoints into ``<out_dir>/.checkpoint``, and reads the last one."""

    def __init__(self, out_dir: Path, about: dict[str, object]):
        self.folder = out_dir / FOLDER
        self.about = about
        self._cost = 0.0  # what the last checkpoint took (seconds)
        self._last = time.perf_counter()  # when it was written
        self._synced: set[Path] = set()  # parts already made durable
        self.size = 0
        self.off: str | None = None  # why this run stopped writing checkpoints
        self.written = 0  # checkpoints written by this run, and the seconds they took
        self.seconds = 0.0

    # ------------------------------------------------------------------ writing
    def due(self) -> bool:
        """Whether to write one now: when the sessions since the last checkpoint took long
        enough that this one costs at most CHECKPOINT_SHARE of the time (after the first
        session, always) — unless the run's state turned out not to pickle."""
        if self.off is not None:
            return False
        return time.perf_counter() - self._last >= self._cost / CHECKPOINT_SHARE

    def write(self, state: CarriedState, environment: dict[str, object], parts: list[Path]):
        started = time.perf_counter()
        self.folder.mkdir(parents=True, exist_ok=True)
        for path in parts:  # the parts it names are durable before it is
            if path not in self._synced:
                _fsync(path)
                self._synced.add(path)
        aside = self.folder / f".{STATE}.partial"
        try:
            with open(aside, "wb") as handle:
                _Pickler(handle, environment).dump(state)
                handle.flush()
                os.fsync(handle.fileno())
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            aside.unlink(missing_ok=True)
            self.off = (
                f"no checkpoint after {state.day}: the run's state cannot be pickled ({exc}). "
                "A strategy defined outside an importable module (a notebook, a script run as "
                "__main__) or keeping lambdas, open files or threads in its attributes or "
                "schedules cannot be resumed; the run goes on without checkpoints "
                "(backtest_config.checkpoints: false says so up front)"
            )
            warnings.warn(self.off, CheckpointWarning, stacklevel=2)
            return
        about = {**self.about, "day": state.day.isoformat()}
        about_aside = self.folder / f".{ABOUT}.partial"
        about_aside.write_text(json.dumps(about, indent=2, sort_keys=True) + "\n")
        _fsync(about_aside)
        os.replace(aside, self.folder / STATE)  # the state first: an about.json never names a
        os.replace(about_aside, self.folder / ABOUT)  # session its state does not hold
        _fsync(self.folder)
        now = time.perf_counter()
        self._cost, self._last = now - started, now
        self.written += 1
        self.seconds += self._cost
        self.size = (self.folder / STATE).stat().st_size

    def figures(self) -> dict[str, float]:
        """For metrics.json: how many checkpoints this run wrote, their time, the last's size."""
        figures = {"written": self.written, "seconds": self.seconds, "last_bytes": self.size}
        return figures | ({"off": self.off} if self.off else {})

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def start_over(self) -> None:
        """A run that does not resume: an earlier run's checkpoint and manifest go (the
        folder is not a complete result until this run's manifest is written)."""
        self.remove()
        (self.folder.parent / "manifest.json").unlink(missing_ok=True)

    def completed(self) -> bool:
        """Whether the folder holds a complete run's results (its manifest says so)."""
        try:
            manifest = json.loads((self.folder.parent / "manifest.json").read_text())
        except (OSError, ValueError):
            return False
        return manifest.get("summary", {}).get("status") == "complete"

    # ------------------------------------------------------------------ resuming
    def last_day(self) -> date:
        """The session the checkpoint follows, after checking it belongs to this run."""
        if self.completed():  # killed after its results were written, before the cleanup
            self.remove()
            raise NothingToResume(self._nothing_to_resume(True), True)
        try:
            about = json.loads((self.folder / ABOUT).read_text())
        except FileNotFoundError:
            raise NothingToResume(self._nothing_to_resume(False), False) from None
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"{self.folder / ABOUT} cannot be read: {exc}") from None
        differs = [key for key in self.about if about.get(key) != self.about[key]]
        if differs:
            detail = ""
            if "config" in differs:
                old, new = about.get("config") or {}, self.about["config"]
                fields = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
                detail = f" (the config differs in {', '.join(fields)})"
            raise CheckpointError(
                f"the run in {self.folder.parent} was made with a different "
                f"{' and '.join(differs)}{detail}: --resume continues the same run only. "
                "Run without --resume to start over"
            )
        return date.fromisoformat(about["day"])

    def read(self, environment: dict[str, object]) -> CarriedState:
        try:
            with open(self.folder / STATE, "rb") as handle:
                return _Unpickler(handle, environment).load()
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            raise CheckpointError(
                f"the checkpoint in {self.folder} cannot be read ({exc}); run without --resume "
                "to start over"
            ) from None

    def _nothing_to_resume(self, complete: bool) -> str:
        out_dir = self.folder.parent
        if complete:
            return (
                f"nothing to resume in {out_dir}: its run is complete (manifest.json). "
                "Run without --resume to run it again"
            )
        return (
            f"nothing to resume in {out_dir}: no checkpoint there (a run writes one after its "
            "first session). Run without --resume to start the run"
        )


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
