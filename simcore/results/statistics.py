"""The statistics of a run, from its equity curve and its fills. Definitions (also in the
README), all in the account currency and with a zero risk-free rate:

* daily returns: the last equity of each session over the previous session's (the first
  session over the starting cash);
* total return: end / start - 1; CAGR: (end / start) ** (252 / sessions) - 1;
* volatility: the sample standard deviation of daily returns x sqrt(252); Sharpe: mean daily
  return / that standard deviation x sqrt(252); Sortino: mean daily return / the downside
  deviation (root mean square of the negative daily returns, zeros counted) x sqrt(252);
* maximum drawdown: the largest fall of the bar-by-bar equity from its running peak, as a
  fraction of that peak, with the peak's and the trough's times;
* a trade: a position from flat back to flat (a fill through zero closes one and opens the
  next); its PnL is what it realised less the fees of its fills; win rate, profit factor
  (gross profit / gross loss) and average win and loss are over closed trades;
* turnover: the value traded / the average equity; exposure: the share of bars that ended with
  a position.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl

from simcore.results.returns import TRADING_DAYS, returns_table
from simcore.results.trades import trade_pnls


@dataclass(frozen=True)
class Statistics:
    start_equity: float
    end_equity: float
    net_profit: float
    total_return: float
    cagr: float | None
    volatility: float | None
    sharpe: float | None
    sortino: float | None
    max_drawdown: float
    max_drawdown_peak: str | None
    max_drawdown_trough: str | None
    trades: int
    win_rate: float | None
    profit_factor: float | None
    average_win: float | None
    average_loss: float | None
    fees: float
    turnover: float
    exposure: float

    def as_dict(self) -> dict[str, object]:
        return {k: (round(v, 10) if isinstance(v, float) else v) for k, v in asdict(self).items()}

    def report(self) -> str:
        def pct(v: float | None) -> str:
            return "-" if v is None else f"{v * 100:.2f}%"

        def num(v: float | None, digits: int = 2) -> str:
            return "-" if v is None else f"{v:,.{digits}f}"

        return "\n".join(
            [
                "Trading Statistics:",
                "=" * 50,
                f"  - Equity: {num(self.start_equity)} -> {num(self.end_equity)} "
                f"(net profit {num(self.net_profit)}, {pct(self.total_return)})",
                f"  - CAGR: {pct(self.cagr)} | Volatility: {pct(self.volatility)} | "
                f"Sharpe: {num(self.sharpe)} | Sortino: {num(self.sortino)}",
                f"  - Max Drawdown: {pct(self.max_drawdown)} "
                f"({self.max_drawdown_peak or '-'} -> {self.max_drawdown_trough or '-'})",
                f"  - Trades: {self.trades} | Win Rate: {pct(self.win_rate)} | "
                f"Profit Factor: {num(self.profit_factor)}",
                f"  - Avg Win: {num(self.average_win)} | Avg Loss: {num(self.average_loss)} | "
                f"Fees: {num(self.fees)}",
                f"  - Turnover: {num(self.turnover)}x | Exposure: {pct(self.exposure)}",
                "=" * 50,
            ]
        )


def statistics(
    equity: pl.DataFrame,
    fills: pl.DataFrame,
    start: float,
    actions: pl.DataFrame | None = None,
    daily: pl.DataFrame | None = None,
) -> Statistics:
    """The run's statistics; ``daily``: its returns table (``simcore.results.returns``), made
    here from the equity when not given."""
    curve = equity["equity"].to_list()
    end = curve[-1] if curve else start
    if daily is None:
        daily = returns_table(equity, start)
    returns = daily["return"].drop_nulls().to_list()
    sessions = len(returns)
    cagr = (end / start) ** (TRADING_DAYS / sessions) - 1 if sessions and end > 0 else None
    volatility = sharpe = sortino = None
    if sessions >= 2:
        mean = sum(returns) / sessions
        std = math.sqrt(sum((r - mean) ** 2 for r in returns) / (sessions - 1))
        volatility = std * math.sqrt(TRADING_DAYS)
        sharpe = mean / std * math.sqrt(TRADING_DAYS) if std > 0 else None
        downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in returns) / sessions)
        sortino = mean / downside * math.sqrt(TRADING_DAYS) if downside > 0 else None
    drawdown, peak_at, trough_at = _max_drawdown(equity, start)
    pnls = trade_pnls(fills, actions)
    wins, losses = [p for p in pnls if p > 0], [p for p in pnls if p < 0]
    fees = float(fills["fee"].sum()) if fills.height else 0.0
    traded = float((fills["quantity"] * fills["price"]).abs().sum()) if fills.height else 0.0
    average_equity = sum(curve) / len(curve) if curve else start
    return Statistics(
        start_equity=start,
        end_equity=end,
        net_profit=end - start,
        total_return=end / start - 1,
        cagr=cagr,
        volatility=volatility,
        sharpe=sharpe,
        sortino=sortino,
        max_drawdown=drawdown,
        max_drawdown_peak=peak_at,
        max_drawdown_trough=trough_at,
        trades=len(pnls),
        win_rate=len(wins) / len(pnls) if pnls else None,
        profit_factor=sum(wins) / -sum(losses) if losses else None,
        average_win=sum(wins) / len(wins) if wins else None,
        average_loss=sum(losses) / len(losses) if losses else None,
        fees=fees,
        turnover=traded / average_equity if average_equity else 0.0,
        exposure=float(equity["invested"].mean()) if equity.height else 0.0,
    )


def _max_drawdown(equity: pl.DataFrame, start: float) -> tuple[float, str | None, str | None]:
    """The deepest fall from a running peak (the starting equity the first peak): (fall, when
    the peak was set, when the fall was deepest); the first of equal falls."""
    values = equity["equity"].to_numpy().astype(np.float64, copy=False)
    if not values.size:
        return (0.0, None, None)
    before = np.maximum.accumulate(np.concatenate(([start], values[:-1])))  # peak before each
    peaks = np.maximum(before, values)
    with np.errstate(divide="ignore", invalid="ignore"):
        falls = np.where(peaks > 0, values / peaks - 1, 0.0)
    worst = int(np.argmin(falls))
    if not falls[worst] < 0.0:
        return (0.0, None, None)
    rises = np.flatnonzero(values[: worst + 1] > before[: worst + 1])  # a new peak is set
    times = equity["timestamp"]
    peak_at = times[int(rises[-1])] if rises.size else None
    return (float(falls[worst]), _iso(peak_at), _iso(times[worst]))


def _iso(moment) -> str | None:
    return None if moment is None else moment.isoformat()
