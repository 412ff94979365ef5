"""The run report: one self-contained HTML tearsheet written into a results folder.

``data`` and ``tearsheet`` read the folder's tables into the small summaries the page embeds;
``page`` lays them out in reading order, ``script`` draws them in the browser, ``html`` holds
the pieces the run's page and ``sweep_page`` share.

``write_report(folder)`` reads what ``simcore backtest`` or ``simcore live`` wrote there
(``manifest.json``, ``metrics.json`` and the Parquet tables) and writes ``report.html`` beside
them; ``simcore report FOLDER`` does the same for any earlier run.
"""

from __future__ import annotations

from pathlib import Path

from simcore.results.report.data import RunFiles
from simcore.results.report.html import write_page
from simcore.results.report.page import render

REPORT_NAME = "report.html"


def write_report(folder: Path) -> Path:
    """Write ``folder/report.html`` (replacing it whole: a reader never sees half a page)."""
    return write_page(Path(folder) / REPORT_NAME, render(RunFiles.read(Path(folder))))


__all__ = ["REPORT_NAME", "RunFiles", "write_report"]
