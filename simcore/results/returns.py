"""Daily returns: the table the statistics are computed from, and a benchmark beside it.

``returns.parquet`` holds, for every session of the run, the last equity of the session, its
return over the previous session's (the first over the starting cash) and, when the run has a
benchmark (``session_data_config.benchmark``, ``--benchmark``), the benchmark's close and its
return over the previous session's close: a symbol of the store held over the same sessions,
with the run's price adjustment. ``Results.returns()`` gives the returns as a pandas Series
that QuantStats, pyfolio and empyrical take as they are.

Against a benchmark, with ``r`` the run's daily returns and ``b`` the benchmark's, 252
sessions a year and a zero risk-free rate (QuantStats' definitions, except where noted):

* beta: cov(r, b) / var(b) (sample covariance); alpha: (mean(r) - beta x mean(b)) x 252;
* correlation: Pearson's, of r and b;
* tracking error: the sample standard deviation of r - b, x sqrt(252);
* information ratio: mean(r - b) / std(r - b) x sqrt(252) (QuantStats does not annualise it:
  divide by sqrt(252) to compare).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from datetime import date

import numpy as np
import polars as pl

TRADING_DAYS = 252
RETURNS_SCHEMA = {
    "session_date": pl.Date,
    "equity": pl.Float64,
    "return": pl.Float64,
    "benchmark_close": pl.Float64,
    "benchmark_return": pl.Float64,
}


def returns_table(
    equity: pl.DataFrame, start: float, benchmark: dict[date, float] | None = None
) -> pl.DataFrame:
    """One row per session: its last equity, its return, and the benchmark's (null without)."""
    daily = equity.group_by("session_date", maintain_order=True).agg(pl.col("equity").last())
    days = daily["session_date"].to_list()
    levels = [start, *daily["equity"].to_list()]
    returns = [b / a - 1 if a else None for a, b in itertools.pairwise(levels)]
    closes = [benchmark.get(d) if benchmark else None for d in days]
    previous = (benchmark or {}).get(None)  # the close before the first session
    bench_returns = []
    for close in closes:
        bench_returns.append(close / previous - 1 if close and previous else None)
        previous = close if close else previous
    return pl.DataFrame(
        {
            "session_date": days,
            "equity": daily["equity"],
            "return": returns,
            "benchmark_close": closes,
            "benchmark_return": bench_returns,
        },
        schema=RETURNS_SCHEMA,
    )


@dataclass(frozen=True)
class BenchmarkStatistics:
    symbol: str
    total_return: float | None
    alpha: float | None
    beta: float | None
    correlation: float | None
    tracking_error: float | None
    information_ratio: float | None

    def as_dict(self) -> dict[str, object]:
        return {k: (round(v, 10) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def benchmark_statistics(returns: pl.DataFrame, symbol: str) -> BenchmarkStatistics:
    """The run against its benchmark, over the sessions both have a return for."""
    both = returns.drop_nulls(["return", "benchmark_return"])
    r = both["return"].to_numpy()
    b = both["benchmark_return"].to_numpy()
    total = None
    if returns["benchmark_return"].drop_nulls().len():
        total = float(np.prod(1 + returns["benchmark_return"].drop_nulls().to_numpy()) - 1)
    if r.size < 2:
        return BenchmarkStatistics(symbol, total, None, None, None, None, None)
    matrix = np.cov(r, b)
    beta = float(matrix[0, 1] / matrix[1, 1]) if matrix[1, 1] else None
    alpha = float((r.mean() - beta * b.mean()) * TRADING_DAYS) if beta is not None else None
    spread = np.std(r, ddof=1) * np.std(b, ddof=1)
    correlation = float(matrix[0, 1] / spread) if spread else None
    active = r - b
    deviation = float(np.std(active, ddof=1))
    tracking = deviation * math.sqrt(TRADING_DAYS)
    information = float(active.mean() / deviation * math.sqrt(TRADING_DAYS)) if deviation else None
    return BenchmarkStatistics(symbol, total, alpha, beta, correlation, tracking, information)


def benchmark_closes(source, symbol: str, days: list[date], time_manager) -> dict:
    """The benchmark's close on each day, and on the trading day before the first (key None),
    from the store through the run's data source (so with its price adjustment): daily bars
    where the store has them, else each session's last minute bar."""
    if not days:
        return {}
    before = time_manager.get_previous_trading_date(days[0])
    wanted = [before, *days]
    daily = source.history([symbol], "1d", wanted).select("day", "close").collect()
    if daily.is_empty():
        daily = (
            source.history([symbol], "1m", wanted)
            .sort("timestamp")
            .group_by("day", maintain_order=True)
            .agg(pl.col("close").last())
            .collect()
        )
    closes = dict(daily.iter_rows())
    found = {d: closes[d] for d in days if closes.get(d)}
    if closes.get(before):
        found[None] = closes[before]
    return found
