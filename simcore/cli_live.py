"""The live side of the command line: ``simcore live``, ``simcore emulate alpaca`` and
``simcore data fetch``. Registered on the apps of ``simcore.cli``."""

from __future__ import annotations

import contextlib
import logging
import secrets
import signal
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.live import Live
from rich.markup import escape

from simcore.cli import StoreOption, _store, app, data_app, err, out
from simcore.errors import NotAvailableError, UserError

emulate_app = typer.Typer(
    help="Loopback emulators of outside services, for rehearsals without an account.",
    no_args_is_help=True,
)
app.add_typer(emulate_app, name="emulate")

DataUrl = Annotated[
    str | None,
    typer.Option(help="Alpaca REST base (default: $SIMCORE_ALPACA_DATA_URL, else Alpaca's)."),
]
StreamUrl = Annotated[
    str | None,
    typer.Option(help="Alpaca stream URL (default: $SIMCORE_ALPACA_STREAM_URL, else Alpaca's)."),
]
TradingUrl = Annotated[
    str | None,
    typer.Option(
        help="Alpaca trading REST base (default: $SIMCORE_ALPACA_TRADING_URL, else Alpaca's "
        "paper API; its live API with --live-money)."
    ),
]
TradingStreamUrl = Annotated[
    str | None,
    typer.Option(
        help="Alpaca trade-updates stream (default: $SIMCORE_ALPACA_TRADING_STREAM_URL, else "
        "Alpaca's)."
    ),
]
ClockStart = Annotated[
    str | None,
    typer.Option(help="Rehearsal: start the session clock here (ISO time with offset)."),
]
ClockSpeed = Annotated[float, typer.Option(help="Rehearsal: the session clock's rate.")]


def _clock(start: str | None, speed: float):
    from simcore.time import LiveClock

    if speed <= 0:
        raise UserError("--clock-speed must be more than 0")
    moment = None
    if start is not None:
        try:
            moment = datetime.fromisoformat(start)
        except ValueError:
            raise UserError(f"--clock-start {start!r} is not an ISO time") from None
        if moment.tzinfo is None:
            raise UserError(
                f"--clock-start {start!r} needs an offset, e.g. 2025-07-01T09:29:50-04:00"
            )
    return LiveClock(moment, speed)


# ---------------------------------------------------------------------- live


@app.command()
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
    grace: Annotated[
        float, typer.Option(help="Session seconds a minute waits for late bars.")
    ] = 2.0,
    data_url: DataUrl = None,
    stream_url: StreamUrl = None,
    trading_url: TradingUrl = None,
    trading_stream_url: TradingStreamUrl = None,
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
) -> None:
    """Run a strategy on live market data (Alpaca; or the local store replayed at the clock),
    trading with simcore's paper broker or through Alpaca (paper account unless --live-money)."""
    from adapters.alpaca.emulator import AlpacaEmulator
    from adapters.alpaca.feed import AlpacaFeed
    from adapters.alpaca.history import AlpacaHistory
    from adapters.alpaca.keys import AlpacaKeys, keys_from_env
    from adapters.local.source import LocalDataSource
    from adapters.provider_source import ProviderBackedSource
    from adapters.sources import AlpacaEndpoints
    from adapters.store_history import HistoryGapSource
    from simcore.backtest import resolve_strategy
    from simcore.config import load_config
    from simcore.live_session import LiveOptions, run_live
    from simcore.requirements import check_config_fits
    from simcore.system import SystemManager

    config = load_config(config_file)
    if config.mode != "live":
        raise UserError(
            f"{config_file} has mode {config.mode!r}; `simcore live` is for mode 'live' configs"
        )
    chosen = resolve_strategy(config, strategy)
    check_config_fits(config, chosen, str(config_file))
    if sessions < 1:
        raise UserError("--sessions must be 1 or more")
    trade_api = config.api_config.trade_api
    if live_money and trade_api == "paper":
        raise UserError(
            "--live-money sends orders to a broker with real money, but api_config.trade_api "
            "is 'paper'"
        )
    api = config.api_config.data_api
    if live_money and api == "local":
        raise UserError(
            "--live-money trades on a provider's market data, but api_config.data_api is "
            "'local' (a replay of the store trades with the emulator's account)"
        )
    if trade_api == "schwab" and not live_money and not _schwab_emulated():
        raise UserError(
            "trade_api 'schwab' sends orders to your Schwab account with real money (Schwab "
            "has no paper account): pass --live-money to confirm, or rehearse against "
            "`simcore emulate schwab` (SIMCORE_SCHWAB_URL)"
        )
    clock = _clock(clock_start, clock_speed)
    target = _store(store)
    emulator = None
    if api == "local":  # a replay of the store at the clock, through the real Alpaca clients
        key = secrets.token_hex(8)
        keys = AlpacaKeys(key, key)
        emulator = AlpacaEmulator(target, clock, key=key, secret=key).start()
        endpoints = AlpacaEndpoints.of_emulator(emulator)
    elif api in ("alpaca", "polygon", "schwab"):
        keys = keys_from_env() if api == "alpaca" or trade_api == "alpaca" else None
        endpoints = AlpacaEndpoints.resolve(data_url, stream_url, trading_url, trading_stream_url)
    else:
        raise NotAvailableError(
            f"api_config.data_api {api!r} is valid but not built into this version; "
            "live sessions stream from 'alpaca', 'polygon' or 'schwab' (or replay 'local')"
        )
    try:
        system = SystemManager(config, clock)
        tm = system.get_time_manager()
        if api == "polygon":
            history, feed = _polygon(target, tm, clock.speed)
        elif api == "schwab":
            history, feed = _schwab(target, tm, clock.speed)
        else:
            feed_name = config.api_config.feed
            history = AlpacaHistory(target, tm, keys, url=endpoints.data_url, feed=feed_name)
            feed = AlpacaFeed(
                keys, url=endpoints.stream_url, feed=feed_name, clock_speed=clock.speed
            )
        history.check_keys(config.session_data_config.symbols[0])
        source = (
            LocalDataSource(target, tm)
            if api == "local"
            else ProviderBackedSource(target, tm, history)
        )
        if refresh < 0:
            raise UserError(f"--refresh {refresh:g}: seconds between refreshes, 0 or more")
        options = LiveOptions(
            sessions=sessions,
            grace_seconds=grace,
            refresh_seconds=refresh if report else 0.0,
            refreshed=_refreshed_report,
        )
        folder = out_dir or Path("out") / config_file.stem
        if trade_api == "schwab":
            broker = _schwab_broker(tm)
        else:
            broker = _alpaca_broker(
                trade_api, keys, endpoints, live_money, tm, emulator is not None
            )
        _quiet_alpaca_logs()
        result = _run_with_status(
            lambda ready: run_live(
                system,
                target,
                chosen,
                source,
                feed,
                clock,
                HistoryGapSource(history),
                folder,
                options,
                ready,
                broker,
            ),
            config.session_name,
        )
    except KeyboardInterrupt:
        err.print(f"interrupted: everything received is written to {escape(str(folder))}")
        if report and (folder / "manifest.json").is_file():
            _write_report(folder)
        raise typer.Exit(130) from None
    finally:
        if emulator is not None:
            emulator.stop()
    out.print(result.metrics.report())
    out.print(result.statistics.report())
    s = result.summary
    out.print(
        f"sessions {len(s['trading_days'])} | symbols {len(s['symbols'])} | "
        f"bars streamed {s['bars_streamed']:,} | generated {s['bars_generated']:,} | "
        f"signals {s['signals']:,} | corrections {result.tables['corrections'].height:,} | "
        f"gaps filled {(result.tables['gap_fills']['outcome'] == 'filled').sum():,}"
    )
    out.print(f"results: {escape(str(folder))}")
    if report:
        _write_report(folder)


def _refreshed_report(folder: Path) -> None:
    from simcore.report import write_report

    write_report(folder)


def _write_report(folder: Path) -> None:
    from simcore.report import write_report

    out.print(f"report: {escape(str(write_report(folder)))}")


def _polygon(store, tm, clock_speed: float):
    """Polygon's history API and live feed; the key from MASSIVE_API_KEY, the addresses from
    SIMCORE_POLYGON_URL and SIMCORE_POLYGON_STREAM_URL (else Polygon's own)."""
    import os

    from adapters.polygon.feed import PolygonFeed
    from adapters.polygon.history import PolygonHistory
    from adapters.polygon.keys import key_from_env
    from adapters.sources import POLYGON_STREAM_URL_ENV, POLYGON_URL_ENV

    key = key_from_env()
    history = PolygonHistory(store, tm, key, url=os.environ.get(POLYGON_URL_ENV) or None)
    url = os.environ.get(POLYGON_STREAM_URL_ENV) or None
    return history, PolygonFeed(key, url=url, clock_speed=clock_speed)


def _schwab(store, tm, clock_speed: float):
    """Schwab's price history and streamer; credentials from SCHWAB_API_KEY,
    SCHWAB_APP_SECRET and the token file at SCHWAB_TOKEN_PATH; SIMCORE_SCHWAB_URL carries the
    client's fixed host elsewhere (the emulator)."""
    import os

    from adapters.schwab.client import schwab_client
    from adapters.schwab.credentials import credentials_from_env
    from adapters.schwab.feed import SchwabFeed
    from adapters.schwab.history import SchwabHistory
    from adapters.sources import SCHWAB_URL_ENV

    credentials, url = credentials_from_env(), os.environ.get(SCHWAB_URL_ENV) or None
    history = SchwabHistory(store, tm, credentials, url=url)
    return history, SchwabFeed(schwab_client(credentials, url), clock_speed=clock_speed)


def _schwab_emulated() -> bool:
    import os

    from adapters.sources import SCHWAB_URL_ENV

    return bool(os.environ.get(SCHWAB_URL_ENV))


def _schwab_broker(tm):
    """For trade_api 'schwab': the broker's factory on schwab-py's trader API."""
    import os
    from functools import partial

    from adapters.schwab.broker import SchwabBroker
    from adapters.schwab.client import schwab_client
    from adapters.schwab.credentials import credentials_from_env
    from adapters.sources import SCHWAB_URL_ENV

    url = os.environ.get(SCHWAB_URL_ENV) or None
    if url:
        err.print(f"[yellow]orders go to the Schwab emulator at {escape(url)}[/]")
    else:
        err.print("[bold red]LIVE TRADING: orders go to your Schwab account with real money[/]")
    client = schwab_client(credentials_from_env(), url)
    return partial(SchwabBroker, client=client, now_ns=tm.current_time_ns)


def _alpaca_broker(trade_api: str, keys, endpoints, live_money: bool, tm, emulated: bool):
    """For trade_api 'alpaca': the factory of the broker the Trader sends orders to."""
    if trade_api != "alpaca":
        return None
    from functools import partial

    from adapters.alpaca.broker import AlpacaBroker, real_money_warning

    if emulated:
        err.print("[yellow]orders go to the emulator's paper account (127.0.0.1)[/]")
    else:
        style = "bold red" if live_money else "yellow"
        err.print(f"[{style}]{escape(real_money_warning(not live_money))}[/]")
    return partial(
        AlpacaBroker,
        keys=keys,
        url=endpoints.trading_url,
        stream_url=endpoints.trading_stream_url,
        paper=not live_money,
        now_ns=tm.current_time_ns,
    )


def _quiet_alpaca_logs() -> None:
    """alpaca-py logs its reconnects as warnings on stderr; the status line reports them."""
    logging.getLogger("alpaca").setLevel(logging.ERROR)


@contextlib.contextmanager
def _interruptible():
    """Ctrl-C and SIGTERM end the command as a KeyboardInterrupt, even when the shell started
    it with SIGINT ignored (a background job)."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = {}
    for number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread (tests): left as it is
            previous[number] = signal.signal(number, interrupt)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _run_with_status(run, name: str):
    """Run with a live status line on stderr; Ctrl-C and SIGTERM interrupt it."""
    with _interruptible(), Live(console=err, refresh_per_second=4, transient=True) as status:

        def ready(runtime) -> None:
            runtime.tick = lambda: status.update(_status_text(name, runtime.status()))

        return run(ready)


def _status_text(name: str, s: dict[str, object]) -> str:
    if s["waiting_for"]:
        return f"{escape(name)}: {s['now']:%Y-%m-%d %H:%M:%S %Z} — waiting for {s['waiting_for']}"
    quality = "-" if s["quality_min"] is None else f"{s['quality_min']:.1f}%"
    lag = "-" if s["release_delay_ms"] is None else f"{s['release_delay_ms']:.1f} ms"
    return (
        f"{escape(name)}: {s['now']:%H:%M:%S} | bars {s['bars']:,} | lag {lag} | "
        f"quality min {quality} | gaps open {s['gaps_open']} filled {s['gaps_filled']} | "
        f"corrections {s['corrections']} | overruns {s['overruns']} | "
        f"reconnects {s['reconnects']}"
    )


# ---------------------------------------------------------------------- emulate


@emulate_app.command("alpaca")
def emulate_alpaca(
    clock_start: ClockStart = None,
    clock_speed: ClockSpeed = 1.0,
    rest_port: Annotated[int, typer.Option(help="REST port on 127.0.0.1 (0: any free).")] = 0,
    stream_port: Annotated[
        int, typer.Option(help="Websocket port on 127.0.0.1 (0: any free).")
    ] = 0,
    cash: Annotated[float, typer.Option(help="The emulated account's starting cash.")] = 1e5,
    store: StoreOption = None,
) -> None:
    """Serve the store as Alpaca's market-data and trading APIs (REST and websockets) on
    127.0.0.1: bars at the clock, and a paper account whose orders fill on those bars."""
    import os

    from adapters.alpaca.emulator import AlpacaEmulator
    from adapters.alpaca.keys import KEY_ENV, SECRET_ENV

    clock = _clock(clock_start, clock_speed)
    target = _emulated_store(store)
    key, secret = os.environ.get(KEY_ENV), os.environ.get(SECRET_ENV)
    emulator = AlpacaEmulator(
        target, clock, key=key or None, secret=secret or None, rest_port=rest_port,
        stream_port=stream_port, cash=cash,
    )  # fmt: skip
    emulator.start()
    start = f" --clock-start {clock_start}" if clock_start else ""
    speed = f" --clock-speed {clock_speed:g}" if clock_speed != 1.0 else ""
    out.print(f"Alpaca emulator serving {escape(str(target.root))} on 127.0.0.1")
    out.print(f"  REST   {emulator.rest_url}\n  stream {emulator.stream_url}")
    out.print(f"  trade updates {emulator.trading_stream_url} (orders on the REST port)")
    out.print(
        "keys: " + ("those in the environment" if key else "any (none set in the environment)")
    )
    out.print("In another terminal (with a config whose api_config.data_api is 'alpaca'):")
    out.print(f"  export SIMCORE_ALPACA_DATA_URL={emulator.rest_url}")
    out.print(f"  export SIMCORE_ALPACA_STREAM_URL={emulator.stream_url}")
    out.print(f"  export SIMCORE_ALPACA_TRADING_URL={emulator.rest_url}")
    out.print(f"  export SIMCORE_ALPACA_TRADING_STREAM_URL={emulator.trading_stream_url}")
    out.print(f"  simcore live CONFIG{start}{speed}")
    _serve_until_interrupted(emulator)


@emulate_app.command("polygon")
def emulate_polygon(
    clock_start: ClockStart = None,
    clock_speed: ClockSpeed = 1.0,
    rest_port: Annotated[int, typer.Option(help="REST port on 127.0.0.1 (0: any free).")] = 0,
    store: StoreOption = None,
) -> None:
    """Serve the store as Polygon's aggregates REST API and stocks websocket on 127.0.0.1:
    minute and second aggregates at the clock, quotes and trades at their time."""
    import os

    from adapters.polygon.emulator import PolygonEmulator
    from adapters.polygon.keys import KEY_ENV

    clock = _clock(clock_start, clock_speed)
    target = _emulated_store(store)
    key = os.environ.get(KEY_ENV) or None
    emulator = PolygonEmulator(target, clock, key=key, rest_port=rest_port).start()
    start = f" --clock-start {clock_start}" if clock_start else ""
    speed = f" --clock-speed {clock_speed:g}" if clock_speed != 1.0 else ""
    out.print(f"Polygon emulator serving {escape(str(target.root))} on 127.0.0.1")
    out.print(f"  REST   {emulator.rest_url}\n  stream {emulator.stream_url}")
    out.print(f"key: {'the one in the environment' if key else 'any (none set)'} ({KEY_ENV})")
    out.print("In another terminal (with a config whose api_config.data_api is 'polygon'):")
    out.print(f"  export SIMCORE_POLYGON_URL={emulator.rest_url}")
    out.print(f"  export SIMCORE_POLYGON_STREAM_URL={emulator.stream_url}")
    out.print(f"  simcore live CONFIG{start}{speed}")
    _serve_until_interrupted(emulator)


@emulate_app.command("schwab")
def emulate_schwab(
    clock_start: ClockStart = None,
    clock_speed: ClockSpeed = 1.0,
    rest_port: Annotated[int, typer.Option(help="REST port on 127.0.0.1 (0: any free).")] = 0,
    token: Annotated[
        Path, typer.Option(help="Write a schwab-py token file for the emulator here.")
    ] = Path("schwab-emulator-token.json"),
    store: StoreOption = None,
) -> None:
    """Serve the store as Schwab's price-history API and streamer on 127.0.0.1, and write a
    token file that the emulator accepts (schwab-py's format)."""
    from adapters.schwab.emulator import SchwabEmulator

    clock = _clock(clock_start, clock_speed)
    emulator = SchwabEmulator(_emulated_store(store), clock, rest_port=rest_port).start()
    emulator.token_file(token)
    start = f" --clock-start {clock_start}" if clock_start else ""
    speed = f" --clock-speed {clock_speed:g}" if clock_speed != 1.0 else ""
    out.print(
        f"Schwab emulator on 127.0.0.1: REST {emulator.rest_url}, streamer {emulator.stream.url}"
    )
    out.print(f"token file for it: {escape(str(token))}")
    out.print("In another terminal (with a config whose api_config.data_api is 'schwab'):")
    out.print(f"  export SIMCORE_SCHWAB_URL={emulator.rest_url} SCHWAB_TOKEN_PATH={token}")
    out.print("  export SCHWAB_API_KEY=any SCHWAB_APP_SECRET=any")
    out.print(f"  simcore live CONFIG{start}{speed}")
    _serve_until_interrupted(emulator)


def _emulated_store(store: Path | None):
    """The store an emulator serves: --store, else the bundled sample (generated if absent)."""
    from adapters.local.sample import ensure_sample

    target = _store(store)
    if store is None and ensure_sample(target) is not None:
        out.print(f"[dim]generated the bundled sample into {escape(str(target.root))}[/]")
    return target


def _serve_until_interrupted(emulator) -> None:
    import threading

    out.print("Ctrl-C stops the emulator.")
    try:
        with _interruptible():
            threading.Event().wait()
    except KeyboardInterrupt:
        out.print("emulator stopped")
    finally:
        emulator.stop()


# ---------------------------------------------------------------------- data fetch


@data_app.command("fetch")
def data_fetch(
    config_file: Annotated[Path, typer.Argument(metavar="CONFIG", help="Session config JSON.")],
    data_url: DataUrl = None,
    store: StoreOption = None,
) -> None:
    """Fetch from the provider (Alpaca, Polygon, Schwab) everything a backtest of CONFIG reads
    (once; cached in the store)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from adapters.sources import AlpacaEndpoints, data_source
    from simcore.config import load_config
    from simcore.fetch_plan import fetch_plan
    from simcore.system import SystemManager

    config = load_config(config_file)
    if config.api_config.data_api == "local":
        raise UserError(
            f"{config_file}: api_config.data_api is 'local': its bars are in the store already "
            "(`simcore data fetch` fetches from a provider)"
        )
    if config.mode != "backtest":
        raise UserError(f"{config_file}: a live config fetches its history before each session")
    target = _store(store)
    system = SystemManager(config)
    tm = system.get_time_manager()
    source = data_source(config, target, tm, AlpacaEndpoints.resolve(data_url))
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
