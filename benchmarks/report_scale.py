"""The run report at scale: a results folder of 500 symbols x 1 year of 1m bars, its page built
and opened in headless chromium.

    python -m benchmarks.report_scale                       # 500 symbols, 252 sessions
    python -m benchmarks.report_scale --symbols 50 --sessions 20

The folder is written directly (a random walk per symbol on the calendar's sessions, an equity
curve per minute, a fill every hour per symbol, a quality row per symbol and session), with
the columns the engine writes, so the report reads what a real run of that size would leave
(running the engine for 49M bars is the pipeline benchmark's business, not this one's).
It has the tables the tearsheet reads too: daily returns against a benchmark (the first
symbol), each symbol's position at each session's end, and the fills, which pair into round
trips. Measured: the page's build time, its size, and the time chromium takes to open it from the
file and draw every chart (``--dump-dom`` returns once the page's scripts are done; the page
counts its charts). Wall-clock figures: measured here, never asserted by a test.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from simcore.results.report import write_report
from simcore.results.returns import benchmark_statistics, returns_table
from simcore.time import TimeManager


def write_run(folder: Path, symbols: int, sessions: int) -> int:
    """A results folder of ``symbols`` x ``sessions`` of 1m bars; returns the bar count."""
    tm = TimeManager()
    frame = tm.sessions_frame(date(2024, 1, 2), date(2025, 12, 31)).head(sessions)
    opens = frame["open"].dt.epoch("ns").to_numpy()
    closes = frame["close"].dt.epoch("ns").to_numpy()
    minutes = (closes - opens) // 60_000_000_000
    stamps = np.concatenate(
        [o + np.arange(m) * 60_000_000_000 for o, m in zip(opens, minutes, strict=True)]
    )
    days = np.repeat(frame["session_date"].to_numpy(), minutes)
    rng = np.random.default_rng(7)
    names = [f"S{i:04d}" for i in range(symbols)]
    folder.mkdir(parents=True)
    parts = []
    for name in names:
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.0005, stamps.size)))
        parts.append(
            pl.DataFrame(
                {
                    "session_date": days,
                    "symbol": name,
                    "interval": "1m",
                    "source": "STREAMED",
                    "timestamp": pl.Series(stamps).cast(pl.Datetime("ns", "UTC")),
                    "open": close,
                    "high": close * 1.0005,
                    "low": close * 0.9995,
                    "close": close,
                    "volume": 100.0,
                }
            )
        )
    bars = pl.concat(parts)
    bars.write_parquet(folder / "bars.parquet")
    equity = 1e6 * np.exp(np.cumsum(rng.normal(0, 0.0002, stamps.size)))
    equity_table = pl.DataFrame(
        {"session_date": days, "timestamp": pl.Series(stamps).cast(pl.Datetime("ns", "UTC")),
         "cash": equity, "market_value": 0.0, "equity": equity, "invested": True}
    )  # fmt: skip
    equity_table.write_parquet(folder / "equity.parquet")
    session_closes = (  # each symbol's last close of each session
        bars.group_by("symbol", "session_date", maintain_order=True).agg(pl.col("close").last())
    )
    benchmark = dict(
        session_closes.filter(pl.col("symbol") == names[0]).select("session_date", "close").rows()
    )
    returns_table(equity_table, 1e6, benchmark | {None: 100.0}).write_parquet(
        folder / "returns.parquet"
    )
    session_closes.with_columns(  # every symbol held through the run: 10 shares bought at 100
        quantity=pl.lit(10.0), average_price=pl.lit(100.0), market_value=pl.col("close") * 10,
        unrealized_pnl=(pl.col("close") - 100) * 10, realized_pnl=pl.lit(0.0), fees=pl.lit(0.0),
    ).write_parquet(folder / "positions.parquet")  # fmt: skip
    hourly = stamps[::60]
    fills = pl.DataFrame(
        {
            "time": pl.Series(np.tile(hourly, symbols)).cast(pl.Datetime("ns", "UTC")),
            "order_id": [f"o{k}" for k in range(hourly.size * symbols)],
            "symbol": np.repeat(names, hourly.size),
            "side": np.tile(np.array(["buy", "sell"])[np.arange(hourly.size) % 2], symbols),
            "quantity": 10.0, "price": 100.0, "fee": 0.0,
        }
    )  # fmt: skip
    fills.write_parquet(folder / "fills.parquet")
    pl.DataFrame(
        {"session_date": np.tile(frame["session_date"].to_numpy(), symbols),
         "symbol": np.repeat(names, sessions), "interval": "1m",
         "quality": rng.uniform(97, 100, sessions * symbols).round(2)}
    ).write_parquet(folder / "quality.parquet")  # fmt: skip
    pl.DataFrame({"symbol": names, "stream": "1m", "mark": "STREAMED"}).write_parquet(
        folder / "marking.parquet"
    )
    summary = {
        "session_name": f"report at scale: {symbols} symbols x {sessions} sessions",
        "symbols": names, "subscriptions": ["1m"], "timezone": tm.timezone,
        "trading_days": [d.isoformat() for d in frame["session_date"].to_list()],
        "status": "complete", "statistics": {"start_equity": 1e6},
        "bars_streamed": int(stamps.size * symbols),
        "benchmark": benchmark_statistics(pl.read_parquet(folder / "returns.parquet"), names[0])
        .as_dict(),
    }  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps({"summary": summary}))
    (folder / "metrics.json").write_text(
        json.dumps(
            {"sessions": [{"date": d, "wall_seconds": 0.1} for d in summary["trading_days"]]}
        )
    )
    return int(stamps.size * symbols)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--sessions", type=int, default=252)
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        started = time.perf_counter()
        bars = write_run(folder, args.symbols, args.sessions)
        print(f"results folder: {bars:,} bars written in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        page = write_report(folder)
        built = time.perf_counter() - started
        print(f"report built in {built:.1f} s: {page.stat().st_size / 1e6:.1f} MB")
        if chromium is None:
            print("chromium is not installed: the opening time is not measured")
            return
        flags = ["--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp}/profile"]
        started = time.perf_counter()
        dom = subprocess.run(
            [chromium, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
            timeout=300, check=True,
        ).stdout  # fmt: skip
        opened = time.perf_counter() - started
        body = re.search(r"<body[^>]*>", dom).group(0)
        errors = re.search(r'data-errors="(\d+)"', dom)
        print(f"chromium opened it and drew its charts in {opened:.1f} s ({body}); "
              f"script errors: {errors.group(1) if errors else 0}")  # fmt: skip


if __name__ == "__main__":
    main()
