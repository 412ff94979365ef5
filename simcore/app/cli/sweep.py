"""``simcore sweep``: one backtest per combination of a strategy's parameters, on Ray or in
this process."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from simcore.app.cli.common import StoreOption, open_store, out, store_with_sample
from simcore.errors import UserError


def sweep(
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
    out_dir: Annotated[
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
    from simcore.app.backtest import run_backtest
    from simcore.config import load_config
    from simcore.results.checks import ANNUALISED, ANNUALISED_MINIMUM
    from simcore.results.report.sweep_page import write_sweep_report
    from simcore.strategies.loading import load_strategy
    from simcore.sweep.grid import expand, parse_params, read_grid_file
    from simcore.sweep.ranking import check_rank, sweep_table, write_table
    from simcore.sweep.runner import Sweep, check_address, require_ray, run_on_ray, run_serial
    from simcore.time import TimeManager

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
    if not serial:
        require_ray()
    if address and not serial:
        check_address(address)
    target = (
        store_with_sample(store) if config.api_config.data_api == "local" else open_store(store)
    )
    folder = out_dir or Path("out") / f"{config_file.stem}-sweep"
    sweep = Sweep(config, config.metadata.strategy, runs, target.root, folder, resume, run_backtest)
    todo = sweep.prepare()
    skipped = len(runs) - len(todo)
    mode = "serial" if serial else f"Ray ({address or 'local'}, data {data})"
    out.print(
        f"sweep: {len(runs)} runs of {config.metadata.strategy}"
        + (f", {skipped} done already" if skipped else "")
        + f"; {mode}"
    )

    tm = TimeManager(config.exchange_group, config.asset_class)
    start, end = tm.get_session_boundary_times(
        config.backtest_config.start_date, config.backtest_config.end_date
    )
    sessions = tm.count_trading_days(start.date(), end.date())
    if rank in ANNUALISED and sessions < ANNUALISED_MINIMUM:
        out.print(
            f"[yellow]warning:[/] ranked by {rank}, an annualised figure, from {sessions} "
            f"session(s) per run: under {ANNUALISED_MINIMUM} it says little (--rank total_return)"
        )

    def progress(run, outcome, k, n) -> None:
        note = outcome["status"] + (f": {outcome['error']}" if outcome.get("error") else "")
        out.print(f"  [{k}/{n}] {escape(run.name)}: {escape(note)}")

    started = time.perf_counter()
    if serial:
        ray_facts: dict[str, object] = {}
        run_serial(sweep, todo, progress)
    else:
        ray_facts = run_on_ray(sweep, todo, progress, address=address, workers=workers, data=data)
    wall = time.perf_counter() - started
    table = sweep_table(sweep, rank, ascending)
    write_table(table, folder)
    failed = table.filter(table["status"] != "complete").height
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
    out.print(shown)
    out.print(f"sweep: {folder}/sweep.parquet (and .csv), report {page}; {wall:.1f} s")
    if failed:
        raise typer.Exit(1)
