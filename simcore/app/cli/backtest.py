"""``simcore validate`` and ``simcore backtest``."""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from simcore.app.cli.common import (
    StoreOption,
    err,
    open_store,
    out,
    store_with_sample,
    write_report,
)
from simcore.errors import UserError


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
            for line in _days_resolved(report.config):
                out.print(f"  {escape(line)}")
        else:
            failed += 1
            out.print(f"[red]invalid[/] {escape(str(file))}: {len(report.problems)} problem(s)")
            for path, message in report.problems:
                out.print(f"  [bold]{escape(path)}[/]: {escape(message)}")
        for path, message in report.warnings:
            out.print(f"  [yellow]warning[/] {escape(path)}: {escape(message)}")
    if failed:
        raise typer.Exit(1)


def _days_resolved(config) -> list[str]:
    """Which trading days a backtest's dates resolve to, and where they differ from the dates
    written (the design's rule: a date that is no trading day moves to the next one)."""
    from simcore.results.checks import days_chosen
    from simcore.time import TimeManager

    bt = config.backtest_config
    if config.mode != "backtest" or bt is None:
        return []
    tm = TimeManager(config.exchange_group, config.asset_class)
    start, end = tm.get_session_boundary_times(bt.start_date, bt.end_date)
    days = tm.trading_days(start.date(), end.date())
    lines = [
        f"trading days: {days[0]} to {days[-1]} ({len(days)} session(s))"
        if len(days) > 1
        else f"trading day: {days[0]} (1 session)"
    ]
    lines += [f"warning: {note}" for note in days_chosen(config, tm, days)]
    return lines


def _strategy_problems(config) -> list[tuple[str, str]]:
    from simcore.engine.requirements import config_problems
    from simcore.strategies.loading import load_strategy

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


def backtest(
    config_file: Annotated[Path, typer.Argument(metavar="CONFIG", help="Session config JSON.")],
    out_dir: Annotated[
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
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="The run's warnings fail it (exit 1); also backtest_config.strict."
        ),
    ] = False,
    benchmark: Annotated[
        str | None,
        typer.Option(
            help="A symbol of the store to compare the run with (default: "
            "session_data_config.benchmark)."
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue the killed or interrupted run in the --out folder from its last "
            "checkpoint (same config and strategy); the outputs are an uninterrupted run's.",
        ),
    ] = False,
) -> None:
    """Run a backtest (data-driven, or replayed against the clock when speed_multiplier > 0);
    print the report; write the results and their HTML report."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from simcore.app.backtest import resolve_strategy, run_backtest
    from simcore.config import load_config
    from simcore.engine.requirements import check_config_fits
    from simcore.time import TimeManager

    config = load_config(config_file)
    if config.mode != "backtest":
        raise UserError(
            f"{config_file} has mode {config.mode!r}; `simcore backtest` runs mode 'backtest' configs"
        )
    if benchmark is not None:
        data = config.session_data_config.model_copy(update={"benchmark": benchmark.upper()})
        config = config.model_copy(update={"session_data_config": data})
    local = config.api_config.data_api == "local"
    target = store_with_sample(store) if local else open_store(store)
    chosen = resolve_strategy(config, strategy)
    check_config_fits(config, chosen, str(config_file))
    folder = out_dir or Path("out") / config_file.stem
    bt = config.backtest_config
    assert bt is not None
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
        if resume:  # where the run continues (a checkpoint of another config: refused here)
            from simcore.runtime.checkpoint import Checkpoints, NothingToResume, fingerprint

            try:
                after = Checkpoints(folder, fingerprint(config, chosen)).last_day()
            except NothingToResume as nothing:  # complete: killed after its results were written
                if not nothing.complete:
                    raise
                progress.update(task, completed=days, description="complete")
                out.print(f"nothing to resume: the run in {folder} is complete (manifest.json)")
                return
            done = tm.count_trading_days(start.date(), after)
            progress.update(task, completed=done)
            err.print(f"resuming after {after}: {done} of {days} sessions were done")

        def advance(day: date) -> None:
            progress.update(task, advance=1, description=f"session {day.isoformat()} done")

        env = {"SIMCORE_ALPACA_DATA_URL": data_url}
        try:
            result = run_backtest(
                config, target, chosen, folder, advance, runtime, env, strict or None, resume
            )
        except Exception:  # what the run wrote before it failed gets its report too
            if report and (folder / "manifest.json").is_file():
                with contextlib.suppress(Exception):
                    write_report(folder)
            raise
    print_outcome(result.summary, result.tables, tm, result.metrics.report())
    out.print(
        f"results: {folder} (manifest.json lists every table and its digest; metrics.json the timings)"
    )
    if report:
        write_report(folder)


def print_outcome(summary: dict, tables: dict, tm, engine_report: str) -> None:
    """The run for a trader first (the money, the risk, the trades, the warnings), then the
    design's performance report of the engine, then what the engine did in one line."""
    from simcore.results.console import trader_summary

    out.print(escape(trader_summary(summary, tables, tm)))
    out.print(engine_report)
    quality = tables["quality"]
    streamed = quality.filter(~quality["interval"].str.starts_with("historical"))
    out.print(
        f"days {len(summary['trading_days'])} | symbols {len(summary['symbols'])} | "
        f"bars streamed {summary['bars_streamed']:,} | generated {summary['bars_generated']:,} | "
        f"signals {summary['signals']:,} | orders {summary['orders']:,} | "
        f"fills {summary['fills']:,} | rejected {summary['rejections']:,} | "
        f"quality min {streamed['quality'].min() or 0:.2f}% mean {streamed['quality'].mean() or 0:.2f}%"
    )
