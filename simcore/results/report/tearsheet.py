"""The tearsheet's figures, from a results folder: what a trader reads first.

Everything is small and chart-ready: the daily returns (``returns.parquet``) give the benchmark
curve, the monthly and yearly returns, the rolling Sharpe and volatility and the distribution;
the bar-by-bar equity gives the worst drawdown periods; the positions give P&L by symbol, the
exposure and the number of positions; the fills give the round trips (``simcore.results.trades``)
and the fills table; the rejections are grouped by rule. Times are the exchange's wall clock.
Sections that do not apply return None and are left out of the page.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from simcore.results.formats import money, pct, plural, ratio
from simcore.results.report.data import MAX_ROWS, RunFiles, listed, local_ms
from simcore.results.returns import TRADING_DAYS
from simcore.results.trades import round_trips
from simcore.time import TimeManager

WORST_DRAWDOWNS = 5
HISTOGRAM_SESSIONS = 10  # fewer daily returns than this make no distribution worth drawing


def headline(run: RunFiles) -> list[tuple[str, str]]:
    """The figures a trader looks at first, formatted."""
    s = run.summary
    stats = s.get("statistics") or {}
    days = s.get("trading_days", [])
    rows = [
        ("strategy", s.get("strategy", "-")),
        ("period", f"{days[0]} to {days[-1]} ({plural(len(days), 'session')})" if days else "no session"),
        ("net profit", f"{money(stats.get('net_profit'))} ({pct(stats.get('total_return'))})"),
        ("max drawdown", pct(stats.get("max_drawdown"))),
        ("Sharpe", ratio(stats.get("sharpe"))),
        ("trades", f"{stats.get('trades', 0)} (win rate {pct(stats.get('win_rate'))})"),
        ("orders", f"{s.get('orders', 0):,} placed, {s.get('fills', 0):,} fills, "
                   f"{s.get('rejections', 0):,} rejected"),
    ]  # fmt: skip
    bench = s.get("benchmark")
    if bench:
        rows.append(("benchmark", f"{bench['symbol']} {pct(bench.get('total_return'))}"))
    return rows


def benchmark_rows(run: RunFiles) -> list[list[str]] | None:
    bench = run.summary.get("benchmark")
    if not bench:
        return None
    return [
        ["benchmark", bench["symbol"]],
        ["benchmark return", pct(bench.get("total_return"))],
        ["alpha (annualised)", pct(bench.get("alpha"))],
        ["beta", ratio(bench.get("beta"))],
        ["correlation", ratio(bench.get("correlation"))],
        ["information ratio", ratio(bench.get("information_ratio"))],
        ["tracking error", pct(bench.get("tracking_error"))],
    ]


def daily(run: RunFiles) -> dict[str, object] | None:
    """The daily series: the run's and the benchmark's growth of the starting equity, the
    returns, their monthly and yearly compounding, rolling figures, and a histogram."""
    table = run.table("returns")
    if table.is_empty():
        return None
    start = (run.summary.get("statistics") or {}).get("start_equity") or 1.0
    r = table["return"].fill_null(0.0).to_numpy()
    growth = start * np.cumprod(1 + r)
    equity = run.table("equity")
    closes = (  # each session's last bar, where its daily points are drawn
        equity.group_by("session_date", maintain_order=True)
        .agg(pl.col("timestamp").last())
        .select("session_date", local_ms("timestamp", run.timezone))
        if not equity.is_empty()
        else pl.DataFrame(schema={"session_date": pl.Date, "timestamp": pl.Int64})
    )
    at = dict(closes.iter_rows())
    out: dict[str, object] = {
        "times": [at.get(d) for d in table["session_date"].to_list()],
        "dates": table["session_date"].cast(pl.String).to_list(),
        "equity": np.round(growth, 2).tolist(),
        "returns": np.round(r, 8).tolist(),
    }
    b = table["benchmark_return"]
    if b.drop_nulls().len():
        out["benchmark"] = np.round(start * np.cumprod(1 + b.fill_null(0.0).to_numpy()), 2).tolist()
        out["benchmark_name"] = (run.summary.get("benchmark") or {}).get("symbol", "benchmark")
    months = (
        table.with_columns(
            pl.col("session_date").dt.year().alias("year"),
            pl.col("session_date").dt.month().alias("month"),
        )
        .group_by("year", "month", maintain_order=True)
        .agg(((1 + pl.col("return").fill_null(0.0)).product() - 1).alias("r"))
    )
    years = sorted(months["year"].unique().to_list())
    grid = {(y, m): r for y, m, r in months.iter_rows()}
    out["monthly"] = {
        "years": [str(y) for y in years],
        "z": [[_round(grid.get((y, m))) for m in range(1, 13)] for y in years],
    }
    yearly = months.group_by("year", maintain_order=True).agg(
        ((1 + pl.col("r")).product() - 1).alias("r")
    )
    out["yearly"] = {"years": [str(y) for y in yearly["year"]], "r": yearly["r"].round(6).to_list()}
    window = rolling_window(len(r))
    if window:
        out["rolling"] = {"window": window, **_rolling(r, window)}
    if len(r) >= HISTOGRAM_SESSIONS:
        counts, edges = np.histogram(r, bins=min(40, max(5, len(r) // 3)))
        out["histogram"] = {"counts": counts.tolist(), "edges": np.round(edges, 6).tolist()}
    return out


def rolling_window(sessions: int) -> int | None:
    """The rolling window, by the run's length: a month of sessions for a run of a quarter or
    more, a quarter for two years or more; none for fewer than 30 sessions."""
    if sessions < 30:
        return None
    return 63 if sessions >= 504 else 21 if sessions >= 63 else 10


def _rolling(r: np.ndarray, window: int) -> dict[str, list]:
    frame = pl.DataFrame({"r": r})
    mean = frame["r"].rolling_mean(window)
    std = frame["r"].rolling_std(window)
    sharpe = (mean / std * math.sqrt(TRADING_DAYS)).to_numpy()
    vol = (std * math.sqrt(TRADING_DAYS)).to_numpy()
    clean = lambda a: [None if not np.isfinite(v) else round(float(v), 6) for v in a]  # noqa: E731
    return {"sharpe": clean(sharpe), "volatility": clean(vol)}


def worst_drawdowns(run: RunFiles) -> dict[str, object] | None:
    """The deepest drawdown periods of the bar-by-bar equity, at most WORST_DRAWDOWNS: each
    from its peak to its trough and to its recovery (when it recovered), with its depth and
    its length (in sessions; within one session, in hours and minutes)."""
    equity = run.table("equity")
    if equity.is_empty():
        return None
    start = (run.summary.get("statistics") or {}).get("start_equity") or equity["equity"][0]
    values = np.concatenate(([start], equity["equity"].to_numpy()))
    times = equity.select(
        TimeManager.wall_clock_text_expr(pl.col("timestamp"), run.timezone, "%Y-%m-%d %H:%M")
    )["timestamp"].to_list()
    days = equity["session_date"].to_list()
    ns = equity["timestamp"].dt.epoch("ns").to_numpy()
    peak = np.maximum.accumulate(values)
    under = values < peak  # index 0 is the start, index k the equity's row k - 1
    periods = []
    i = 1
    while i < len(values):
        if not under[i]:
            i += 1
            continue
        first = i  # the first bar under the peak; the peak is the bar before it
        while i < len(values) and under[i]:
            i += 1
        trough = first + int(np.argmin(values[first:i]))
        recovered = i < len(values)  # index i is back at the peak
        last_row = i - 1 if recovered else len(values) - 2
        sessions = len(set(days[max(first - 2, 0) : last_row + 1]))
        minutes = int((ns[last_row] - ns[max(first - 2, 0)]) // 60_000_000_000)
        periods.append(
            (
                float(values[trough] / peak[trough] - 1),
                times[first - 2] if first >= 2 else "the start",
                times[trough - 1],
                times[i - 1] if recovered else "not yet",
                sessions,
                minutes,
            )
        )
    periods.sort(key=lambda p: p[0])
    rows = [[_depth(d), at, low, back, _length(n, m)] for d, at, low, back, n, m in periods]
    return {
        "columns": ["depth", "peak", "trough", "recovered", "length"],
        "rows": rows[:WORST_DRAWDOWNS],
        "total": len(rows),
    }


def by_symbol(run: RunFiles) -> dict[str, object] | None:
    """P&L by symbol at the run's end (realised + unrealised, net of fees), and the exposure
    and open positions at each session's end."""
    positions = run.table("positions")
    if positions.is_empty():
        return None
    last = positions.group_by("symbol").agg(pl.all().sort_by("session_date").last())
    pnl = last.with_columns(
        (pl.col("realized_pnl") + pl.col("unrealized_pnl") - pl.col("fees")).alias("pnl")
    ).sort("pnl")
    daily_equity = run.table("returns").select("session_date", "equity")
    per_day = (
        positions.group_by("session_date")
        .agg(
            pl.col("market_value").abs().sum().alias("gross"),
            (pl.col("quantity") != 0).sum().alias("open"),
        )
        .join(daily_equity, on="session_date", how="left")
        .sort("session_date")
    )
    at = dict(
        run.table("equity")
        .group_by("session_date", maintain_order=True)
        .agg(pl.col("timestamp").last())
        .select("session_date", local_ms("timestamp", run.timezone))
        .iter_rows()
    )
    return {
        "symbols": pnl["symbol"].to_list(),
        "pnl": pnl["pnl"].round(2).to_list(),
        "times": [at.get(d) for d in per_day["session_date"].to_list()],
        "exposure": (per_day["gross"] / per_day["equity"]).round(4).to_list(),
        "open": per_day["open"].to_list(),
    }


def trade_list(run: RunFiles) -> dict[str, object] | None:
    """The round trips, sortable on the page, each with its symbol (a click shows its chart)."""
    fills = run.table("fills")
    if fills.is_empty():
        return None
    actions = run.table("corporate_actions")
    equity = run.table("equity")
    trades = round_trips(
        fills,
        actions if not actions.is_empty() else None,
        equity["timestamp"] if not equity.is_empty() else None,
    ).with_columns(
        pl.col(pl.Float64).round(4),
    )
    shown = listed(trades, run.timezone)
    shown["times_ms"] = (
        trades.head(MAX_ROWS)
        .select(local_ms("entry_time", run.timezone), local_ms("exit_time", run.timezone))
        .rows()
    )
    return shown


def fills_list(run: RunFiles) -> dict[str, object] | None:
    fills = run.table("fills")
    if fills.is_empty():
        return None
    return listed(fills.sort("time"), run.timezone)


def rejections_by_rule(run: RunFiles) -> dict[str, object] | None:
    rejections = run.table("rejections")
    if rejections.is_empty():
        return None
    grouped = (
        rejections.sort("time")
        .group_by("rule", maintain_order=True)
        .agg(pl.len().alias("orders"), pl.col("symbol").n_unique().alias("symbols"),
             pl.col("message").first().alias("first refusal"))
        .sort("orders", descending=True)
    )  # fmt: skip
    return listed(grouped, run.timezone)


def _length(sessions: int, minutes: int) -> str:
    """A drawdown's length: sessions when it spans several, else its hours and minutes."""
    if sessions > 1:
        return f"{sessions} sessions"
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _depth(value: float) -> str:
    """A drawdown's depth with the decimals that show it (-0.0031%, -1.22%)."""
    digits = 2 if abs(value) >= 1e-4 else 4
    return f"{value * 100:.{digits}f}%"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
