"""The run's report as a tearsheet: one self-contained HTML page, in the order a trader reads.

Headline figures and statistics; equity against the benchmark (when the run has one) with the
figures against it; drawdown with the worst drawdown periods; monthly and yearly returns;
rolling Sharpe and volatility; the distribution of daily returns; P&L by symbol; exposure and
positions; the trade list and the fills (sortable; a trade's symbol opens its chart); each
symbol's chart; the risk rejections by rule; then quality, timings, a live session's figures
and the engine's own performance report. Sections that do not apply are left out. Times are
the exchange's wall clock everywhere.

Plotly (its JavaScript bundle, shipped inside the ``plotly`` Python package) draws the charts,
in the browser, from the summaries embedded as JSON (``simcore.results.report.data`` and
``tearsheet``): the page needs no network, and a run of 500 symbols carries small series.
"""

from __future__ import annotations

import html
import json
import math
from datetime import date, timedelta

from simcore.config.vocabulary import interval_sort_key
from simcore.results.formats import STATISTICS, format_value
from simcore.results.report import tearsheet
from simcore.results.report.data import (
    RunFiles,
    equity_curve,
    listed,
    price_interval,
    quality_matrix,
    session_hours,
    symbol_series,
)
from simcore.results.report.html import page_head, table_html
from simcore.results.report.script import RUN_SCRIPT


def _statistics(summary: dict) -> str:
    stats = summary.get("statistics") or {}
    rows = [[label, format_value(stats.get(key), kind)] for key, label, kind in STATISTICS]
    return table_html(["statistic", "value"], rows)


def _headline(run: RunFiles) -> str:
    rows = [list(row) for row in tearsheet.headline(run)]
    return table_html(["", ""], rows).replace("<table>", '<table class="headline">', 1)


def _warnings(summary: dict) -> str:
    """What looked wrong in the run, first on the page (nothing when nothing did)."""
    warnings = summary.get("warnings") or []
    if not warnings:
        return ""
    items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
    return f'<div class="warnings"><b>Warnings ({len(warnings)})</b><ul>{items}</ul></div>'


def _live_section(run: RunFiles) -> str:
    live = run.metrics.get("live")
    if not live:
        return ""
    delay = live.get("release_delay_ms") or {}
    rows = [
        ["clock speed", f"{live.get('clock_speed')}x" + (" (rehearsal)" if live.get("rehearsal") else "")],
        ["releases", live.get("releases")],
        ["release lag p50 / p99 / max (ms)",
         " / ".join(format_value(delay.get(k), "ratio") for k in ("p50", "p99", "max"))],
        ["reconnects", len(live.get("reconnects", []))],
        ["gap fill requests (errors)",
         f"{live.get('gap_fill_requests', 0)} ({live.get('gap_fill_errors', 0)})"],
        ["overruns", live.get("overruns")],
        ["quotes / trades taken",
         f"{live.get('quotes_received', 0):,} / {live.get('trades_received', 0):,}"],
    ]  # fmt: skip
    fills = listed(run.table("gap_fills"), run.timezone)
    text = "<h2>Live session</h2>" + table_html(["", ""], rows)
    text += "<h3>Gap fills</h3>" + table_html(fills["columns"], fills["rows"], fills["total"])
    return text


def _closed_weekdays(days: list[str], open_hour: float) -> list[str]:
    """Weekdays between the first and last session with no session (holidays): the date axes
    skip their regular hours, as they skip weekends and nights (a break of the whole day would
    overlap the nights' and plotly draws overlapping breaks wrong)."""
    if not days:
        return []
    sessions = {date.fromisoformat(d) for d in days}
    first, last = min(sessions), max(sessions)
    every = (first + timedelta(days=k) for k in range((last - first).days + 1))
    hh, mm = int(open_hour), round(open_hour % 1 * 60)
    closed = (d for d in every if d.weekday() < 5 and d not in sessions)
    return [f"{d.isoformat()} {hh:02d}:{mm:02d}" for d in closed]


def _drawdown_axis(drawdown: list[float]) -> tuple[str, float]:
    """The drawdown axis's format and floor: enough decimals to read a -0.04% drawdown, and a
    floor a little below the deepest fall (a -60% one reads as well)."""
    deepest = min(drawdown, default=0.0)
    depth = abs(deepest) * 100
    decimals = (
        1
        if depth >= 10
        else 2
        if depth >= 0.1 or depth == 0
        else min(4, 1 - math.floor(math.log10(depth)))
    )
    return f".{decimals}%", (deepest * 1.1 if deepest < 0 else -0.0001)


def _section(title: str, content: str) -> str:
    return f"<h2>{html.escape(title)}</h2>{content}"


def _listed_table(listed_rows: dict | None, **options) -> str:
    if listed_rows is None:
        return ""
    table = table_html(listed_rows["columns"], listed_rows["rows"], listed_rows["total"], **options)
    return f'<div class="scroll">{table}</div>'


def render(run: RunFiles) -> str:
    """The page of ``run``, as one HTML string."""
    summary = run.summary
    title = summary.get("session_name", run.folder.name)
    equity = equity_curve(run)
    series = symbol_series(run)
    interval = price_interval(run)
    length = interval_sort_key(interval) if interval else None
    daily_bars = length is not None and length.total_seconds() >= 86_400
    hours = (0.0, 24.0) if daily_bars else session_hours(run)
    daily = tearsheet.daily(run)
    by_symbol = tearsheet.by_symbol(run)
    trades = tearsheet.trade_list(run)
    drawdowns = tearsheet.worst_drawdowns(run)
    benchmark = tearsheet.benchmark_rows(run)
    drawdown_format, drawdown_floor = _drawdown_axis(equity["drawdown"])
    charts, sections = ["equity", "drawdown"], []
    sections.append(
        _section("Equity" + (" against the benchmark" if benchmark else ""),
                 '<div id="equity" class="chart"></div>'
                 + (table_html(["", ""], benchmark) if benchmark else ""))
    )  # fmt: skip
    sections.append(
        _section("Drawdown", '<div id="drawdown" class="chart short"></div>'
                 + ("<h3>The worst drawdowns</h3>" + _listed_table(drawdowns) if drawdowns else ""))
    )  # fmt: skip
    if daily and len(daily["returns"]) >= 2:  # one session's return is the headline's
        charts += ["monthly", "yearly"] + [k for k in ("rolling", "histogram") if k in daily]
        sections.append(
            _section("Returns", '<div class="grid"><div id="monthly" class="chart short"></div>'
                     '<div id="yearly" class="chart short"></div></div>'
                     + ('<div id="rolling" class="chart short"></div>' if "rolling" in daily else "")
                     + ('<div id="histogram" class="chart short"></div>' if "histogram" in daily else ""))
        )  # fmt: skip
    if by_symbol:
        charts += ["pnl", "exposure"]
        sections.append(
            _section("P&L by symbol, exposure and positions",
                     '<div id="pnl" class="chart"></div><div id="exposure" class="chart short"></div>')
        )  # fmt: skip
    if trades:
        sections.append(
            _section(f"Trades ({trades['total']:,} round trips)",
                     "<p class='note'>A click on a header sorts; on a symbol, shows its chart.</p>"
                     + _listed_table(trades, sortable=True, table_id="trades"))
            + "<h3>Fills</h3>" + _listed_table(tearsheet.fills_list(run), sortable=True)
        )  # fmt: skip
    charts.append("price")
    sections.append(
        _section("Per symbol: price, orders, fills and signals",
                 '<label>symbol <select id="symbol"></select></label><div id="price" class="chart"></div>')
    )  # fmt: skip
    rejections = tearsheet.rejections_by_rule(run)
    if rejections:
        sections.append(_section("Orders refused, by rule", _listed_table(rejections)))
    gaps = listed(run.table("gaps"), run.timezone)
    charts += ["quality", "timings"]
    sections.append(
        _section("Quality per symbol and session", '<div id="quality" class="chart"></div>'
                 + ("<h3>Gaps</h3>" + _listed_table(gaps) if gaps["total"] else ""))
    )  # fmt: skip
    overruns = listed(run.table("overruns"), run.timezone)
    sections.append(
        _section("Timings", '<div id="timings" class="chart short"></div>'
                 + ("<h3>Overruns</h3>" + _listed_table(overruns) if overruns["total"] else ""))
    )  # fmt: skip
    sections.append(_live_section(run))
    report_text = html.escape(run.metrics.get("report", "(no performance report in metrics.json)"))
    sections.append(_section("The engine's performance report", f"<pre>{report_text}</pre>"))
    data = {
        "hours": hours,
        "closed": _closed_weekdays(summary.get("trading_days", []), hours[0]),
        "equity": equity,
        "drawdown_format": drawdown_format,
        "drawdown_floor": drawdown_floor,
        "daily": daily,
        "by_symbol": by_symbol,
        "trade_times": trades.get("times_ms") if trades else [],
        "quality": quality_matrix(run),
        "symbols": sorted(series),
        "series": series,
        "sessions": run.metrics.get("sessions", []),
        "timezone": run.timezone,
    }
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False, default=str)
    payload = payload.replace("</", "<\\/")
    return (
        page_head(html.escape(title), len(charts))
        + f"<h1>{html.escape(title)}</h1>{_warnings(summary)}"
        + f'<div class="grid"><div>{_headline(run)}</div><div>{_statistics(summary)}</div></div>'
        + "".join(sections)
        + f'<script type="application/json" id="run-data">{payload}</script>'
        + f"<script>{RUN_SCRIPT}</script></body></html>\n"
    )
