"""What looked wrong in a run: the warnings every run ends with.

A run never ends silently on something its user should know: the trading days it chose when
they differ from the dates asked, symbols that streamed no bar, sessions of poor quality, bars
the store holds outside regular hours (not streamed), and annualised figures drawn from too few
sessions. The warnings are printed by the command, kept in the manifest's summary
(``summary.warnings``) and shown at the top of the report; ``--strict`` (or
``backtest_config.strict``) makes them fail the run.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from simcore.config import SessionConfig
from simcore.time import TimeManager

ANNUALISED_MINIMUM = 20  # sessions below which an annualised figure is mostly noise
ANNUALISED = ("cagr", "volatility", "sharpe", "sortino")  # the statistics' keys
SHOWN = 5  # names listed in one warning before "and N more"


def run_warnings(
    config: SessionConfig,
    time_manager: TimeManager,
    days: list[date],
    tables: dict[str, pl.DataFrame],
    bars_outside_session: int,
    extended_bars: dict[str, int],
    streamed_symbols: set[str],
) -> list[str]:
    """Every warning of a run, in a fixed order (they are part of its deterministic outputs).
    ``streamed_symbols``: those with a streamed bar (``bars`` may not hold them)."""
    warnings: list[str] = []
    if config.mode == "backtest" and days:
        warnings += days_chosen(config, time_manager, days)
    quality = tables["quality"].filter(~pl.col("interval").str.starts_with("historical"))
    streamed = set(tables["marking"].filter(pl.col("mark") == "STREAMED")["stream"])
    base = quality.filter(pl.col("interval").is_in(sorted(streamed - {"quotes", "ticks"})))
    silent = [s for s in config.session_data_config.symbols if s not in streamed_symbols]
    if silent:
        warnings.append(
            f"{_names(silent)} streamed no bar in the regular session of any day of the run: "
            "check the symbols, the dates, and the store (`simcore data info`)"
        )
    threshold = config.session_data_config.gap_filler.warn_quality_below
    poor = base.filter(pl.col("quality") < threshold, ~pl.col("symbol").is_in(silent))
    if poor.height:
        worst = poor.sort("quality", "session_date", "symbol").row(0, named=True)
        warnings.append(
            f"{poor.height} session(s) of a symbol ended with quality under {threshold:g}% "
            f"(the worst: {worst['symbol']} {worst['interval']} on {worst['session_date']}, "
            f"{worst['quality']:.2f}%; the gaps are in gaps.parquet)"
        )
    if bars_outside_session:
        warnings.append(
            f"{bars_outside_session:,} bar(s) flagged regular in the store fell outside their "
            "session's minutes and were not streamed (the store's extended flags disagree with "
            "the calendar: re-import them)"
        )
    extended = {s: n for s, n in sorted(extended_bars.items()) if n}
    if extended:
        total = sum(extended.values())
        warnings.append(
            f"{total:,} bar(s) of {_names(list(extended))} on these days are outside regular "
            "hours in the store and were not streamed; when the run has none in the regular "
            "session, the file was likely imported in the wrong timezone (`simcore data "
            f"import ... --tz {time_manager.timezone}`)"
        )
    if 0 < len(days) < ANNUALISED_MINIMUM and tables["fills"].height:
        warnings.append(
            f"CAGR, volatility, Sharpe and Sortino are annualised from {len(days)} session(s): "
            f"under {ANNUALISED_MINIMUM} they say little; read the total return and the trades"
        )
    return warnings


def days_chosen(config: SessionConfig, tm: TimeManager, days: list[date]) -> list[str]:
    """Where a backtest's trading days differ from the dates written (the design's rule: a
    date that is no trading day moves to the next one)."""
    bt = config.backtest_config
    notes = []
    for field, asked, chosen in (
        ("start_date", bt.start_date, days[0]),
        ("end_date", bt.end_date, days[-1]),
    ):
        if asked != chosen:
            why = "a holiday" if tm.is_holiday(asked) else f"a {asked:%A}"
            notes.append(
                f"backtest_config.{field} {asked} is not a trading day ({why}): the run "
                f"{'starts' if field == 'start_date' else 'ends'} on the next one, {chosen}"
            )
    return notes


def _names(symbols: list[str]) -> str:
    shown = ", ".join(symbols[:SHOWN])
    return shown + (f" and {len(symbols) - SHOWN} more" if len(symbols) > SHOWN else "")
