"""A strategy and its config: mismatches refused before the run, the strategy's own errors
reported as the strategy's (callback, time, symbol, its traceback), and strategies from files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from simcore.app.backtest import resolve_strategy, run_backtest
from simcore.app.cli.main import main
from simcore.config import SessionConfig
from simcore.engine.analysis import HistoricalNeed, Strategy
from simcore.engine.indicators import IndicatorRequest
from simcore.engine.requirements import StrategyMismatch, config_problems
from simcore.errors import UserError
from simcore.strategies.loading import load_strategy
from simcore.strategies.relative_volume import RelativeVolumeBreakout

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = json.loads((REPO / "configs" / "example_backtest.json").read_text())


def example(**changes) -> SessionConfig:
    doc = json.loads(json.dumps(EXAMPLE))
    indicators = doc["session_data_config"]["historical"]["indicators"]
    for name, spec in changes.items():
        if spec is None:
            indicators.pop(name)
        else:
            indicators[name].update(spec)
    return SessionConfig.model_validate(doc)


def test_missing_or_differently_shaped_historical_indicator_is_refused_before_the_run(
    sample_store,
):
    strategy = RelativeVolumeBreakout()
    assert config_problems(example(), strategy) == []
    (missing,) = config_problems(example(avg_volume_intraday=None), strategy)
    assert missing[0] == "session_data_config.historical.indicators.avg_volume_intraday"
    assert "does not define it" in missing[1]
    (daily,) = config_problems(example(avg_volume_intraday={"granularity": "daily"}), strategy)
    assert daily == (
        "session_data_config.historical.indicators.avg_volume_intraday.granularity",
        "RelativeVolumeBreakout reads it with granularity 'minute', the config has 'daily'",
    )
    with pytest.raises(StrategyMismatch, match="avg_volume_intraday") as refused:
        run_backtest(example(avg_volume_intraday=None), sample_store, strategy)
    assert isinstance(refused.value, UserError)


class Demanding(Strategy):
    subscriptions = ("5m", "7m")
    reads = ("1h",)
    indicators = (
        IndicatorRequest("sma", "30m", "sma", period=0),
        IndicatorRequest("x", "5m", "nonsense"),
    )
    historical_indicators = (HistoricalNeed("high_52w", type="trailing_min"),)


def test_every_mismatch_is_listed_at_once_with_the_path_to_fix():
    doc = json.loads(json.dumps(EXAMPLE))
    doc["session_data_config"]["streams"] = ["1m", "5m"]
    problems = config_problems(SessionConfig.model_validate(doc), Demanding())
    paths = [path for path, _ in problems]
    assert paths.count("session_data_config.streams") == 2  # 1h read, 30m indicator
    assert "Demanding" in paths  # '7m' is no interval at all
    assert "Demanding.indicators[0]" in paths and "Demanding.indicators[1]" in paths
    assert "session_data_config.historical.indicators.high_52w.type" in paths


class BadOnBrvo(Strategy):
    subscriptions = ("5m",)

    def on_bar(self, ctx, symbol, interval, bar):
        if symbol == "BRVO":
            self.ratio(bar)

    def ratio(self, bar):
        return bar.close / 0


class BadBatch(Strategy):
    subscriptions = ("15m",)

    def on_bars(self, ctx, interval, symbols: np.ndarray):
        raise RuntimeError("batch went wrong")


class BadSessionStart(Strategy):
    def on_session_start(self, ctx, session):
        ctx.historical("ALFA", "no_such_indicator")


def single_day() -> SessionConfig:
    return SessionConfig.model_validate_json((REPO / "configs" / "single_day.json").read_text())


def test_an_exception_in_on_bar_is_the_strategys_error_with_time_symbol_and_traceback(
    sample_store,
):
    with pytest.raises(UserError) as failed:
        run_backtest(single_day(), sample_store, BadOnBrvo())
    message = str(failed.value)
    assert "BadOnBrvo failed in on_bar" in message
    # the first 5m bar of 2025-07-02 is complete at 09:35 New York time
    assert "time 2025-07-02T09:35:00-04:00, symbol BRVO, interval 5m" in message
    assert "ZeroDivisionError" in message
    assert "in ratio" in message and "return bar.close / 0" in message  # the user's frames
    assert "analysis.py" not in message  # not the engine's


def test_batch_and_session_callbacks_are_named_too(sample_store):
    with pytest.raises(UserError, match=r"BadBatch failed in on_bars \(.*symbols ALFA, BRVO"):
        run_backtest(single_day(), sample_store, BadBatch())
    with pytest.raises(UserError, match=r"(?s)failed in on_session_start.*no_such_indicator"):
        run_backtest(single_day(), sample_store, BadSessionStart())


def test_cli_strategy_error_exits_1_and_writes_what_was_produced(tmp_path, sample_store, capsys):
    strategy_file = tmp_path / "my_strategy.py"
    strategy_file.write_text(
        "from simcore.engine.analysis import Strategy\n\n"
        "class Broken(Strategy):\n"
        "    subscriptions = ('5m',)\n\n"
        "    def on_bar(self, ctx, symbol, interval, bar):\n"
        "        raise KeyError(symbol)\n"
    )
    out = tmp_path / "out"
    argv = [
        "backtest",
        str(REPO / "configs" / "single_day.json"),
        "--strategy",
        f"{strategy_file}:Broken",
        "--out",
        str(out),
        "--store",
        str(sample_store.root),
    ]
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "Broken failed in on_bar" in err and "my_strategy.py" in err
    assert f"what the run produced up to then is in {out}" in " ".join(err.split())
    manifest = json.loads((out / "manifest.json").read_text())  # complete files, marked failed
    assert manifest["summary"]["status"] == "failed"
    assert manifest["summary"]["error"].startswith("StrategyError: strategy")
    bars = pl.read_parquet(out / "bars.parquet")
    assert bars["timestamp"].max() < datetime(2025, 7, 2, 13, 35, tzinfo=UTC)  # up to 09:35 ET
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # nothing left aside


def test_strategies_load_from_files_and_their_import_errors_are_user_errors(tmp_path):
    good = tmp_path / "good.py"
    good.write_text(
        "from simcore.engine.analysis import Strategy\n\nclass Mine(Strategy):\n    pass\n"
    )
    assert type(load_strategy(f"{good}:Mine")).__name__ == "Mine"
    broken = tmp_path / "broken.py"
    broken.write_text("import no_such_package_anywhere\n")
    with pytest.raises(UserError, match=r"(?s)failed to load.*no_such_package_anywhere"):
        load_strategy(f"{broken}:X")
    with pytest.raises(UserError, match="does not exist"):
        load_strategy(f"{tmp_path / 'absent.py'}:X")
    with pytest.raises(UserError, match="has no 'Other'"):
        load_strategy(f"{good}:Other")


def test_reading_what_the_strategy_did_not_declare_is_its_error_named(sample_store):
    """An undeclared read is never an empty series nor a KeyError deep in the engine: the
    strategy, the callback and the declaration to add are named."""

    class ReadsUndeclared(Strategy):
        subscriptions = ("5m",)

        def on_bar(self, ctx, symbol, interval, bar):
            ctx.bars(symbol, "1h")

    class ReadsHistoryUndeclared(Strategy):
        subscriptions = ("5m",)

        def on_bar(self, ctx, symbol, interval, bar):
            ctx.historical(symbol, "high_52w")

    class ReadsIndicatorUndeclared(Strategy):
        subscriptions = ("5m",)

        def on_bar(self, ctx, symbol, interval, bar):
            ctx.indicator(symbol, "5m", "sma20")

    cases = (
        (ReadsUndeclared, "on_bar", "reads bars of 1h but does not declare it: add '1h' to its subscriptions or reads"),
        (ReadsHistoryUndeclared, "on_bar", "add HistoricalNeed('high_52w') to its historical_indicators"),
        (ReadsIndicatorUndeclared, "on_bar", "add IndicatorRequest('sma20', '5m', ...) to its indicators"),
    )  # fmt: skip
    for cls, callback, expected in cases:
        with pytest.raises(UserError) as refused:
            run_backtest(single_day(), sample_store, cls())
        text = str(refused.value)
        assert f"{cls.__name__} failed in {callback}" in text and expected in text, text


def test_a_strategy_is_named_as_its_user_named_it(sample_store, tmp_path):
    path = tmp_path / "my_strategy.py"
    path.write_text(
        "from simcore import Strategy\n\n"
        "class Reader(Strategy):\n"
        "    subscriptions = ('5m',)\n\n"
        "    def on_bar(self, ctx, symbol, interval, bar):\n"
        "        ctx.historical(symbol, 'high_52w')\n"
    )
    spec = f"{path}:Reader"
    with pytest.raises(UserError) as refused:
        run_backtest(single_day(), sample_store, load_strategy(spec))
    assert f"strategy {spec} failed in on_bar" in str(refused.value)
    assert "simcore_user_strategy" not in str(refused.value)


def test_bundled_configs_fit_their_strategies():
    for path in sorted((REPO / "configs").glob("*.json")):
        config = SessionConfig.model_validate_json(path.read_text())
        if config.metadata.strategy:
            assert config_problems(config, resolve_strategy(config, None)) == [], path.name
