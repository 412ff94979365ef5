"""Bad input to every command is a user error (exit 1, a message saying what), never exit 2.

Each case here was an internal error (a traceback) before: found by trying the commands as a
new user would, with files and options that are wrong in the usual ways.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simcore.app.cli.main import main

REPO = Path(__file__).resolve().parents[1]
BARS_CSV = "timestamp,open,high,low,close,volume\n2025-07-01 09:30:00,1,2,0.5,1.5,100\n"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "ok.csv").write_text(BARS_CSV)
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "fake.parquet").write_text(BARS_CSV)
    (tmp_path / "latin1.json").write_bytes(b'{"session_name": "caf\xe9"}')
    (tmp_path / "a_file").write_text("")
    config = json.loads((REPO / "configs" / "single_day.json").read_text())
    config["backtest_config"].update(start_date="2030-01-02", end_date="2030-01-04")
    (tmp_path / "in_2030.json").write_text(json.dumps(config))
    config = json.loads((REPO / "configs" / "single_day.json").read_text())
    config["exchange_group"] = ["US_EQUITY"]
    config["asset_class"] = {"name": "EQUITY"}
    (tmp_path / "odd_market.json").write_text(json.dumps(config))
    return tmp_path


CASES = {
    "empty CSV": (["data", "import", "{d}/empty.csv", "--symbol", "XYZ"], "the file is empty"),
    "naive timestamps without --tz": (
        ["data", "import", "{d}/ok.csv", "--symbol", "XYZ"],
        "have no timezone",
    ),
    "unknown timezone": (
        ["data", "import", "{d}/ok.csv", "--symbol", "XYZ", "--tz", "Mars/Base"],
        "not a timezone",
    ),
    "columns of another kind": (
        ["data", "import", "{d}/ok.csv", "--symbol", "XYZ", "--kind", "quotes"],
        "quotes need the column(s) bid_price",
    ),
    "symbol with a space": (
        ["data", "import", "{d}/ok.csv", "--symbol", "bad sym"],
        "'bad sym' is not a symbol",
    ),
    "lower-case symbol": (["data", "import", "{d}/ok.csv", "--symbol", "aapl"], "'AAPL'"),
    "not Parquet": (
        ["data", "import", "{d}/fake.parquet", "--symbol", "XYZ"],
        "cannot be read as Parquet",
    ),
    "rejects into no folder": (
        ["data", "import", "{d}/ok.csv", "--symbol", "XYZ", "--rejects", "{d}/no/r.csv"],
        "does not exist",
    ),
    "store that cannot be written": (
        [
            "data",
            "import",
            "{d}/ok.csv",
            "--symbol",
            "XYZ",
            "--tz",
            "UTC",
            "--store",
            "{d}/a_file/store",
        ],
        "cannot write",
    ),
    "synth symbol that is an option": (["data", "synth", "--symbols", "-3"], "'-3' is not"),
    "synth days without a session": (
        ["data", "synth", "--symbols", "2", "--start", "2025-07-05", "--end", "2025-07-06"],
        "no XNYS trading day",
    ),
    "synth negative seed": (["data", "synth", "--seed", "-1"], "must be 0 or more"),
    "synth beyond the calendar": (
        ["data", "synth", "--start", "2031-01-02", "--end", "2031-01-03"],
        "after the last session of the XNYS calendar",
    ),
    "backtest into a file": (
        ["backtest", str(REPO / "configs" / "single_day.json"), "--out", "{d}/a_file"],
        "a file is in the way",
    ),
    "backtest in 2030": (
        ["backtest", "{d}/in_2030.json"],
        "backtest_config.start_date: 2030-01-02 is after the last session",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_input_is_a_user_error(case, files, sample_store, capsys):
    argv, expected = CASES[case]
    argv = [a.format(d=files) for a in argv]
    if "--store" not in argv and argv[0] != "validate":
        argv += ["--store", str(sample_store.root if argv[0] == "backtest" else files / "s")]
    with pytest.raises(SystemExit) as exited:
        main(argv)
    captured = capsys.readouterr()
    text = " ".join((captured.out + captured.err).split())  # rich folds long lines
    assert exited.value.code == 1, text
    assert expected in text
    assert "internal error" not in text


def test_validate_reports_every_file_whatever_is_wrong_with_it(files, capsys):
    names = ["latin1.json", "odd_market.json", "in_2030.json", "absent.json", "a_file"]
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "validate",
                *(str(files / n) for n in names),
                str(REPO / "configs" / "single_day.json"),
            ]
        )
    assert exited.value.code == 1
    text = " ".join(capsys.readouterr().out.split())
    assert text.count("invalid ") == len(names) and "ok " in text
    assert "not UTF-8 text" in text
    assert "exchange_group: Input should be" in text and "asset_class: Input should be" in text
    assert "backtest_config.end_date: 2030-01-04 is after the last session" in text
    assert "cannot read" in text


def test_validate_checks_the_config_against_its_strategy(tmp_path, capsys):
    config = json.loads((REPO / "configs" / "example_backtest.json").read_text())
    del config["session_data_config"]["historical"]["indicators"]["avg_volume_intraday"]
    (tmp_path / "lacking.json").write_text(json.dumps(config))
    config["metadata"]["strategy"] = "no_such_module:Nothing"
    (tmp_path / "unknown.json").write_text(json.dumps(config))
    with pytest.raises(SystemExit) as exited:
        main(["validate", str(tmp_path / "lacking.json"), str(tmp_path / "unknown.json")])
    assert exited.value.code == 1
    text = " ".join(capsys.readouterr().out.split())
    assert (
        "session_data_config.historical.indicators.avg_volume_intraday: RelativeVolumeBreakout reads it"
        in text
    )
    assert "metadata.strategy: strategy module 'no_such_module' cannot be imported" in text
