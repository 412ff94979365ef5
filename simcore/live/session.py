"""A live session from a config: the provider's feed and history, the live runtime, results.

Used by ``simcore live``. The strategy, the components and the outputs are those of a backtest;
what differs is the clock (``LiveClock``: the real one, or a rehearsal start and rate), the data
source (the provider's history through the local store, its live stream for the session) and
three more tables: ``corrections`` (bars written after their minute was released: late bars,
updated bars, gap fills), ``gap_fills`` (every gap and how it ended) and ``feed`` figures in
``metrics.json`` (latency, release delays, reconnects).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from simcore.engine.analysis import Strategy
from simcore.engine.metrics import percentiles
from simcore.errors import UserError
from simcore.live.intake import LiveIntake
from simcore.live.runtime import LiveRuntime
from simcore.providers import GapSource, LiveFeed
from simcore.runtime.run import RunHooks, RunResult, run_session
from simcore.runtime.system import SystemManager
from simcore.store.parquet import ParquetStore
from simcore.time import LiveClock

CORRECTION_SCHEMA = {
    "received": pl.Int64,
    "symbol": pl.String,
    "interval": pl.String,
    "bar": pl.Int64,
    "kind": pl.String,
    "old_close": pl.Float64,
    "new_open": pl.Float64,
    "new_high": pl.Float64,
    "new_low": pl.Float64,
    "new_close": pl.Float64,
    "new_volume": pl.Float64,
}
GAP_FILL_SCHEMA = {
    "session_date": pl.Date,
    "symbol": pl.String,
    "interval": pl.String,
    "bar": pl.Int64,
    "attempts": pl.Int64,
    "outcome": pl.String,
}


@dataclass(frozen=True)
class LiveOptions:
    sessions: int = 1  # how many sessions to run (from the current or next one)
    grace_seconds: float = 2.0  # session-clock seconds a minute waits for late bars ...
    min_grace_wall_seconds: float = 0.05  # ... but never less wall time (fast rehearsals)
    lead_seconds: float = 60.0  # how long before the open history is loaded
    mute_minutes: int = 3  # minutes without a bar for any symbol before the feed is reconnected
    refresh_seconds: float = 0.0  # wall seconds between writes of the results so far (0: never)
    # a resumed session: the records of the journal it continues (simcore.live.journal)
    resume: list[dict] | None = None
    # with resume: stop once the journal is replayed and the broker asked what happened (the
    # killed session's results and report, without going on: no new data, no order sent)
    stop_after_replay: bool = False
    refreshed: Callable[[Path], None] | None = None  # after each such write (the report)


def run_live(
    system: SystemManager,
    store: ParquetStore,
    strategy: Strategy,
    source,
    feed: LiveFeed,
    clock: LiveClock,
    gap_source: GapSource | None = None,
    out_dir: Path | None = None,
    options: LiveOptions | None = None,
    runtime_ready: Callable[[LiveRuntime], None] | None = None,
    broker_factory: Callable | None = None,
) -> RunResult:
    """Run ``options.sessions`` live sessions, or until Ctrl-C (a KeyboardInterrupt in this
    thread: everything received is released and written, and the interrupt re-raised)."""
    config = system.config
    if config.mode != "live":
        raise UserError(
            f"{config.session_name!r} has mode {config.mode!r}: `simcore live` runs mode 'live'"
        )
    trade_api = config.api_config.trade_api
    if trade_api != "paper" and broker_factory is None:
        raise UserError(f"trade_api {trade_api!r} needs its broker (`simcore live` builds it)")
    options = options or LiveOptions()
    gaps = config.session_data_config.gap_filler
    corrections: list[tuple] = []
    gap_fills: list[tuple] = []
    holder: dict[str, LiveRuntime] = {}
    ticks_received = {"quote": 0, "trade": 0}  # quotes and trades the sessions took in

    def build(pipeline) -> LiveRuntime:
        runtime = LiveRuntime(
            pipeline,
            feed,
            clock,
            gap_source if gaps.enable_session_quality else None,
            lead_seconds=options.lead_seconds,
            mute_slots=options.mute_minutes,
            retry_interval_ns=gaps.retry_interval_seconds * 10**9,
            refresh=lambda day: hooks.write_interim(day) if hooks.write_interim else None,
            refresh_seconds=options.refresh_seconds,
            journal_dir=out_dir,
            resume=options.resume,
            stop_after_replay=options.stop_after_replay,
        )
        holder["runtime"] = runtime
        if runtime_ready is not None:
            runtime_ready(runtime)
        return runtime

    def session_ended(day: date, system: SystemManager) -> None:
        c = system.components
        intake = c.coordinator.feed
        if intake.ticks is not None:
            for kind, count in intake.ticks.received.items():
                ticks_received[kind] += count
        for stream in intake.streams.values():
            for k in stream.counts.corrections:
                old_close = k.old[3] if k.old else None
                corrections.append(
                    (k.received_ns, k.symbol, k.interval, k.bar_ns, k.kind, old_close, *k.new)
                )
        for row in c.quality.gap_fill_rows():
            gap_fills.append((day, *row))

    def stopped_early(system: SystemManager) -> None:
        runtime = holder.get("runtime")
        if runtime is not None:
            runtime.drain()
            runtime.close_journal("stopped")

    def tables(system: SystemManager) -> dict[str, pl.DataFrame]:
        time_ns = pl.Datetime("ns", "UTC")
        return {
            "corrections": pl.DataFrame(corrections, schema=CORRECTION_SCHEMA, orient="row")
            .with_columns(pl.col("received").cast(time_ns), pl.col("bar").cast(time_ns))
            .sort("received", "symbol", "bar"),
            "gap_fills": pl.DataFrame(gap_fills, schema=GAP_FILL_SCHEMA, orient="row")
            .with_columns(pl.col("bar").cast(time_ns))
            .sort("session_date", "symbol", "bar"),
        }

    def metrics(system: SystemManager) -> dict[str, object]:
        runtime = holder.get("runtime")
        if runtime is None:
            return {}
        f = runtime.figures
        return {
            "live": {
                "clock_speed": clock.speed,
                "rehearsal": clock.rehearsal,
                "releases": f.releases,
                "release_delay_ms": percentiles(f.release_delay_ms),
                "reconnects": [{"at": ns, "why": why} for ns, why in f.reconnects],
                "gap_fill_requests": f.fill_requests,
                "gap_fill_errors": f.fill_errors,
                "overruns": len(runtime.overruns),
                "refreshes": runtime.refreshes,
                "journal": runtime.keeper.position(),
                "quotes_received": ticks_received["quote"],
                "trades_received": ticks_received["trade"],
            }
        }

    hooks = RunHooks(session_ended, stopped_early, tables, metrics, options.refreshed)
    grace_ns = int(max(options.grace_seconds, options.min_grace_wall_seconds * clock.speed) * 1e9)

    def intake(source, session_data, metrics) -> LiveIntake:
        return LiveIntake(source, session_data, metrics, system.get_time_manager(), grace_ns)

    return run_session(
        system,
        store,
        strategy,
        source,
        out_dir,
        None,
        build,
        hooks,
        broker_factory if trade_api != "paper" else None,
        intake,
        options.sessions,
        live_day=date.fromisoformat(options.resume[0]["day"]) if options.resume else None,
    )
