"""``simcore report``: the HTML report of any results folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simcore.app.cli.common import write_report


def report_command(
    out_dir: Annotated[
        Path,
        typer.Argument(metavar="OUT_DIR", help="A results folder of simcore backtest or live."),
    ],
) -> None:
    """Write report.html into a results folder: equity and drawdown, each symbol's price with
    its signals, orders and fills, quality per symbol and session, statistics and timings."""
    write_report(out_dir)
