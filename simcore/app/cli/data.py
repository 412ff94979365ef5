"""``simcore data``: the local market-data store — list, check, import, generate, fetch."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from simcore.app.cli.common import StoreOption, err, open_store, out, store_with_sample
from simcore.errors import UserError


def info(store: StoreOption = None) -> None:
    """List symbols, datasets, date ranges and row counts of the store."""
    target = store_with_sample(store)
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
        from simcore.store.integrity import WHAT_TO_DO

        out.print(f"[red]{len(damaged)} damaged file(s)[/] (not counted above):")
        for problem in damaged:
            out.print(f"  {escape(str(problem.path))}: {escape(problem.problem)}")
        out.print(f"What to do: {escape(WHAT_TO_DO)}.")


def check(store: StoreOption = None) -> None:
    """Read every file of the store whole and check it (exit 1 when any is damaged)."""
    from simcore.store.integrity import WHAT_TO_DO

    target = open_store(store)
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


def sample(store: StoreOption = None) -> None:
    """Generate the bundled sample into the store (only when the store is empty)."""
    from simcore.store.sample import ensure_sample

    target = open_store(store)
    report = ensure_sample(target)
    if report is None:
        out.print(f"{target.root} already holds data; nothing generated")
        return
    _print_import_report(report)


def import_data(
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
        str | None,
        typer.Option(
            "--tz",
            help="Timezone of naive timestamps in the file: America/New_York (the exchange's) or "
            "UTC; required when the file has any.",
        ),
    ] = None,
    epoch_unit: Annotated[
        str | None, typer.Option(help="Unit of integer timestamps: s, ms, us, ns.")
    ] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="Write every rejected row, with its reason, to this CSV.")
    ] = None,
    store: StoreOption = None,
) -> None:
    """Import market data: sorted, de-duplicated, bad rows counted by reason and kept out."""
    from simcore.store.importers import import_file, import_lean
    from simcore.store.parquet import Dataset
    from simcore.store.table_files import parse_column_map
    from simcore.time import TimeManager

    if symbol is not None:
        _check_symbols([symbol], "--symbol")
    if rejects is not None and not rejects.parent.is_dir():
        raise UserError(f"--rejects {rejects}: the folder {rejects.parent} does not exist")
    target = open_store(store)
    tm = TimeManager("US_EQUITY", "EQUITY")
    if fmt == "lean":
        wanted = [s.strip() for s in symbols.split(",")] if symbols else None
        report = import_lean(target, source, tm, symbols=wanted)
    elif fmt in ("csv", "parquet"):
        dataset = Dataset(kind, interval if kind == "bars" else None)
        report = import_file(
            target,
            source,
            dataset,
            tm,
            columns=parse_column_map(columns),
            source_tz=tz,
            symbol=symbol,
            epoch_unit=epoch_unit,
        )
    else:
        raise UserError(f"--format must be csv, parquet or lean, not {fmt!r}")
    _print_import_report(report)
    if fmt != "lean" and tz is not None and dataset.interval != "1d" and report.parts:
        clean = report.parts[0].clean
        _say_if_outside_hours(clean, source, dataset, tz, tm, columns, symbol, epoch_unit)
    if rejects is not None and report.rejected_rows is not None:
        report.rejected_rows.write_csv(rejects)
        out.print(f"rejected rows written to {rejects}")
    out.print(f"store: {target.root}")


def synth(
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
    from simcore.store.synth import SynthSpec, write_synthetic
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
    target = open_store(store)
    if store is None:  # say where it goes: the default store may hold the bundled sample
        from simcore.store.parquet import BARS_1M
        from simcore.store.sample import SAMPLE_SPEC

        sample = set(SAMPLE_SPEC.symbols) <= set(target.symbols(BARS_1M))
        holds = (
            ""
            if target.is_empty()
            else (", beside the bundled sample" if sample else ", beside the data it holds")
        )
        out.print(
            f"[yellow]writing into the default store {escape(str(target.root))}{holds}[/]: "
            "--store DIR keeps synthetic data apart"
        )
    _print_import_report(write_synthetic(target, spec, TimeManager("US_EQUITY", "EQUITY")))
    out.print(f"store: {target.root}")


def _say_if_outside_hours(clean, source, dataset, tz, tm, columns, symbol, epoch_unit) -> None:
    """Most rows outside regular hours: say so, and name the zone that would place them inside
    (the file read again in the other zone), if there is one."""
    from simcore.store.cleaning import clean_rows
    from simcore.store.table_files import parse_column_map, read_blocks

    kept = clean.rows_kept
    if not kept or clean.extended * 2 <= kept:
        return
    out.print(
        f"[yellow]warning:[/] {clean.extended:,} of {kept:,} rows fall outside regular hours in "
        f"--tz {escape(tz)}: they are stored, flagged extended, and backtests do not stream them"
    )
    for zone in dict.fromkeys((tm.timezone, "UTC")):
        if zone == tz:
            continue
        blocks = read_blocks(
            source, dataset, tm, columns=parse_column_map(columns), source_tz=zone,
            symbol=symbol, epoch_unit=epoch_unit,
        )  # fmt: skip
        other = clean_rows(next(blocks), dataset, tm)  # the first block tells: a file's zone
        blocks.close()  # is the same throughout
        if other.clean.height and other.extended * 2 <= other.clean.height:
            out.print(
                f"  read in {zone}, {other.clean.height - other.extended:,} of "
                f"{'them' if other.rows_read == clean.rows_read else 'its first rows'} are inside "
                f"regular hours: if that is the file's zone, import it again with --tz {zone} (the "
                "rows imported now stay in the store, flagged extended, never streamed)"
            )
            return


def _check_symbols(symbols, option: str) -> None:
    """A symbol that the store cannot hold is refused before anything is written."""
    from simcore.store.schema import SYMBOL_PATTERN, SYMBOL_RULE

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


def fetch(
    config_file: Annotated[Path, typer.Argument(metavar="CONFIG", help="Session config JSON.")],
    data_url: Annotated[
        str | None,
        typer.Option(help="data_api alpaca: the REST base (default: $SIMCORE_ALPACA_DATA_URL)."),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Fetch from the provider (Alpaca, Polygon, Schwab) everything a backtest of CONFIG reads
    (once; cached in the store)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from simcore.app.backtest import data_source, provider_env
    from simcore.app.fetch_plan import fetch_plan
    from simcore.config import load_config
    from simcore.time import TimeManager

    config = load_config(config_file)
    if config.api_config.data_api == "local":
        raise UserError(
            f"{config_file}: api_config.data_api is 'local': its bars are in the store already "
            "(`simcore data fetch` fetches from a provider)"
        )
    if config.mode != "backtest":
        raise UserError(f"{config_file}: a live config fetches its history before each session")
    target = open_store(store)
    tm = TimeManager(config.exchange_group, config.asset_class)
    source = data_source(config, target, tm, provider_env({"SIMCORE_ALPACA_DATA_URL": data_url}))
    plan = fetch_plan(config, tm, source)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err
    ) as progress:
        for (interval, symbols), days in plan.items():
            task = progress.add_task(f"{interval} bars, {len(symbols)} symbol(s)", total=None)

            def advance(done: int, total: int, task=task) -> None:
                progress.update(task, completed=done, total=total)

            source.report.add(source.api.fetch(list(symbols), interval, sorted(days), advance))
    r = source.report
    out.print(
        f"fetched {r.bars:,} bars in {r.requests:,} request(s); "
        f"{r.symbol_days_fetched:,} symbol-days new, {r.symbol_days_cached:,} already in "
        f"{escape(str(target.root))}"
    )
