"""What ``bars.parquet`` holds (``backtest_config.record_bars``): every bar, or the derived ones
with the store's files named in ``store_files``, by a rule decided before the first session."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from simcore.app.backtest import resolve_strategy, run_backtest
from simcore.config import load_config
from simcore.engine.analysis import Strategy
from simcore.results.recording import STREAMED_BARS_COPIED_UP_TO, copies_streamed_bars
from simcore.results.writing import frame_digest
from simcore.runtime.run import SPILL_FOLDER
from simcore.store.parquet import BARS_1M, ParquetStore

REPO = Path(__file__).resolve().parents[1]


def run(store: ParquetStore, folder: Path, rule: str):
    config = load_config(REPO / "configs" / "example_backtest.json")
    backtest = config.backtest_config.model_copy(update={"record_bars": rule})
    config = config.model_copy(update={"backtest_config": backtest})
    return run_backtest(config, store, resolve_strategy(config, None), folder)


def test_derived_bars_leave_the_streamed_ones_in_the_store_and_name_its_files(
    sample_store: ParquetStore, tmp_path: Path
):
    every = run(sample_store, tmp_path / "all", "all")
    derived = run(sample_store, tmp_path / "derived", "derived")
    assert (every.summary["bars_recorded"], derived.summary["bars_recorded"]) == ("all", "derived")
    assert every.summary["bars_streamed"] == derived.summary["bars_streamed"] > 0
    bars = every.tables["bars"]
    assert bars.filter(pl.col("source") == "STREAMED").height == every.summary["bars_streamed"]
    # written a session at a time as the run went, never held whole: read from bars.parquet
    assert isinstance(derived.tables["bars"], pl.LazyFrame)
    assert derived.tables["signals"].collect().equals(every.tables["signals"])  # spilled too
    assert every.tables["signals"].height > 0
    assert not (tmp_path / "derived" / SPILL_FOLDER).exists()  # the parts went
    written = derived.tables["bars"].collect()
    assert written.equals(bars.filter(pl.col("source") == "GENERATED"))
    manifests = [
        json.loads((tmp_path / f / "manifest.json").read_text()) for f in ("all", "derived")
    ]
    assert manifests[1]["tables"]["bars"] == {
        "file": "bars.parquet", "rows": written.height, "sha256": frame_digest(written)
    }  # fmt: skip
    for table in ("equity", "fills", "orders", "positions", "returns", "quality", "signals"):
        # the streamed bars still mark the equity and feed the strategy: the same run
        assert manifests[0]["tables"][table] == manifests[1]["tables"][table], table
    assert "store_files" not in manifests[0]["tables"]

    files = derived.tables["store_files"]
    config_symbols = tuple(every.summary["symbols"])
    minute_files = files.filter(pl.col("dataset") == "bars 1m")
    assert minute_files["symbol"].unique(maintain_order=True).to_list() == list(config_symbols)
    for row in files.iter_rows(named=True):
        content = (sample_store.root / row["file"]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == row["sha256"]
    streamed = sample_store.read(BARS_1M, list(config_symbols))
    assert streamed.height >= every.summary["bars_streamed"]  # the files hold every streamed bar


@pytest.mark.parametrize(
    ("rule", "symbols", "sessions", "base", "copies"),
    [
        ("auto", 250, 21, "1m", True),  # a month of 250 symbols' minutes: 2.0M bars
        ("auto", 1000, 62, "1m", False),  # a quarter of 1,000: 24M
        ("auto", 3000, 252, "1d", True),  # daily bars: one a session
        ("auto", 1, 252, "1s", False),  # 23,400 seconds a session: 5.9M
        ("all", 3000, 252, "1m", True),
        ("derived", 1, 1, "1m", False),
    ],
)
def test_the_rule_copies_the_streamed_bars_up_to_a_size(rule, symbols, sessions, base, copies):
    assert copies_streamed_bars(rule, symbols, sessions, base) is copies


def test_auto_copies_up_to_the_limit_exactly():
    at_limit = STREAMED_BARS_COPIED_UP_TO // 390
    assert copies_streamed_bars("auto", at_limit, 1, "1m")
    assert not copies_streamed_bars("auto", at_limit + 1, 1, "1m")


@pytest.mark.parametrize("seed", [3, 11])
def test_a_run_holding_overnight_marks_the_same_equity_without_the_streamed_bars(tmp_path, seed):
    """Without the streamed bars copied, the recorder keeps the closes of the symbols the
    account held in each session only: the equity must not change, positions carried
    overnight included."""
    from datetime import date

    from simcore.config import SessionConfig
    from simcore.store.synth import SynthSpec, write_synthetic
    from simcore.strategies.sma_cross import SmaCrossTrader
    from simcore.time import TimeManager

    symbols = tuple(f"S{i:03d}" for i in range(30))
    store = ParquetStore(tmp_path / "store")
    spec = SynthSpec(symbols, date(2025, 6, 2), date(2025, 6, 9), date(2025, 5, 1), seed=seed)
    write_synthetic(store, spec, TimeManager())
    results = {}
    for rule in ("all", "derived"):
        config = SessionConfig.model_validate(
            {
                "session_name": f"overnight {rule}",
                "backtest_config": {
                    "start_date": "2025-06-02", "end_date": "2025-06-09",
                    "speed_multiplier": 0.0, "record_bars": rule,
                },
                "session_data_config": {"symbols": list(symbols), "streams": ["1m", "5m"]},
                "trading_config": {
                    "max_buying_power": 1e6, "max_per_trade": 1e4, "max_per_symbol": 1e5,
                    "max_open_positions": 8,
                },
                "api_config": {"data_api": "local", "trade_api": "paper"},
            }
        )  # fmt: skip
        results[rule] = run_backtest(config, store, SmaCrossTrader())
    every, derived = results["all"].tables, results["derived"].tables
    overnight = every["positions"].filter(
        (pl.col("quantity") != 0) & (pl.col("session_date") < pl.col("session_date").max())
    )
    assert overnight.height > 0 and every["fills"].height > 20  # held across nights, traded
    for table in ("equity", "returns", "positions", "fills", "orders"):
        assert frame_digest(every[table]) == frame_digest(derived[table]), table
    assert results["derived"].summary["bars_streamed"] == results["all"].summary["bars_streamed"]


@pytest.mark.parametrize("rule", ["all", "derived"])
def test_the_symbols_that_streamed_no_bar_are_named_whatever_bars_holds(tmp_path, rule: str):
    """Streaming 1m only, a run without the streamed bars copied has an empty bars table: the
    warning of symbols with no bar comes from what was streamed, not from that table."""
    from datetime import date

    from simcore.config import SessionConfig
    from simcore.store.synth import SynthSpec, write_synthetic
    from simcore.time import TimeManager

    store = ParquetStore(tmp_path / "store")
    write_synthetic(store, SynthSpec(("AAA",), date(2025, 6, 2), date(2025, 6, 3)), TimeManager())
    write_synthetic(store, SynthSpec(("LATE",), date(2025, 6, 5), date(2025, 6, 5)), TimeManager())
    config = SessionConfig.model_validate(
        {
            "session_name": "one silent symbol",
            "backtest_config": {
                "start_date": "2025-06-02", "end_date": "2025-06-03", "speed_multiplier": 0.0,
                "record_bars": rule,
            },
            "session_data_config": {"symbols": ["AAA", "LATE"], "streams": ["1m"]},
            "trading_config": {
                "max_buying_power": 1e6, "max_per_trade": 1e4, "max_per_symbol": 1e5,
                "max_open_positions": 8,
            },
            "api_config": {"data_api": "local", "trade_api": "paper"},
        }
    )  # fmt: skip
    result = run_backtest(config, store, Strategy())
    assert result.summary["bars_streamed"] == 2 * 390
    assert result.tables["bars"].height == (780 if rule == "all" else 0)
    silent = [w for w in result.summary["warnings"] if "streamed no bar" in w]
    assert silent == [
        "LATE streamed no bar in the regular session of any day of the run: check the "
        "symbols, the dates, and the store (`simcore data info`)"
    ]
