"""The optional parts are extras: without one, the command that needs it says which to install
(and the rest of simcore runs). The missing library is simulated: the suite installs them all."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from adapters import registry
from simcore.config import load_config
from simcore.errors import NotAvailableError
from simcore.store.parquet import ParquetStore
from simcore.time import TimeManager
from tests.test_cli_live import run_cli

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def missing(monkeypatch):
    """``missing("massive")``: find_spec answers as if the module were not installed."""
    real = importlib.util.find_spec
    gone: set[str] = set()

    def find_spec(name, *args, **kwargs):
        return None if name.split(".")[0] in gone else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    return gone.add


@pytest.mark.parametrize(
    ("provider", "module", "extra"),
    [("polygon", "massive", "polygon"), ("schwab", "schwab", "schwab")],
)
def test_a_provider_without_its_client_names_the_extra(provider, module, extra, missing, tmp_path):
    missing(module)
    config = load_config(REPO / "configs" / "alpaca_backtest.json")
    chosen = registry.provider(provider, {})
    with pytest.raises(NotAvailableError, match=rf"pip install 'simcore\[{extra}\]'"):
        chosen.history_api(ParquetStore(tmp_path), TimeManager(), config)
    if provider == "schwab":
        with pytest.raises(NotAvailableError, match=r"simcore\[schwab\]"):
            chosen.broker(TimeManager(), live_money=True)


def test_a_sweep_on_ray_without_ray_names_the_extra_and_writes_nothing(missing, tmp_path, capsys):
    missing("ray")
    out = tmp_path / "sweep"
    argv = ["sweep", str(REPO / "configs" / "sweep_example.json"), "--param", "fast=5,10"]
    assert run_cli([*argv, "--out", str(out)]) == 1
    assert "pip install 'simcore[sweep]'" in " ".join(capsys.readouterr().err.split())
    assert not out.exists()


def test_the_core_install_leaves_the_extras_out():
    text = (REPO / "pyproject.toml").read_text()
    core = text[text.index("dependencies = [") : text.index("]", text.index("dependencies = ["))]
    assert not any(name in core for name in ("ray", "massive", "schwab-py"))
    assert json.dumps(sorted(("sweep", "polygon", "schwab", "all"))) == json.dumps(
        sorted(n for n in ("sweep", "polygon", "schwab", "all") if f"\n{n} = [" in text)
    )
