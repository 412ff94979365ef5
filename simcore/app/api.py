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

    def report(self) -> Path:
        """The run's report.html (written if it is not there yet)."""
        page = self.folder / REPORT_NAME
        return page if page.is_file() else write_report(self.folder)

    def _repr_html_(self) -> str:
        """Jupyter shows the report inline: the page in a frame of its own (its scripts and
        styles stay apart from the notebook's)."""
        page = self.report().read_text(encoding="utf-8")
        return (
            f'<iframe srcdoc="{html.escape(page, quote=True)}" '
            'style="width:100%;height:900px;border:1px solid #ddd"></iframe>'
        )

    def __repr__(self) -> str:
        stats = self.statistics
        return (
            f"Results({str(self.folder)!r}, status={self.summary.get('status')!r}, "
            f"end_equity={stats.get('end_equity')}, sharpe={stats.get('sharpe')})"
        )
