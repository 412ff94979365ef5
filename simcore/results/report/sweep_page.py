"""A sweep's page: the ranked table of its runs and a plot of the ranked statistic (over the two
swept parameters as a heatmap when there are two), self-contained as the run report is."""

from __future__ import annotations

import html
import json
from pathlib import Path

import polars as pl

from simcore.results.formats import KIND_OF, format_value
from simcore.results.report.html import page_head, table_html, write_page

SWEEP_REPORT = "report.html"


def render_sweep(table: pl.DataFrame, rank: str, title: str, facts: list[list[str]]) -> str:
    params = [c for c in table.columns if c.startswith("param_")]
    ok = table.filter(pl.col("status") == "complete")
    data = {
        "rank": rank,
        "runs": ok["run"].to_list(),
        "values": ok[rank].to_list(),
        "params": [p.removeprefix("param_") for p in params],
    }
    if len(params) == 2:
        wide = ok.pivot(on=params[1], index=params[0], values=rank, aggregate_function="first")
        columns = _in_order(wide.columns[1:])
        wide = wide.select(params[0], *columns)
        rows = _in_order(wide[params[0]].to_list())
        wide = wide.sort(pl.col(params[0]).replace_strict(rows, list(range(len(rows)))))
        data["heat"] = {
            "x": columns,
            "y": wide[params[0]].to_list(),
            "z": [list(r) for r in wide.select(columns).rows()],
        }
    shown = table.head(500)
    rows = [[_cell(c, v) for c, v in zip(shown.columns, row, strict=True)] for row in shown.rows()]
    payload = json.dumps(data, separators=(",", ":"), default=str).replace("</", "<\\/")
    return _SWEEP_PAGE.format(
        head=page_head(html.escape(title), 2 if "heat" in data else 1),
        title=html.escape(title),
        facts=table_html(["", ""], facts),
        table=table_html(shown.columns, rows, table.height),
        data=payload,
    )


def _in_order(values: list[str]) -> list[str]:
    """Parameter values as the axis shows them: by number when they are numbers."""
    try:
        return sorted(values, key=float)
    except ValueError:
        return sorted(values)


def _cell(column: str, value: object) -> object:
    """A statistic as the run's report shows it (1.23%, 1,234.56); seconds to the hundredth."""
    if column in KIND_OF:
        return format_value(value, KIND_OF[column])
    if column == "seconds" and isinstance(value, float):
        return f"{value:.2f}"
    return round(value, 6) if isinstance(value, float) else value


def write_sweep_report(out: Path, table: pl.DataFrame, rank: str, title: str, facts) -> Path:
    return write_page(out / SWEEP_REPORT, render_sweep(table, rank, title, facts))


_SWEEP_PAGE = """{head}<h1>{title}</h1>
{facts}
<h2>The ranked statistic</h2>
<div id="ranked" class="chart"></div>
<div id="heat" class="chart"></div>
<h2>Runs, best first</h2>
<p class="note">Each run's folder holds its results; <code>simcore report FOLDER</code> draws one.</p>
{table}
<script type="application/json" id="sweep-data">{data}</script>
<script>
(function () {{
  const d = JSON.parse(document.getElementById('sweep-data').textContent);
  let drawn = 0;
  const done = () => {{ drawn += 1; document.body.dataset.charts = drawn; }};
  const cfg = {{responsive: true, displaylogo: false}};
  Plotly.react('ranked', [{{x: d.runs, y: d.values, type: 'bar', name: d.rank}}],
    {{margin: {{l: 60, r: 20, t: 30, b: 120}}, title: {{text: d.rank + ' per run'}},
      xaxis: {{type: 'category'}}}}, cfg).then(done);
  if (d.heat) {{
    Plotly.react('heat', [{{z: d.heat.z, x: d.heat.x, y: d.heat.y, type: 'heatmap',
      hovertemplate: d.params[0] + '=%{{y}} ' + d.params[1] + '=%{{x}}: %{{z}}<extra></extra>'}}],
      {{margin: {{l: 60, r: 20, t: 30, b: 40}}, title: {{text: d.rank + ' over ' + d.params.join(' x ')}},
        xaxis: {{type: 'category', title: {{text: d.params[1]}}}},
        yaxis: {{type: 'category', title: {{text: d.params[0]}}}}}}, cfg).then(done);
  }} else {{
    document.getElementById('heat').remove();
  }}
}})();
</script>
</body></html>
"""
