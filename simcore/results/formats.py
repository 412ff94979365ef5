"""How the results show a figure, in one place: the console summary, the report and the sweep
page format money, percentages and ratios alike, and label the statistics alike."""

from __future__ import annotations

# the summary's statistics, as they are labelled and formatted (kind: pct, money, ratio, n)
STATISTICS = (
    ("start_equity", "Start equity", "money"),
    ("end_equity", "End equity", "money"),
    ("net_profit", "Net profit", "money"),
    ("total_return", "Total return", "pct"),
    ("cagr", "CAGR", "pct"),
    ("volatility", "Volatility (annualised)", "pct"),
    ("sharpe", "Sharpe", "ratio"),
    ("sortino", "Sortino", "ratio"),
    ("max_drawdown", "Max drawdown", "pct"),
    ("trades", "Round trips", "n"),
    ("win_rate", "Win rate", "pct"),
    ("profit_factor", "Profit factor", "ratio"),
    ("average_win", "Average win", "money"),
    ("average_loss", "Average loss", "money"),
    ("fees", "Fees", "money"),
    ("turnover", "Turnover", "ratio"),
    ("exposure", "Exposure", "pct"),
)
KIND_OF = {key: kind for key, _, kind in STATISTICS}


def format_value(value: object, kind: str) -> str:
    """``value`` as a figure of ``kind`` (pct: 0.0123 -> 1.23%); "-" when there is none."""
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if kind == "pct":
        return f"{float(value) * 100:.2f}%"
    if kind in ("money", "ratio"):
        return f"{float(value):,.2f}"
    if kind == "signed":
        return f"{float(value):+,.2f}"
    if kind == "n":
        return f"{int(value):,}"
    return str(value)


def money(value: object) -> str:
    return format_value(value, "money")


def signed(value: object) -> str:
    return format_value(value, "signed")


def pct(value: object) -> str:
    return format_value(value, "pct")


def ratio(value: object) -> str:
    return format_value(value, "ratio")


def plural(count: int, noun: str) -> str:
    """``1 session``, ``2 sessions``."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")
