"""One self-contained HTML page of a run: plotly.js inlined, the run's summaries as JSON.

Plotly (its JavaScript bundle, shipped inside the ``plotly`` Python package) draws the charts:
zoom, pan and hover come with it, and the page needs no network to open. The charts are built
in the browser from the embedded summaries (``simcore.results.report.data``), so a run of 500 symbols
carries 500 small series and draws one at a time: the symbol picker renders the chosen one.

The page keeps a record a test (or a curious user) can read from the DOM: ``data-charts`` on
``<body>`` counts the charts drawn, ``data-expected`` how many should be, and ``data-errors``
on ``<html>`` counts script errors (the first is in ``data-first-error``).
"""

from __future__ import annotations

import html
import json
import os
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from simcore.config.vocabulary import interval_sort_key
from simcore.results.report.data import (
    RunFiles,
    equity_curve,
    listed,
    price_interval,
    quality_matrix,
    session_hours,
    symbol_series,
)

# statistics of the summary, as the page labels and formats them (kind: pct, money, ratio, n)
STATISTICS = (
    ("start_equity", "Start equity", "money"),
    ("end_equity", "End equity", "money"),
    ("net_profit", "Net profit", "money"),
    ("total_return", "Total return", "pct"),
    ("cagr", "CAGR", "pct"),
    ("volatility", "Volatility (annualised)", "pct"),
    ("sharpe", "Sharpe", "ratio"),
    ("sortino", "Sortino", "ratio"),
    ("max_drawdown", "Max drawdown", "pct"),
    ("max_drawdown_peak", "Drawdown peak", "text"),
    ("max_drawdown_trough", "Drawdown trough", "text"),
    ("trades", "Round trips", "n"),
    ("win_rate", "Win rate", "pct"),
    ("profit_factor", "Profit factor", "ratio"),
    ("average_win", "Average win", "money"),
    ("average_loss", "Average loss", "money"),
    ("fees", "Fees", "money"),
    ("turnover", "Turnover", "ratio"),
    ("exposure", "Exposure", "pct"),
)


@cache
def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _format(value: object, kind: str) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if kind == "pct":
        return f"{float(value) * 100:.2f}%"
    if kind == "money":
        return f"{float(value):,.2f}"
    if kind == "ratio":
        return f"{float(value):.2f}"
    if kind == "n":
        return f"{int(value):,}"
    return str(value)


def table_html(columns: list[str], rows: list[list[object]], total: int | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_format(v, 'text'))}</td>" for v in row) + "</tr>"
        for row in rows
    )
    more = (
        f"<p class='note'>{len(rows):,} of {total:,} shown.</p>"
        if total is not None and total > len(rows)
        else ""
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _statistics(summary: dict) -> str:
    stats = summary.get("statistics") or {}
    rows = [[label, _format(stats.get(key), kind)] for key, label, kind in STATISTICS]
    return table_html(["statistic", "value"], rows)


def _warnings(summary: dict) -> str:
    """What looked wrong in the run, first on the page (nothing when nothing did)."""
    warnings = summary.get("warnings") or []
    if not warnings:
        return ""
    items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
    return (
        '<div class="warnings" style="border-left: 4px solid #d68910; padding: 0 1em; '
        f'background: #fef9e7"><b>Warnings ({len(warnings)})</b><ul>{items}</ul></div>'
    )


def _facts(summary: dict) -> str:
    days = summary.get("trading_days", [])
    span = f"{days[0]} to {days[-1]} ({len(days)} sessions)" if days else "no sessions"
    facts = [
        ("strategy", summary.get("strategy", "-")),
        ("symbols", f"{len(summary.get('symbols', []))}"),
        ("sessions", span),
        ("status", summary.get("status", "-")),
        ("broker", summary.get("broker", "-")),
        ("prices", summary.get("price_adjustment", "-")),
        (
            "bars",
            f"{summary.get('bars_streamed', 0):,} streamed, "
            f"{summary.get('bars_generated', 0):,} generated",
        ),
        (
            "orders",
            f"{summary.get('orders', 0):,} orders, {summary.get('fills', 0):,} fills, "
            f"{summary.get('rejections', 0):,} rejected",
        ),
    ]
    if "error" in summary:
        facts.append(("error", summary["error"]))
    return table_html(["", ""], [list(f) for f in facts])


def _live_section(run: RunFiles) -> str:
    live = run.metrics.get("live")
    if not live:
        return ""
    delay = live.get("release_delay_ms") or {}
    rows = [
        ["clock speed", f"{live.get('clock_speed')}x" + (" (rehearsal)" if live.get("rehearsal") else "")],
        ["releases", live.get("releases")],
        ["release lag p50 / p99 / max (ms)",
         " / ".join(_format(delay.get(k), "ratio") for k in ("p50", "p99", "max"))],
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


def render(run: RunFiles) -> str:
    """The page of ``run``, as one HTML string."""
    summary = run.summary
    title = summary.get("session_name", run.folder.name)
    equity = equity_curve(run)
    quality = quality_matrix(run)
    series = symbol_series(run)
    interval = price_interval(run)
    length = interval_sort_key(interval) if interval else None
    daily = length is not None and length.total_seconds() >= 86_400
    hours = (
        (0.0, 24.0)
        if daily
        else session_hours(series, int(length.total_seconds() * 1000) if length else 60_000)
    )
    sessions = run.metrics.get("sessions", [])
    gaps = listed(run.table("gaps"), run.timezone)
    overruns = listed(run.table("overruns"), run.timezone)
    live_html = _live_section(run)
    charts = ["equity", "drawdown", "price", "quality", "timings"]
    data = {
        "hours": hours,
        "closed": _closed_weekdays(summary.get("trading_days", []), hours[0]),
        "equity": equity,
        "quality": quality,
        "symbols": sorted(series),
        "series": series,
        "sessions": sessions,
        "timezone": run.timezone,
    }
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False, default=str)
    payload = payload.replace("</", "<\\/")
    report_text = html.escape(run.metrics.get("report", "(no performance report in metrics.json)"))
    return _PAGE.format(
        head=page_head(html.escape(title), len(charts)),
        title=html.escape(title),
        warnings=_warnings(summary),
        facts=_facts(summary),
        statistics=_statistics(summary),
        gaps=table_html(gaps["columns"], gaps["rows"], gaps["total"]),
        overruns=table_html(overruns["columns"], overruns["rows"], overruns["total"]),
        live=live_html,
        report=report_text,
        data=payload,
        script=_SCRIPT,
    )


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
"""

_SCRIPT = r"""
(function () {
  const data = JSON.parse(document.getElementById('run-data').textContent);
  const body = document.body;
  let drawn = 0;
  const done = () => { drawn += 1; body.dataset.charts = drawn; };
  const cfg = {responsive: true, displaylogo: false};
  const [open, close] = data.hours;  // the sessions' hours, exchange wall clock
  const breaks = [{bounds: ['sat', 'mon']}, {values: data.closed, dvalue: (close - open) * 3600 * 1000}];
  if (close - open < 24) breaks.push({bounds: [close, open], pattern: 'hour'});
  const axis = {type: 'date', rangebreaks: breaks};
  const layout = (extra) => Object.assign(
    {margin: {l: 60, r: 20, t: 30, b: 40}, hovermode: 'x unified', xaxis: axis}, extra);
  const draw = (id, traces, extra) => Plotly.react(id, traces, layout(extra), cfg);

  const e = data.equity;
  draw('equity', [{x: e.t, y: e.equity, type: 'scatter', mode: 'lines', name: 'equity'}],
       {title: {text: 'Equity'}}).then(done);
  draw('drawdown', [{x: e.t, y: e.drawdown, type: 'scatter', mode: 'lines', fill: 'tozeroy',
                     name: 'drawdown', line: {color: '#c0392b'}}],
       {title: {text: 'Drawdown'}, yaxis: {tickformat: '.1%'}}).then(done);

  const select = document.getElementById('symbol');
  for (const s of data.symbols) {
    const o = document.createElement('option'); o.value = s; o.textContent = s; select.appendChild(o);
  }
  const marks = (rows, name, symbol, color, key) => rows ? [{
    x: rows.time || rows.placed, y: rows[key], type: 'scatter', mode: 'markers', name: name,
    marker: {symbol: symbol, size: 10, color: color},
    text: rows.side.map((side, i) => side + (rows.reason ? ' ' + (rows.reason[i] || '') : '')
                                      + (rows.quantity ? ' ' + rows.quantity[i] : '')),
  }] : [];
  const near = (series, times) => {  // a signal's y: the close of the bar at or before it
    const t = series.bars ? series.bars.timestamp : [];
    const c = series.bars ? series.bars.close : [];
    return times.map((x) => { let k = 0; while (k + 1 < t.length && t[k + 1] <= x) k += 1;
                               return c.length ? c[k] : null; });
  };
  const note = (rows) => rows.total > rows.side.length  // thinned: say how many there were
    ? ' (' + rows.side.length + ' of ' + rows.total + ')' : '';
  let first = true;
  const showSymbol = () => {
    const s = data.series[select.value] || {};
    const traces = [];
    if (s.bars) traces.push({x: s.bars.timestamp, open: s.bars.open, high: s.bars.high,
      low: s.bars.low, close: s.bars.close, type: 'candlestick', name: s.bars.interval});
    if (s.fills) {
      const buys = {time: [], price: [], side: [], quantity: []};
      const sells = {time: [], price: [], side: [], quantity: []};
      s.fills.side.forEach((side, i) => { const to = side === 'buy' ? buys : sells;
        for (const k of Object.keys(to)) to[k].push(s.fills[k][i]); });
      const shown = note(s.fills);
      traces.push(...marks(buys.time.length ? buys : null, 'buy fills' + shown, 'triangle-up',
                           '#1e8449', 'price'));
      traces.push(...marks(sells.time.length ? sells : null, 'sell fills' + shown, 'triangle-down',
                           '#c0392b', 'price'));
    }
    if (s.signals) traces.push(...marks(Object.assign({y: near(s, s.signals.time)}, s.signals),
                                        'signals' + note(s.signals), 'star', '#8e44ad', 'y'));
    if (s.orders) traces.push(...marks(Object.assign({y: near(s, s.orders.placed)}, s.orders),
                                       'orders placed' + note(s.orders), 'x', '#566573', 'y'));
    const p = draw('price', traces, {title: {text: select.value || 'no symbol'},
                                     xaxis: Object.assign({rangeslider: {visible: false}}, axis)});
    if (first) { first = false; p.then(done); }
  };
  select.addEventListener('change', showSymbol);
  showSymbol();

  const q = data.quality;
  Plotly.react('quality', [{z: q.z, x: q.sessions, y: q.symbols, type: 'heatmap',
    colorscale: [[0, '#c0392b'], [0.9, '#f4d03f'], [1, '#1e8449']], zmin: 0, zmax: 100,
    colorbar: {title: {text: '%'}}, hovertemplate: '%{y} %{x}: %{z}%<extra></extra>'}],
    {margin: {l: 70, r: 20, t: 30, b: 60}, title: {text: 'Quality of ' + (q.interval || '-') + ' bars'},
     xaxis: {type: 'category'}, yaxis: {type: 'category'}}, cfg).then(done);

  const ss = data.sessions;
  Plotly.react('timings', [{x: ss.map((r) => r.date), y: ss.map((r) => r.wall_seconds),
    type: 'bar', name: 'wall seconds'}],
    {margin: {l: 60, r: 20, t: 30, b: 40}, title: {text: 'Wall time per session (s)'},
     xaxis: {type: 'category'}}, cfg).then(done);
})();
"""

_PAGE = """{head}<h1>{title}</h1>
{warnings}<div class="grid"><div>{facts}</div><div>{statistics}</div></div>
<h2>Equity and drawdown</h2>
<div id="equity" class="chart"></div><div id="drawdown" class="chart short"></div>
<h2>Per symbol: price, signals, orders and fills</h2>
<label>symbol <select id="symbol"></select></label>
<div id="price" class="chart"></div>
<h2>Quality per symbol and session</h2>
<div id="quality" class="chart"></div>
<h3>Gaps</h3>{gaps}
<h2>Timings</h2>
<div id="timings" class="chart short"></div>
<h3>Overruns</h3>{overruns}
{live}
<h2>Performance report</h2><pre>{report}</pre>
<script type="application/json" id="run-data">{data}</script>
<script>{script}</script>
</body></html>
"""
