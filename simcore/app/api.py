"""simcore from Python (a notebook, a script): load or build a config, run it, read the results.

    import simcore
    config = simcore.load_config("configs/example_backtest.json")   # or simcore.config_from_dict({...})
    results = simcore.run(config)                                    # the bundled sample by default
    results.statistics["sharpe"], results.fills                      # Polars frames
    results                                                          # in Jupyter: the report inline

``run`` is ``simcore backtest``: the same engine, the same results folder (``out``, by default
``out/<session name>``), the same report. ``Results.open(folder)`` reads an earlier run's folder,
whichever command wrote it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from pydantic import ValidationError

from simcore.app.backtest import resolve_strategy
from simcore.config import SessionConfig, load_config
from simcore.config.loader import format_path
from simcore.engine.analysis import Strategy
from simcore.errors import UserError
from simcore.results.report import REPORT_NAME, RunFiles, write_report
from simcore.strategies.loading import create_strategy

__all__ = ["Results", "config_from_dict", "load_config", "run"]


def config_from_dict(values: Mapping[str, object]) -> SessionConfig:
    """A session config built in code (the JSON file's structure as a dict). Every problem is
    one line naming its field, as ``simcore validate`` prints them."""
    try:
        return SessionConfig.model_validate(dict(values))
    except ValidationError as exc:
        lines = [f"  {format_path(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise UserError("the config is not valid:\n" + "\n".join(lines)) from None


def _strategy(config: SessionConfig, strategy: Strategy | type | str | None) -> Strategy:
    if isinstance(strategy, Strategy):
        return strategy
    if isinstance(strategy, type):  # with the config's parameters, as a named one gets them
        return create_strategy(strategy, config.metadata.parameters)
    return resolve_strategy(config, strategy)


def _folder_name(session_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", session_name).strip("_") or "run"


def run(
    config: SessionConfig | str | Path,
    *,
    strategy: Strategy | type | str | None = None,
    store: str | Path | None = None,
    out: str | Path | None = None,
    report: bool = True,
    strict: bool | None = None,
) -> Results:
    """Run a backtest and return its results (also written to ``out``).

    ``config``: a SessionConfig or a config file. ``strategy``: an instance, a class or
    ``"module:Class"`` (default: the config's ``metadata.strategy``). ``store``: the Parquet
    store (default: ``$SIMCORE_STORE`` or ``./data/store``; the bundled sample is generated into
    it on first use when the config reads ``local`` data). ``out``: the results folder
    (default: ``out/<config file name>`` for a file, as ``simcore backtest`` writes it, else
    ``out/<session name>``). ``strict``: the run's warnings fail it (default:
    ``backtest_config.strict``).
    """
    from simcore.app.backtest import run_backtest
    from simcore.engine.requirements import check_config_fits
    from simcore.store.parquet import ParquetStore
    from simcore.store.sample import default_store_path, ensure_sample

    default_folder = None
    if not isinstance(config, SessionConfig):
        default_folder = Path("out") / Path(config).stem  # where `simcore backtest` writes
        config = load_config(config)
    target = ParquetStore(Path(store) if store is not None else default_store_path())
    if store is None and config.api_config.data_api == "local":
        ensure_sample(target)
    chosen = _strategy(config, strategy)
    check_config_fits(config, chosen, config.session_name)
    folder = Path(out) if out is not None else default_folder
    if folder is None:
        folder = Path("out") / _folder_name(config.session_name)
    run_backtest(config, target, chosen, folder, strict=strict)
    if report:
        write_report(folder)
    return Results.open(folder)


@dataclass
class Results:
    """A run's results folder: its summary, statistics and tables as Polars frames."""

    files: RunFiles
    _tables: dict[str, pl.DataFrame] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, folder: str | Path) -> Results:
        return cls(RunFiles.read(Path(folder)))

    @property
    def folder(self) -> Path:
        return self.files.folder

    @property
    def summary(self) -> dict:
        return self.files.summary

    @property
    def metrics(self) -> dict:
        return self.files.metrics

    @property
    def names(self) -> list[str]:
        """The tables of the run (bars, signals, orders, fills, equity, quality, ...)."""
        return sorted(self.files.tables)

    def table(self, name: str) -> pl.DataFrame:
        """One table, read once."""
        if name not in self._tables:
            if name not in self.files.tables:
                raise KeyError(f"{self.folder} has no table {name!r}; it has {self.names}")
            self._tables[name] = self.files.tables[name].collect()
        return self._tables[name]

    __getitem__ = table

    @property
    def statistics(self) -> dict:
        return dict(self.summary.get("statistics") or {})

    @property
    def bars(self) -> pl.DataFrame:
        return self.table("bars")

    @property
    def equity(self) -> pl.DataFrame:
        return self.table("equity")

    @property
    def orders(self) -> pl.DataFrame:
        return self.table("orders")

    @property
    def fills(self) -> pl.DataFrame:
        return self.table("fills")

    @property
    def signals(self) -> pl.DataFrame:
        return self.table("signals")

    def returns(self, benchmark: bool = False):
        """The daily returns the statistics are computed from, as a pandas Series indexed by
        session date: what QuantStats, pyfolio and empyrical take as they are
        (``quantstats.reports.html(results.returns(), results.returns(benchmark=True))``).
        ``benchmark``: the benchmark's daily returns instead (NaN without one)."""
        import pandas as pd

        table = self.table("returns")
        column = "benchmark_return" if benchmark else "return"
        index = pd.DatetimeIndex(table["session_date"].to_list(), name="date")
        values = table[column].cast(pl.Float64).fill_null(float("nan")).to_numpy()
        name = (self.summary.get("benchmark") or {}).get("symbol") if benchmark else "returns"
        return pd.Series(values, index=index, name=name or "benchmark")

    def report(self) -> Path:
        """The run's report.html (written if it is not there yet)."""
        page = self.folder / REPORT_NAME
        return page if page.is_file() else write_report(self.folder)

    def _repr_html_(self) -> str:
        """Jupyter shows a compact summary: the headline figures, the warnings and a small
        equity chart (a few kilobytes, no script); ``full_report()`` shows the whole page."""
        from simcore.results.report import tearsheet

        rows = "".join(
            f"<tr><td style='color:#667'>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
            for k, v in tearsheet.headline(self.files)
        )
        warnings = "".join(f"<li>{html.escape(w)}</li>" for w in self.summary.get("warnings", ()))
        return (
            f"<div><b>{html.escape(str(self.summary.get('session_name', self.folder.name)))}</b>"
            f"<table>{rows}</table>{self._equity_svg()}"
            + (f"<ul style='color:#9a6700'>{warnings}</ul>" if warnings else "")
            + f"<p style='color:#667'>{html.escape(str(self.folder))}: "
            "<code>results.full_report()</code> shows the whole report</p></div>"
        )

    def _equity_svg(self, width: int = 480, height: int = 120) -> str:
        """The equity, bar by bar, as a small inline SVG line (at most 400 points)."""
        if "equity" not in self.files.tables:
            return ""
        equity = self.table("equity")["equity"].to_list()
        if len(equity) < 2:
            return ""
        step = max(1, len(equity) // 400)
        points = equity[::step] + ([equity[-1]] if (len(equity) - 1) % step else [])
        low, high = min(points), max(points)
        span = (high - low) or 1.0
        xy = " ".join(
            f"{i * width / (len(points) - 1):.1f},{height - (v - low) / span * height:.1f}"
            for i, v in enumerate(points)
        )
        color = "#1e8449" if points[-1] >= points[0] else "#c0392b"
        return (
            f'<svg width="{width}" height="{height + 4}" viewBox="0 -2 {width} {height + 4}">'
            f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{xy}"/></svg>'
        )

    def full_report(self):
        """The whole report, for a notebook: the page in a frame of its own (its scripts and
        styles stay apart from the notebook's). Outside Jupyter, the page's path."""
        page = self.report()
        try:
            from IPython.display import HTML
        except ImportError:
            return page
        text = page.read_text(encoding="utf-8")
        return HTML(
            f'<iframe srcdoc="{html.escape(text, quote=True)}" '
            'style="width:100%;height:900px;border:1px solid #ddd"></iframe>'
        )

    def __repr__(self) -> str:
        stats = self.statistics
        return (
            f"Results({str(self.folder)!r}, status={self.summary.get('status')!r}, "
            f"end_equity={stats.get('end_equity')}, sharpe={stats.get('sharpe')})"
        )
