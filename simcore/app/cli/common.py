"""What every command group shares: the consoles, the store option, the rehearsal clock's
options, and Ctrl-C handling for commands that run until interrupted."""

from __future__ import annotations

import contextlib
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from simcore.errors import UserError

if TYPE_CHECKING:
    from simcore.store.parquet import ParquetStore
    from simcore.time import LiveClock

# Tables stay readable when the output is piped or captured (rich would fold them at 80 columns).
_WIDTH = None if sys.stdout.isatty() else 120
out = Console(highlight=False, width=_WIDTH)
err = Console(stderr=True, highlight=False, width=_WIDTH)

StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="Store folder (default: $SIMCORE_STORE or ./data/store)."),
]
ClockStart = Annotated[
    str | None,
    typer.Option(help="Rehearsal: start the session clock here (ISO time with offset)."),
]
ClockSpeed = Annotated[float, typer.Option(help="Rehearsal: the session clock's rate.")]
ClockStartedAt = Annotated[
    float | None,
    typer.Option(
        help="Rehearsal: the wall time (Unix seconds) at which the clock read --clock-start "
        "(default: now), so that an emulator and a session started apart share one clock."
    ),
]


def open_store(path: Path | None) -> ParquetStore:
    """The store a command works on: ``--store``, else $SIMCORE_STORE, else ./data/store."""
    from simcore.store.parquet import ParquetStore
    from simcore.store.sample import default_store_path

    return ParquetStore(path or default_store_path())


def store_with_sample(path: Path | None) -> ParquetStore:
    """The store; with no ``--store``, the bundled sample is generated into the default one
    first when it is empty (and the command says so)."""
    from simcore.store.sample import ensure_sample

    target = open_store(path)
    if path is None and ensure_sample(target) is not None:
        out.print(f"[dim]generated the bundled sample into {escape(str(target.root))}[/]")
    return target


def rehearsal_clock(start: str | None, speed: float, started_at: float | None = None) -> LiveClock:
    """The session clock of a live command: the wall's, or a rehearsal's start and rate."""
    from simcore.time import LiveClock

    if speed <= 0:
        raise UserError("--clock-speed must be more than 0")
    moment = None
    if start is not None:
        try:
            moment = datetime.fromisoformat(start)
        except ValueError:
            raise UserError(f"--clock-start {start!r} is not an ISO time") from None
        if moment.tzinfo is None:
            raise UserError(
                f"--clock-start {start!r} needs an offset, e.g. 2025-07-01T09:29:50-04:00"
            )
    if started_at is not None and moment is None:
        raise UserError("--clock-started-at says when the clock read --clock-start: give both")
    return LiveClock(moment, speed, started_at)


def clock_flags(start: str | None, speed: float) -> str:
    """The rehearsal clock's options as a command line shows them."""
    flags = f" --clock-start {start}" if start else ""
    return flags + (f" --clock-speed {speed:g}" if speed != 1.0 else "")


@contextlib.contextmanager
def interruptible():
    """Ctrl-C and SIGTERM end the command as a KeyboardInterrupt, even when the shell started
    it with SIGINT ignored (a background job)."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = {}
    for number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread (tests): left as it is
            previous[number] = signal.signal(number, interrupt)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def write_report(folder: Path) -> None:
    from simcore.results.report import write_report as write

    out.print(f"report: {escape(str(write(folder)))} (open it in a browser; no network needed)")
