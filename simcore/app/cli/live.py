"""``simcore live``: a strategy on live market data, with a status line, until its sessions end
or Ctrl-C."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.live import Live
from rich.markup import escape

from simcore.app.cli.common import (
    ClockSpeed,
    ClockStart,
    ClockStartedAt,
    StoreOption,
    err,
    interruptible,
    open_store,
    out,
    rehearsal_clock,
    write_report,
)
from simcore.errors import UserError


def live(
    config_file: Annotated[
        Path, typer.Argument(metavar="CONFIG", help="Session config JSON (mode: live).")
    ],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: out/<config name>).")
    ] = None,
    strategy: Annotated[
        str | None, typer.Option(help="Strategy as module:Class or file.py:Class.")
    ] = None,
    sessions: Annotated[int, typer.Option(help="Sessions to run (Ctrl-C ends it sooner).")] = 1,
    clock_start: ClockStart = None,
    clock_speed: ClockSpeed = 1.0,
    clock_started_at: ClockStartedAt = None,
    grace: Annotated[
        float, typer.Option(help="Session seconds a minute waits for late bars.")
    ] = 2.0,
    data_url: Annotated[
        str | None,
        typer.Option(help="Alpaca REST base (default: $SIMCORE_ALPACA_DATA_URL, else Alpaca's)."),
    ] = None,
    stream_url: Annotated[
        str | None,
        typer.Option(
            help="Alpaca stream URL (default: $SIMCORE_ALPACA_STREAM_URL, else Alpaca's)."
        ),
    ] = None,
    trading_url: Annotated[
        str | None,
        typer.Option(
            help="Alpaca trading REST base (default: $SIMCORE_ALPACA_TRADING_URL, else Alpaca's "
            "paper API; its live API with --live-money)."
        ),
    ] = None,
    trading_stream_url: Annotated[
        str | None,
        typer.Option(
            help="Alpaca trade-updates stream (default: $SIMCORE_ALPACA_TRADING_STREAM_URL, else "
            "Alpaca's)."
        ),
    ] = None,
    live_money: Annotated[
        bool,
        typer.Option(
            "--live-money",
            help="Send orders to the broker's account with real money: trade_api 'alpaca' "
            "(default: its paper account) or 'schwab' (which has no paper account: required).",
        ),
    ] = False,
    store: StoreOption = None,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write report.html into the results.")
    ] = True,
    refresh: Annotated[
        float,
        typer.Option(
            help="Wall seconds between writes of the results and report so far (0: at the end)."
        ),
    ] = 300.0,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue the killed session whose journal is in --out: replay it, ask the "
            "broker what happened meanwhile, fill the minutes it was down, and go on.",
        ),
    ] = False,
    stop: Annotated[
        bool,
        typer.Option(
            "--stop",
            help="With --resume: write the killed session's results and report from its "
            "journal and the broker's account, and end it there: no new data, no order sent.",
        ),
    ] = False,
) -> None:
    """Run a strategy on live market data (a provider's, or the local store replayed at the
    clock), trading with simcore's paper broker or through a broker (Alpaca's paper account
    unless --live-money)."""
    from simcore.app.backtest import provider_env, resolve_strategy
    from simcore.app.live import LiveRequest, check_request, run_live_request
    from simcore.config import load_config
    from simcore.live.session import LiveOptions
    from simcore.results.report import write_report as refresh_report
    from simcore.time import TimeManager

    config = load_config(config_file)
    if config.mode != "live":
        raise UserError(
            f"{config_file} has mode {config.mode!r}; `simcore live` is for mode 'live' configs"
        )
    if sessions < 1:
        raise UserError("--sessions must be 1 or more")
    if refresh < 0:
        raise UserError(f"--refresh {refresh:g}: seconds between refreshes, 0 or more")
    folder = out_dir or Path("out") / config_file.stem
    clock = rehearsal_clock(clock_start, clock_speed, clock_started_at)
    journal = None
    if stop and not resume:
        raise UserError("--stop ends a killed session after replaying it: it needs --resume")
    if resume:
        from simcore.live.journal import session_to_resume
        from simcore.time import LiveClock

        if sessions != 1:
            raise UserError("--resume continues one session: --sessions must be 1")
        journal, problem = session_to_resume(folder)
        if clock_start is not None:
            raise UserError(
                "--resume keeps the clock of the session it continues: leave out --clock-start"
            )
        clock = LiveClock.of(journal[0]["clock"])
        err.print(
            f"resuming the session of {journal[0]['day']} from its journal "
            f"({len(journal):,} records)" + (f"; {problem}" if problem else "")
        )
    request = LiveRequest(
        config=config,
        strategy=resolve_strategy(config, strategy),
        store=open_store(store),
        clock=clock,
        folder=folder,
        options=LiveOptions(
            sessions=sessions,
            grace_seconds=grace,
            refresh_seconds=refresh if report else 0.0,
            refreshed=refresh_report,
            resume=journal,
            stop_after_replay=stop,
        ),
        live_money=live_money,
        env=provider_env(
            {
                "SIMCORE_ALPACA_DATA_URL": data_url,
                "SIMCORE_ALPACA_STREAM_URL": stream_url,
                "SIMCORE_ALPACA_TRADING_URL": trading_url,
                "SIMCORE_ALPACA_TRADING_STREAM_URL": trading_stream_url,
            }
        ),
    )
    check_request(request, str(config_file))
    tm = TimeManager(config.exchange_group, config.asset_class)  # the summary's times

    def where_orders_go(broker) -> None:
        style = "bold red" if broker.real_money else "yellow"
        err.print(f"[{style}]{escape(broker.destination)}[/]")

    # alpaca-py logs its reconnects as warnings on stderr; the status line reports them
    logging.getLogger("alpaca").setLevel(logging.ERROR)
    try:
        result = _run_with_status(
            lambda ready: run_live_request(request, where_orders_go, ready), config.session_name
        )
    except KeyboardInterrupt:
        err.print(f"interrupted: everything received is written to {escape(str(folder))}")
        if (folder / "manifest.json").is_file():
            from simcore.results.console import trader_summary
            from simcore.results.report.data import RunFiles

            written = RunFiles.read(folder)
            tables = {"rejections": written.table("rejections")}
            out.print(escape(trader_summary(written.summary, tables, tm)))
            if report:
                write_report(folder)
        raise typer.Exit(130) from None
    from simcore.results.console import trader_summary

    out.print(escape(trader_summary(result.summary, result.tables, tm)))
    out.print(result.metrics.report())
    s = result.summary
    out.print(
        f"sessions {len(s['trading_days'])} | symbols {len(s['symbols'])} | "
        f"bars streamed {s['bars_streamed']:,} | generated {s['bars_generated']:,} | "
        f"signals {s['signals']:,} | orders {s['orders']:,} | fills {s['fills']:,} | "
        f"rejected {s['rejections']:,} | corrections {result.tables['corrections'].height:,} | "
        f"gaps filled {(result.tables['gap_fills']['outcome'] == 'filled').sum():,}"
    )
    if s["status"] == "stopped":
        out.print(
            "the killed session was written from its journal and the broker's account, and "
            "ended there (--stop): nothing was streamed or sent"
        )
    out.print(f"results: {escape(str(folder))}")  # the warnings are the summary's
    if report:
        write_report(folder)


LOG_EVERY = timedelta(minutes=30)  # off a terminal: a status line every so much session time


def _run_with_status(run, name: str):
    """Run with a live status line on stderr (off a terminal, a line every LOG_EVERY of
    session time); Ctrl-C and SIGTERM interrupt it."""
    if not err.is_terminal:
        logged: list = []

        def log(runtime) -> None:
            s = runtime.status()
            if not logged or s["now"] - logged[-1] >= LOG_EVERY or s["waiting_for"] != logged[0]:
                logged[:] = [s["waiting_for"], s["now"]]
                err.print(_status_text(name, s), soft_wrap=True)

        with interruptible():
            return run(lambda runtime: setattr(runtime, "tick", lambda: log(runtime)))
    with interruptible(), Live(console=err, refresh_per_second=4, transient=True) as status:

        def ready(runtime) -> None:
            runtime.tick = lambda: status.update(_status_text(name, runtime.status()))

        return run(ready)


def _status_text(name: str, s: dict[str, object]) -> str:
    if s["waiting_for"]:
        return f"{escape(name)}: {s['now']:%Y-%m-%d %H:%M:%S %Z} — waiting for {s['waiting_for']}"
    quality = "-" if s["quality_min"] is None else f"{s['quality_min']:.1f}%"
    lag = "-" if s["release_delay_ms"] is None else f"{s['release_delay_ms']:.1f} ms"
    equity = "-" if s.get("equity") is None else f"{s['equity']:,.2f}"
    day = "" if s.get("day_pnl") is None else f" (day {s['day_pnl']:+,.2f})"
    return (
        f"{escape(name)}: {s['now']:%H:%M:%S} | equity {equity}{day} | positions "
        f"{s.get('positions', 0)} | open orders {s.get('open_orders', 0)} | "
        f"bars {s['bars']:,} | lag {lag} | "
        f"quality min {quality} | gaps open {s['gaps_open']} filled {s['gaps_filled']} | "
        f"corrections {s['corrections']} | overruns {s['overruns']} | "
        f"reconnects {s['reconnects']}"
    )
