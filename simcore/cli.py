"""The ``simcore`` command line.

Exit codes: 0 ok, 1 a user error (bad config, bad option, missing file: the message says what),
2 an internal error (a bug: the traceback is shown).
"""

from __future__ import annotations

import sys
import time
import traceback
from datetime import date
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from simcore.errors import UserError

app = typer.Typer(
    name="simcore",
    help="A deterministic session engine for intraday trading.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(
    help="The local market-data store: import, inspect, generate.", no_args_is_help=True
)
app.add_typer(data_app, name="data")

# Tables stay readable when the output is piped or captured (rich would fold them at 80 columns).
_WIDTH = None if sys.stdout.isatty() else 120
console = out = Console(highlight=False, width=_WIDTH)
err = Console(stderr=True, highlight=False, width=_WIDTH)

StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="Store folder (default: $SIMCORE_STORE or ./data/store)."),
]


def _store(path: Path | None):
    from adapters.local.sample import default_store_path
    from adapters.local.store import ParquetStore

    return ParquetStore(path or default_store_path())


# ---------------------------------------------------------------------- validate


@app.command()
def validate(
    files: Annotated[
        list[Path], typer.Argument(help="Session config JSON file(s).", show_default=False)
    ],
) -> None:
    """Check session configs; list every problem with its JSON path (exit 1 on any).

    A config that names its strategy (metadata.strategy) is also checked against what the
    strategy declares it reads.
    """
    from simcore.config import validate_file

    failed = 0
    for file in files:
        report = validate_file(file)
        if report.ok:
            report.problems.extend(_strategy_problems(report.config))
        if report.ok:
            out.print(f"[green]ok[/]      {escape(str(file))}")
        else:
            failed += 1
            out.print(f"[red]invalid[/] {escape(str(file))}: {len(report.problems)} problem(s)")
            for path, message in report.problems:
                out.print(f"  [bold]{escape(path)}[/]: {escape(message)}")
        for path, message in report.warnings:
            out.print(f"  [yellow]warning[/] {escape(path)}: {escape(message)}")
    if failed:
        raise typer.Exit(1)


def _strategy_problems(config) -> list[tuple[str, str]]:
    from simcore.requirements import config_problems
    from simcore.strategy_loading import load_strategy

    if not config.metadata.strategy:
        return []
    try:
        strategy = load_strategy(config.metadata.strategy, config.metadata.parameters)
    except UserError as exc:
        lines = str(exc).splitlines()
        if all(line.startswith("metadata.parameters.") for line in lines):  # one per parameter
            return [tuple(line.split(": ", 1)) for line in lines]  # type: ignore[misc]
        return [("metadata.strategy", str(exc))]
    return config_problems(config, strategy)


# ---------------------------------------------------------------------- backtest


@app.command()
def backtest(
    config_file: Annotated[Path, typer.Argument(metavar="CONFIG", help="Session config JSON.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: out/<config name>).")
    ] = None,
    strategy: Annotated[
        str | None,
        typer.Option(help="Strategy as module:Class (default: the config's metadata.strategy)."),
    ] = None,
    runtime: Annotated[
        str | None,
        typer.Option(help="Data-driven runs: sim (SimPy, the default) or threads (same outputs)."),
    ] = None,
    data_url: Annotated[
        str | None,
        typer.Option(help="data_api alpaca: the REST base (default: $SIMCORE_ALPACA_DATA_URL)."),
    ] = None,
    store: StoreOption = None,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write report.html into the results.")
    ] = True,
) -> None:
    """Run a backtest (data-driven, or replayed against the clock when speed_multiplier > 0);
    print the report; write the results and their HTML report."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from adapters.local.sample import ensure_sample
    from adapters.sources import AlpacaEndpoints
    from simcore.backtest import resolve_strategy, run_backtest
    from simcore.config import load_config
    from simcore.requirements import check_config_fits

    config = load_config(config_file)
    if config.mode != "backtest":
        raise UserError(
            f"{config_file} has mode {config.mode!r}; `simcore backtest` runs mode 'backtest' configs"
        )
    target = _store(store)
    if (
        store is None
        and config.api_config.data_api == "local"
        and ensure_sample(target) is not None
    ):
        console.print(f"[dim]generated the bundled sample into {escape(str(target.root))}[/]")
    chosen = resolve_strategy(config, strategy)
    check_config_fits(config, chosen, str(config_file))
    out_dir = out or Path("out") / config_file.stem
    bt = config.backtest_config
    assert bt is not None
    from simcore.time import TimeManager

    tm = TimeManager(config.exchange_group, config.asset_class)
    start, end = tm.get_session_boundary_times(bt.start_date, bt.end_date)
    days = tm.count_trading_days(start.date(), end.date())
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as progress:
        task = progress.add_task(f"backtest {config.session_name}", total=days)

        def advance(day: date) -> None:
            progress.update(task, advance=1, description=f"session {day.isoformat()} done")

        result = run_backtest(
            config, target, chosen, out_dir, advance, runtime, AlpacaEndpoints.resolve(data_url)
        )
    console.print(result.metrics.report())
    console.print(result.statistics.report())
    summary = result.summary
    quality = result.tables["quality"]
    streamed_quality = quality.filter(~quality["interval"].str.starts_with("historical"))
    console.print(
        f"days {len(summary['trading_days'])} | symbols {len(summary['symbols'])} | "
        f"bars streamed {summary['bars_streamed']:,} | generated {summary['bars_generated']:,} | "
        f"signals {summary['signals']:,} | quality min {streamed_quality['quality'].min() or 0:.2f}% "
        f"mean {streamed_quality['quality'].mean() or 0:.2f}%"
    )
    console.print(
        f"results: {out_dir} (manifest.json lists every table and its digest; metrics.json the timings)"
    )
    if report:
        _write_report(out_dir)


def _write_report(out_dir: Path) -> None:
    from simcore.report import write_report

    console.print(f"report: {write_report(out_dir)} (open it in a browser; no network needed)")


@app.command("sweep")
def sweep_command(
    config_file: Annotated[Path, typer.Argument(metavar="CONFIG", help="Session config JSON.")],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="name=v1,v2,... (repeat: every combination runs)."),
    ] = None,
    grid: Annotated[
        Path | None,
        typer.Option(help='Grid file: {"name": [values]} or [{"name": value}, ...].'),
    ] = None,
    rank: Annotated[str, typer.Option(help="Statistic the table is ranked by.")] = "sharpe",
    ascending: Annotated[bool, typer.Option(help="Rank lowest first.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Sweep folder (default: out/<config>-sweep).")
    ] = None,
    address: Annotated[
        str | None, typer.Option(help="An existing Ray cluster (default: a local Ray).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Local Ray: worker processes (default: every core).")
    ] = None,
    data: Annotated[
        str, typer.Option(help="How workers get the data: shared (the store's path) or object.")
    ] = "shared",
    serial: Annotated[bool, typer.Option(help="No Ray: every run in this process.")] = False,
    resume: Annotated[bool, typer.Option(help="Run only what an earlier sweep left.")] = False,
    store: StoreOption = None,
) -> None:
    """Run one backtest per combination of strategy parameters, on Ray (or --serial); write
    each run's folder, the table of every run ranked by a statistic, and the sweep's report."""
    from adapters.local.sample import ensure_sample
    from simcore.config import load_config
    from simcore.report.sweep_page import write_sweep_report
    from simcore.strategy_loading import load_strategy
    from simcore.sweep.grid import expand, parse_params, read_grid_file
    from simcore.sweep.results import check_rank, sweep_table, write_table
    from simcore.sweep.runner import Sweep, check_address, run_on_ray, run_serial

    config = load_config(config_file)
    if config.mode != "backtest":
        raise UserError(f"{config_file} has mode {config.mode!r}: a sweep runs backtests")
    if not config.metadata.strategy:
        raise UserError(f"{config_file}: metadata.strategy names no strategy to sweep")
    if data not in ("shared", "object"):
        raise UserError(f"--data {data!r}: shared or object")
    if param and grid:
        raise UserError("give --param or --grid, not both")
    check_rank(rank)
    base = load_strategy(config.metadata.strategy, config.metadata.parameters)
    values = read_grid_file(grid) if grid else parse_params(param or [])
    runs = expand(values, type(base), config.metadata.parameters)
    if address and not serial:
        check_address(address)
    target = _store(store)
    if store is None and config.api_config.data_api == "local":
        ensure_sample(target)
    folder = out or Path("out") / f"{config_file.stem}-sweep"
    sweep = Sweep(config, config.metadata.strategy, runs, target.root, folder, resume)
    todo = sweep.prepare()
    skipped = len(runs) - len(todo)
    mode = "serial" if serial else f"Ray ({address or 'local'}, data {data})"
    console.print(
        f"sweep: {len(runs)} runs of {config.metadata.strategy}"
        + (f", {skipped} done already" if skipped else "")
        + f"; {mode}"
    )

    def progress(run, outcome, k, n) -> None:
        note = outcome["status"] + (f": {outcome['error']}" if outcome.get("error") else "")
        console.print(f"  [{k}/{n}] {escape(run.name)}: {escape(note)}")

    started = time.perf_counter()
    if serial:
        ray_facts: dict[str, object] = {}
        run_serial(sweep, todo, progress)
    else:
        ray_facts = run_on_ray(sweep, todo, progress, address=address, workers=workers, data=data)
    wall = time.perf_counter() - started
    table = sweep_table(sweep, rank, ascending)
    write_table(table, folder)
    failed = table.filter(pl.col("status") != "complete").height
    facts = [
        ["config", str(config_file)],
        ["strategy", config.metadata.strategy],
        ["runs", f"{len(runs)} ({failed} failed, {skipped} resumed)"],
        [
            "ran on",
            mode
            + (f", {ray_facts['nodes']} node(s), {ray_facts['cpus']:g} CPUs" if ray_facts else ""),
        ],
        ["wall time", f"{wall:.1f} s for {len(todo)} run(s)"],
        ["ranked by", rank + (" (lowest first)" if ascending else "")],
    ]
    page = write_sweep_report(folder, table, rank, f"Sweep: {config.session_name}", facts)
    shown = table.head(10).select("rank", "run", "status", rank)
    console.print(shown)
    console.print(f"sweep: {folder}/sweep.parquet (and .csv), report {page}; {wall:.1f} s")
    if failed:
        raise typer.Exit(1)


@app.command("report")
def report_command(
    out_dir: Annotated[
        Path,
        typer.Argument(metavar="OUT_DIR", help="A results folder of simcore backtest or live."),
    ],
) -> None:
    """Write report.html into a results folder: equity and drawdown, each symbol's price with
    its signals, orders and fills, quality per symbol and session, statistics and timings."""
    _write_report(out_dir)


# ---------------------------------------------------------------------- data


@data_app.command("info")
def data_info(store: StoreOption = None) -> None:
    """List symbols, datasets, date ranges and row counts of the store."""
    from adapters.local.sample import ensure_sample

    target = _store(store)
    if store is None and ensure_sample(target) is not None:
        out.print(f"[dim]generated the bundled sample into {escape(str(target.root))}[/]")
    summaries = target.summary()
    if not summaries:
        out.print(f"{escape(str(target.root))}: the store is empty")
        return
    table = Table(title=f"store {escape(str(target.root))}", title_justify="left")
    for column in ("dataset", "symbol", "first (UTC)", "last (UTC)", "rows", "extended", "files"):
        table.add_column(
            column, justify="right" if column in ("rows", "extended", "files") else "left"
        )
    for s in summaries:
        table.add_row(
            s.dataset.label,
            s.symbol,
            s.first.strftime("%Y-%m-%d %H:%M") if s.first else "-",
            s.last.strftime("%Y-%m-%d %H:%M") if s.last else "-",
            f"{s.rows:,}",
            f"{s.extended_rows:,}",
            str(s.files) + (f" [red]+{len(s.damaged)} damaged[/]" if s.damaged else ""),
        )
    out.print(table)
    damaged = [p for s in summaries for p in s.damaged]
    if damaged:
        from adapters.local.integrity import WHAT_TO_DO

        out.print(f"[red]{len(damaged)} damaged file(s)[/] (not counted above):")
        for problem in damaged:
            out.print(f"  {escape(str(problem.path))}: {escape(problem.problem)}")
        out.print(f"What to do: {escape(WHAT_TO_DO)}.")


@data_app.command("check")
def data_check(store: StoreOption = None) -> None:
    """Read every file of the store whole and check it (exit 1 when any is damaged)."""
    from adapters.local.integrity import WHAT_TO_DO

    target = _store(store)
    if not target.root.is_dir():
        raise UserError(f"{target.root} is not a folder: there is no store to check")
    result = target.check()
    if result.ok:
        out.print(
            f"[green]ok[/] {escape(str(target.root))}: {result.files_checked:,} file(s) read whole, no problem"
        )
        return
    out.print(
        f"[red]{len(result.problems)} problem(s)[/] in {escape(str(target.root))} "
        f"({result.files_checked:,} file(s) checked):"
    )
    for problem in result.problems:
        out.print(f"  {escape(str(problem.path))}: {escape(problem.problem)}")
    out.print(f"What to do: {escape(WHAT_TO_DO)}.")
    raise typer.Exit(1)


@data_app.command("sample")
def data_sample(store: StoreOption = None) -> None:
    """Generate the bundled sample into the store (only when the store is empty)."""
    from adapters.local.sample import ensure_sample

    target = _store(store)
    report = ensure_sample(target)
    if report is None:
        out.print(f"{target.root} already holds data; nothing generated")
        return
    _print_import_report(report)


@data_app.command("import")
def data_import(
    source: Annotated[Path, typer.Argument(help="A CSV/Parquet file, or a LEAN data folder.")],
    fmt: Annotated[str, typer.Option("--format", help="csv, parquet or lean.")] = "csv",
    kind: Annotated[str, typer.Option(help="bars, quotes or ticks (csv/parquet).")] = "bars",
    interval: Annotated[str, typer.Option(help="Bar interval of the file: 1s, 1m or 1d.")] = "1m",
    symbol: Annotated[
        str | None, typer.Option(help="Symbol, when the file has no symbol column.")
    ] = None,
    symbols: Annotated[
        str | None, typer.Option(help="LEAN: only these symbols (comma-separated).")
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(help="Column mapping store=file, e.g. 'timestamp=time,volume=vol'."),
    ] = None,
    tz: Annotated[
        str, typer.Option("--tz", help="Timezone of naive timestamps in the file.")
    ] = "UTC",
    epoch_unit: Annotated[
        str | None, typer.Option(help="Unit of integer timestamps: s, ms, us, ns.")
    ] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="Write every rejected row, with its reason, to this CSV.")
    ] = None,
    store: StoreOption = None,
) -> None:
    """Import market data: sorted, de-duplicated, bad rows counted by reason and kept out."""
    from adapters.local.importers import (
        ImportReport,
        import_frame,
        import_lean,
        parse_column_map,
        read_table,
    )
    from adapters.local.store import Dataset
    from simcore.time import TimeManager

    if symbol is not None:
        _check_symbols([symbol], "--symbol")
    if rejects is not None and not rejects.parent.is_dir():
        raise UserError(f"--rejects {rejects}: the folder {rejects.parent} does not exist")
    target = _store(store)
    tm = TimeManager("US_EQUITY", "EQUITY")
    if fmt == "lean":
        wanted = [s.strip() for s in symbols.split(",")] if symbols else None
        report = import_lean(target, source, tm, symbols=wanted)
    elif fmt in ("csv", "parquet"):
        dataset = Dataset(kind, interval if kind == "bars" else None)
        frame = read_table(
            source,
            dataset,
            tm,
            columns=parse_column_map(columns),
            source_tz=tz,
            symbol=symbol,
            epoch_unit=epoch_unit,
        )
        report = ImportReport(str(source))
        report.add(import_frame(target, dataset, frame, tm))
    else:
        raise UserError(f"--format must be csv, parquet or lean, not {fmt!r}")
    _print_import_report(report)
    if rejects is not None and report.rejected_rows is not None:
        report.rejected_rows.write_csv(rejects)
        out.print(f"rejected rows written to {rejects}")
    out.print(f"store: {target.root}")


@data_app.command("synth")
def data_synth(
    symbols: Annotated[
        str, typer.Option(help="Comma-separated symbols, or a count like '100'.")
    ] = "10",
    start: Annotated[str, typer.Option(help="First day of 1m bars (YYYY-MM-DD).")] = "2025-06-02",
    end: Annotated[str, typer.Option(help="Last day of 1m bars (YYYY-MM-DD).")] = "2025-06-27",
    daily_start: Annotated[
        str | None, typer.Option(help="Daily-only history from this day.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same data.")] = 7,
    gap_rate: Annotated[float, typer.Option(help="Probability that a minute is missing.")] = 0.0,
    bad_rows: Annotated[
        int, typer.Option(help="Bad rows injected per symbol (to test cleaning).")
    ] = 0,
    quotes: Annotated[bool, typer.Option(help="Also generate end-of-minute quotes.")] = False,
    seconds: Annotated[
        bool, typer.Option(help="Also generate 1s bars that add up to each 1m bar.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Generate seeded, calendar-aware synthetic market data into the store."""
    from adapters.local.synth import SynthSpec, write_synthetic
    from simcore.time import TimeManager

    names = (
        tuple(f"S{i:04d}" for i in range(int(symbols)))
        if symbols.isdigit()
        else tuple(s.strip().upper() for s in symbols.split(",") if s.strip())
    )
    _check_symbols(names, "--symbols")
    if bad_rows < 0 or seed < 0:
        raise UserError("--bad-rows and --seed must be 0 or more")
    try:
        spec = SynthSpec(
            symbols=names,
            minute_start=date.fromisoformat(start),
            minute_end=date.fromisoformat(end),
            daily_start=date.fromisoformat(daily_start) if daily_start else None,
            seed=seed,
            gap_rate=gap_rate,
            bad_rows=bad_rows,
            quotes=quotes,
            seconds=seconds,
        )
    except ValueError as exc:
        raise UserError(f"synth: {exc}") from None
    target = _store(store)
    _print_import_report(write_synthetic(target, spec, TimeManager("US_EQUITY", "EQUITY")))
    out.print(f"store: {target.root}")


def _check_symbols(symbols, option: str) -> None:
    """A symbol that the store cannot hold is refused before anything is written."""
    from adapters.local.schema import SYMBOL_PATTERN, SYMBOL_RULE

    for symbol in symbols:
        if not SYMBOL_PATTERN.match(symbol):
            hint = (
                f"; did you mean {symbol.upper()!r}?"
                if SYMBOL_PATTERN.match(symbol.upper())
                else ""
            )
            raise UserError(f"{option}: {symbol!r} is not a symbol ({SYMBOL_RULE}){hint}")


def _print_import_report(report) -> None:
    table = Table(title=f"import from {report.source}", title_justify="left")
    for column in ("dataset", "read", "written", "replaced", "rejected", "reordered", "extended"):
        table.add_column(column, justify="left" if column == "dataset" else "right")
    for part in report.parts:
        c, w = part.clean, part.written
        table.add_row(
            c.dataset.label,
            f"{c.rows_read:,}",
            f"{w.rows_written:,}",
            f"{w.rows_replaced:,}",
            f"{c.rows_rejected:,}",
            f"{c.reordered:,}",
            f"{c.extended:,}",
        )
    out.print(table)
    for part in report.parts:
        for path in part.written.damaged_replaced:
            out.print(
                f"[yellow]replaced the damaged file {escape(str(path))}[/]: its old rows could "
                "not be read, so only the imported rows are in it now"
            )
    if report.factor_rows:
        out.print(
            f"split and dividend factors: {report.factor_rows:,} rows for "
            f"{report.factor_symbols} symbol(s)"
        )
    reasons = report.rejected_by_reason()
    if reasons:
        out.print("rejected rows by reason: " + ", ".join(f"{k} {v:,}" for k, v in reasons.items()))
    else:
        out.print("rejected rows: none")
    for part in report.parts:
        suspects = part.clean.suspect_volume
        if suspects is not None and suspects.height:
            out.print(
                f"[yellow]{suspects.height} daily bar(s) with suspect volume[/] "
                "(zero, or over 20x the trailing 20-day median; kept):"
            )
            for row in suspects.iter_rows(named=True):
                out.print(
                    f"  {row['symbol']} {row['timestamp']:%Y-%m-%d} volume {row['volume']:,.0f} "
                    f"(median {row['trailing_median'] or 0:,.0f})"
                )


# the live side: `simcore live`, `simcore emulate alpaca`, `simcore data fetch`
from simcore import cli_live  # noqa: E402, F401  (registers its commands on the apps above)

# ---------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> None:
    """Run the CLI with simcore's exit codes.

    The command-line parser exits 2 on a usage error (an unknown option, a missing argument);
    that is the user's mistake, so it becomes 1 here, and 2 is kept for internal errors.
    """
    try:
        app(args=argv, prog_name="simcore")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        sys.exit(1 if code == 2 else code)
    except UserError as exc:
        notes = "".join(f"\n{note}" for note in getattr(exc, "__notes__", ()))
        err.print(f"[red]error:[/] {escape(str(exc) + notes)}")
        sys.exit(1)
    except Exception:
        err.print("[red]internal error[/] (a bug in simcore; please report it with this trace):")
        traceback.print_exc()
        sys.exit(2)
