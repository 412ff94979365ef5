"""The end of a run on the console, in the order a trader reads: what ran and when, the money,
the risk, the trades, the orders and what refused them, the benchmark, the warnings. The
design's performance report of the engine comes after it, unchanged. Times are the
exchange's wall clock."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from simcore.results.formats import money, pct, plural, ratio, signed
from simcore.time import TimeManager


def trader_summary(summary: dict, tables: dict[str, pl.DataFrame], tm: TimeManager) -> str:
    """The money first: the run's strategy, period, equity, drawdown (exchange time), Sharpe,
    trades, orders with the rules that refused most, the benchmark and the warnings."""
    stats = summary.get("statistics") or {}
    days = summary.get("trading_days", [])
    period = f"{days[0]} to {days[-1]}" if len(days) > 1 else (days[0] if days else "no session")
    lines = [
        f"{summary.get('strategy', '-')} — {summary.get('session_name', '')}",
        "=" * 50,
        f"  period     {period}: {plural(len(days), 'trading day')}, "
        f"{plural(len(summary.get('symbols', [])), 'symbol')}, prices {summary.get('price_adjustment', '-')}, broker "
        f"{summary.get('broker', '-')}",
        f"  equity     {money(stats.get('start_equity'))} -> {money(stats.get('end_equity'))}"
        f"   net {signed(stats.get('net_profit'))} ({pct(stats.get('total_return'))})",
        f"  drawdown   {pct(stats.get('max_drawdown'))}"
        + _span(stats.get("max_drawdown_peak"), stats.get("max_drawdown_trough"), tm),
        f"  Sharpe     {ratio(stats.get('sharpe'))}   Sortino {ratio(stats.get('sortino'))}   "
        f"volatility {pct(stats.get('volatility'))}   CAGR {pct(stats.get('cagr'))}",
        f"  trades     {plural(stats.get('trades', 0), 'round trip')}, win rate "
        f"{pct(stats.get('win_rate'))}, profit factor {ratio(stats.get('profit_factor'))}, "
        f"fees {money(stats.get('fees'))}",
        f"  orders     {summary.get('orders', 0):,} placed, {summary.get('fills', 0):,} fills, "
        f"{summary.get('rejections', 0):,} rejected" + _top_rules(tables.get("rejections")),
    ]
    bench = summary.get("benchmark")
    if bench:
        lines.append(
            f"  benchmark  {bench['symbol']} {pct(bench.get('total_return'))}   alpha "
            f"{pct(bench.get('alpha'))}   beta {ratio(bench.get('beta'))}   correlation "
            f"{ratio(bench.get('correlation'))}   information ratio "
            f"{ratio(bench.get('information_ratio'))}"
        )
    for warning in summary.get("warnings", ()):
        lines.append(f"  warning: {warning}")
    lines.append("=" * 50)
    return "\n".join(lines)


def _span(peak: str | None, trough: str | None, tm: TimeManager) -> str:
    if not trough:
        return ""
    start = _local(peak, tm) if peak else "the start"
    return f"  (from {start} to {_local(trough, tm)} {tm.timezone})"


def _local(moment: str, tm: TimeManager) -> str:
    return f"{tm.to_system_tz(datetime.fromisoformat(moment)):%Y-%m-%d %H:%M}"


def _top_rules(rejections: pl.DataFrame | None) -> str:
    if rejections is None or rejections.is_empty():
        return ""
    counts = rejections.group_by("rule").len().sort(["len", "rule"], descending=[True, False])
    shown = ", ".join(f"{rule} {n}" for rule, n in counts.head(3).iter_rows())
    return f" (by rule: {shown})"
