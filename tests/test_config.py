"""Session config: defaults, every validation rule with a failing example, all problems at once."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from simcore.config import SessionConfig, load_config, validate_text
from simcore.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = json.loads((REPO / "configs" / "example_backtest.json").read_text())

MINIMAL = {
    "session_name": "t",
    "backtest_config": {"start_date": "2025-07-01", "end_date": "2025-07-02"},
    "session_data_config": {"symbols": ["AAPL"], "streams": ["1m"]},
    "trading_config": {
        "max_buying_power": 1000.0,
        "max_per_trade": 100.0,
        "max_per_symbol": 200.0,
        "max_open_positions": 1,
    },
}


def problems_of(doc: dict) -> dict[str, str]:
    report = validate_text(json.dumps(doc))
    return dict(report.problems)


def test_bundled_configs_are_valid():
    for path in sorted((REPO / "configs").glob("*.json")):
        config = load_config(path)
        assert config.session_name


def test_code_defaults_are_the_designs():
    config = validate_text(json.dumps(MINIMAL)).config
    assert config is not None
    assert (config.exchange_group, config.asset_class, config.mode) == (
        "US_EQUITY",
        "EQUITY",
        "backtest",
    )
    assert config.backtest_config.speed_multiplier == 1.0
    assert config.backtest_config.prefetch_days == 1
    h = config.session_data_config.historical
    assert (h.enable_quality, h.data, dict(h.indicators)) == (True, (), {})
    g = config.session_data_config.gap_filler
    assert (g.max_retries, g.retry_interval_seconds, g.enable_session_quality) == (5, 60, True)
    assert g.quality_update_frequency == "event"
    assert (config.api_config.data_api, config.api_config.trade_api) == ("alpaca", "alpaca")
    assert (config.metadata.created_by, config.metadata.version) == ("system", "1.0")


def test_indicator_field_defaults_follow_the_type():
    config = load_config(REPO / "configs" / "example_backtest.json")
    ind = config.session_data_config.historical.indicators
    assert ind["high_52w"].value_field == "high" and ind["low_52w"].value_field == "low"
    assert ind["avg_volume"].period_count == 10 and ind["avg_volume"].period_unit == "d"


def test_loaded_config_is_immutable():
    config = load_config(REPO / "configs" / "example_backtest.json")
    with pytest.raises(ValidationError):
        config.session_name = "changed"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        config.session_data_config.symbols = ("X",)  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.session_data_config.historical.indicators["new"] = None  # type: ignore[index]
    assert isinstance(config.session_data_config.symbols, tuple)


def _with(path: str, value, base: dict | None = None) -> dict:
    """A copy of the example with one value set (path 'a.b.0.c'); value DELETE removes it."""
    doc = copy.deepcopy(base or EXAMPLE)
    *parents, last = path.split(".")
    node = doc
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return doc


DELETE = object()

# (what is set, value, the JSON path reported, a fragment of the message)
RULES = [
    ("session_name", DELETE, "session_name", "required"),
    ("session_name", "  ", "session_name", "at least 1"),
    ("mode", "paper", "mode", "'backtest' or 'live'"),
    ("backtest_config", DELETE, "backtest_config", "required when mode is 'backtest'"),
    ("backtest_config.start_date", "2025-13-01", "backtest_config.start_date", "date"),
    ("backtest_config.start_date", "07/01/2025", "backtest_config.start_date", "valid date"),
    ("backtest_config.start_date", 20250701, "backtest_config.start_date", "YYYY-MM-DD"),
    ("backtest_config.end_date", "2025-06-30", "backtest_config.end_date", "before start_date"),
    (
        "backtest_config.speed_multiplier",
        -0.5,
        "backtest_config.speed_multiplier",
        "greater than or equal to 0",
    ),
    ("backtest_config.speed_multiplier", "fast", "backtest_config.speed_multiplier", "number"),
    (
        "backtest_config.prefetch_days",
        0,
        "backtest_config.prefetch_days",
        "greater than or equal to 1",
    ),
    ("backtest_config.prefetch_days", "3", "backtest_config.prefetch_days", "integer"),
    ("session_data_config.symbols", [], "session_data_config.symbols", "at least 1"),
    (
        "session_data_config.symbols",
        ["ALFA", "ALFA"],
        "session_data_config.symbols",
        "more than once",
    ),
    (
        "session_data_config.symbols.0",
        "alfa",
        "session_data_config.symbols[0]",
        "did you mean 'ALFA'",
    ),
    ("session_data_config.streams", [], "session_data_config.streams", "at least 1"),
    ("session_data_config.streams.0", "2m", "session_data_config.streams[0]", "'1s', '1m'"),
    (
        "session_data_config.bar_alignment",
        "weekly",
        "session_data_config.bar_alignment",
        "'session' or 'clock'",
    ),
    (
        "session_data_config.historical.data.0.intervals",
        ["quotes"],
        "session_data_config.historical.data[0].intervals[0]",
        "'1s'",
    ),
    (
        "session_data_config.historical.data.0.intervals",
        [],
        "session_data_config.historical.data[0].intervals",
        "at least 1",
    ),
    (
        "session_data_config.historical.data.0.trailing_days",
        0,
        "session_data_config.historical.data[0].trailing_days",
        "greater than 0",
    ),
    (
        "session_data_config.historical.data.0.apply_to",
        "some",
        "session_data_config.historical.data[0].apply_to",
        '"all" or a non-empty list',
    ),
    (
        "session_data_config.historical.data.0.apply_to",
        ["ALFA", "ZZZZ"],
        "session_data_config.historical.data[0].apply_to[1]",
        "not in session_data_config.symbols",
    ),
    (
        "session_data_config.historical.enable_quality",
        "yes",
        "session_data_config.historical.enable_quality",
        "boolean",
    ),
    (
        "session_data_config.historical.indicators.avg_volume.type",
        "median",
        "session_data_config.historical.indicators.avg_volume.type",
        "'trailing_average'",
    ),
    (
        "session_data_config.historical.indicators.high_52w.period",
        "52",
        "session_data_config.historical.indicators.high_52w.period",
        "Nd (trading days)",
    ),
    (
        "session_data_config.historical.indicators.high_52w.period",
        "0w",
        "session_data_config.historical.indicators.high_52w.period",
        "Nd (trading days)",
    ),
    (
        "session_data_config.historical.indicators.avg_volume.period",
        "2y",
        "session_data_config.historical.indicators.avg_volume.period",
        "Nd (trading days) or Nw",
    ),
    (
        "session_data_config.historical.indicators.avg_volume.granularity",
        "hourly",
        "session_data_config.historical.indicators.avg_volume.granularity",
        "'daily' or 'minute'",
    ),
    (
        "session_data_config.historical.indicators.high_52w.granularity",
        "minute",
        "session_data_config.historical.indicators.high_52w.granularity",
        "daily bars only",
    ),
    (
        "session_data_config.historical.indicators.high_52w.skip_early_close",
        True,
        "session_data_config.historical.indicators.high_52w.skip_early_close",
        "trailing_average only",
    ),
    (
        "session_data_config.historical.indicators.low_52w.field",
        "vwap",
        "session_data_config.historical.indicators.low_52w.field",
        "'open', 'high'",
    ),
    (
        "session_data_config.gap_filler.max_retries",
        0,
        "session_data_config.gap_filler.max_retries",
        "greater than or equal to 1",
    ),
    (
        "session_data_config.gap_filler.max_retries",
        21,
        "session_data_config.gap_filler.max_retries",
        "less than or equal to 20",
    ),
    (
        "session_data_config.gap_filler.retry_interval_seconds",
        0,
        "session_data_config.gap_filler.retry_interval_seconds",
        "greater than or equal to 1",
    ),
    (
        "session_data_config.gap_filler.quality_update_frequency",
        "periodic",
        "session_data_config.gap_filler.quality_update_frequency",
        "'event'",
    ),
    ("trading_config.max_buying_power", 0, "trading_config.max_buying_power", "greater than 0"),
    ("trading_config.max_per_trade", -1, "trading_config.max_per_trade", "greater than 0"),
    (
        "trading_config.max_per_trade",
        100001.0,
        "trading_config.max_per_trade",
        "exceeds max_buying_power",
    ),
    (
        "trading_config.max_per_symbol",
        200000.0,
        "trading_config.max_per_symbol",
        "exceeds max_buying_power",
    ),
    ("trading_config.max_open_positions", 0, "trading_config.max_open_positions", "greater than 0"),
    ("trading_config.max_open_positions", DELETE, "trading_config.max_open_positions", "required"),
    (
        "api_config.data_api",
        "yahoo",
        "api_config.data_api",
        "'alpaca', 'schwab', 'polygon' or 'local'",
    ),
    ("api_config.trade_api", "local", "api_config.trade_api", "'alpaca', 'schwab' or 'paper'"),
    ("exchange_group", "NASDAQ", "exchange_group", "'US_EQUITY', 'CRYPTO'"),
    ("asset_class", "BONDS", "asset_class", "'EQUITY', 'CRYPTO'"),
    ("asset_class", "FUTURES", "asset_class", "not traded in exchange_group 'US_EQUITY'"),
    (
        "session_data_config.historical.indicators.low_52w.perod",
        "52w",
        "session_data_config.historical.indicators.low_52w.perod",
        "did you mean 'period'",
    ),
    ("sesion_name", "x", "sesion_name", "did you mean 'session_name'"),
    (
        "trading_config.max_positions",
        3,
        "trading_config.max_positions",
        "did you mean 'max_open_positions'",
    ),
]


@pytest.mark.parametrize(
    ("path", "value", "reported", "fragment"), RULES, ids=[f"{r[0]}={r[1]!r}" for r in RULES]
)
def test_each_rule_rejects_its_failing_example(path, value, reported, fragment):
    problems = problems_of(_with(path, value))
    assert reported in problems, problems
    assert fragment in problems[reported], problems[reported]


def test_all_independent_problems_are_listed_together():
    doc = copy.deepcopy(EXAMPLE)
    doc["mode"] = "paper"
    doc["backtest_config"]["end_date"] = "2025-06-01"
    doc["session_data_config"]["streams"].append("2m")
    doc["session_data_config"]["historical"]["data"][0]["apply_to"] = ["ZZZ"]
    doc["trading_config"]["max_per_trade"] = 1e9
    doc["api_config"]["data_api"] = "yahoo"
    doc["sesion_name"] = "typo"
    assert set(problems_of(doc)) == {
        "mode",
        "backtest_config.end_date",
        "session_data_config.streams[8]",
        "session_data_config.historical.data[0].apply_to[0]",
        "trading_config.max_per_trade",
        "api_config.data_api",
        "sesion_name",
    }


def test_comment_keys_are_allowed_everywhere():
    doc = copy.deepcopy(MINIMAL)
    doc["_comment"] = "top"
    doc["session_data_config"]["_note"] = "inner"
    doc["trading_config"]["_why"] = {"any": ["thing"]}
    assert validate_text(json.dumps(doc)).ok


def test_live_mode_needs_no_backtest_section_and_symbols_follow_the_asset_class():
    doc = copy.deepcopy(MINIMAL)
    doc["mode"] = "live"
    del doc["backtest_config"]
    assert validate_text(json.dumps(doc)).ok
    doc.update(exchange_group="CRYPTO", asset_class="CRYPTO")
    assert "session_data_config.symbols[0]" in problems_of(doc)
    doc["session_data_config"]["symbols"] = ["BTC/USD"]
    assert validate_text(json.dumps(doc)).ok


def test_not_json_and_not_an_object():
    assert "not valid JSON" in validate_text("{ nope").problems[0][1]
    assert "JSON object" in validate_text("[1, 2]").problems[0][1]


def test_every_provider_the_design_names_is_built_so_none_is_warned_of():
    for field, names in (
        ("api_config.data_api", ("alpaca", "schwab", "polygon", "local")),
        ("api_config.trade_api", ("alpaca", "schwab", "paper")),
    ):
        for name in names:
            report = validate_text(json.dumps(_with(field, name)))
            assert report.ok and report.warnings == [], (field, name)


def test_load_config_raises_with_every_problem(tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(_with("mode", "paper", _with("trading_config.max_open_positions", 0)))
    )
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    assert [p for p, _ in info.value.problems] == ["mode", "trading_config.max_open_positions"]
    assert "2 problem(s)" in str(info.value)


def test_model_can_be_built_from_python_too():
    config = SessionConfig.model_validate(MINIMAL)
    assert config.session_data_config.symbols == ("AAPL",)
