"""What every report page shares: its head (an error counter, the style, plotly.js inlined),
tables, number formats, and writing a page whole.

The page keeps a record a test (or a curious user) can read from the DOM: ``data-charts`` on
``<body>`` counts the charts drawn, ``data-expected`` how many should be, and ``data-errors``
on ``<html>`` counts script errors (the first is in ``data-first-error``).
"""

from __future__ import annotations

import html
import os
from functools import cache
from pathlib import Path

from simcore.results.formats import format_value


@cache
def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def table_html(
    columns: list[str],
    rows: list[list[object]],
    total: int | None = None,
    *,
    sortable: bool = False,
    table_id: str | None = None,
) -> str:
    """A table of the page; ``sortable``: a click on a column's header sorts by it."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(format_value(v, 'text'))}</td>" for v in row) + "</tr>"
        for row in rows
    )
    more = (
        f"<p class='note'>{len(rows):,} of {total:,} shown.</p>"
        if total is not None and total > len(rows)
        else ""
    )
    attributes = (' class="sortable"' if sortable else "") + (
        f' id="{table_id}"' if table_id else ""
    )
    return f"<table{attributes}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


# first script of a page: counts script errors on <html> (data-errors, data-first-error)
ERROR_CAPTURE = """
function count(message) {
  var root = document.documentElement;
  root.dataset.errors = String(Number(root.dataset.errors || 0) + 1);
  if (!root.dataset.firstError) root.dataset.firstError = String(message);
}
window.addEventListener('error', function (e) { count(e.message); });
window.addEventListener('unhandledrejection', function (e) { count(e.reason); });
"""


def page_head(title: str, expected_charts: int) -> str:
    """A page's head (error counter, style, plotly.js) and its body's opening tag, which
    carries the charts expected and drawn."""
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>\n'
        f"<script>{ERROR_CAPTURE}</script>\n<style>{STYLE}</style>\n"
        f"<script>{plotly_js()}</script>\n"
        f'</head><body data-expected="{expected_charts}" data-charts="0">\n'
    )


def write_page(target: Path, text: str) -> Path:
    """Write a page whole (aside, then renamed: a reader never sees half of it)."""
    aside = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    aside.write_text(text, encoding="utf-8")
    os.replace(aside, target)
    return target


STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 16px;
       color: #1d2330; }
h1 { font-size: 22px; margin: 0 0 8px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
table { border-collapse: collapse; font-size: 13px; }
td, th { padding: 3px 10px; border-bottom: 1px solid #e3e6eb; text-align: left; }
.chart { width: 100%; height: 360px; } .short { height: 220px; }
.note { color: #667; font-size: 12px; } pre { background: #f5f6f8; padding: 10px; overflow: auto; }
select { font-size: 14px; padding: 2px 6px; }
.sortable th { cursor: pointer; } .sortable th:hover { text-decoration: underline; }
.scroll { max-height: 420px; overflow: auto; } .link { color: #1f5fa8; cursor: pointer; }
.headline td:first-child { color: #667; } .headline td { font-size: 15px; }
.warnings { border-left: 4px solid #d68910; padding: 0 1em; background: #fef9e7; }
"""
