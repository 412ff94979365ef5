"""``simcore report``: the HTML report of any results folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from simcore.app.cli.common import err, write_report
from simcore.errors import UserError


def report_command(
    out_dir: Annotated[
        Path,
        typer.Argument(metavar="OUT_DIR", help="A results folder of simcore backtest or live."),
    ],
) -> None:
    """Write report.html into a results folder: equity and drawdown, each symbol's price with
    its signals, orders and fills, quality per symbol and session, statistics and timings."""
    killed = unwritten_session(out_dir)
    if killed is not None:
        raise UserError(
            f"{out_dir} holds the journal of the live session of {killed}, killed before it "
            "wrote its results (no manifest.json). `simcore live CONFIG --out "
            f"{out_dir} --resume` replays the journal, goes on and writes them — during the "
            "session or after its close (the minutes it was down are filled from the "
            "provider's history); with --stop it writes them and ends the session there"
        )
    if _status(out_dir) == "running":
        err.print(
            f"[yellow]note:[/] {escape(str(out_dir))} holds what a live session wrote at a "
            "--refresh (status 'running'): the session is still running, or was killed — then "
            f"`simcore live CONFIG --out {escape(str(out_dir))} --resume` completes it (with "
            "--stop: writes it as it stood)"
        )
    write_report(out_dir)


def _status(out_dir: Path) -> str | None:
    try:
        return json.loads((out_dir / "manifest.json").read_text())["summary"]["status"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def unwritten_session(out_dir: Path) -> str | None:
    """The day of the live session whose journal is in ``out_dir`` without its results."""
    from simcore.live.journal import FOLDER

    if (out_dir / "manifest.json").is_file():
        return None
    journals = sorted((out_dir / FOLDER).glob("*.jsonl"))
    return journals[-1].stem if journals else None
