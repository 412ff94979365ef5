"""Shared fixtures. Real LEAN data is read from ../shared/data/lean and never copied."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from simcore.store.parquet import ParquetStore
from simcore.time import TimeManager

REPO = Path(__file__).resolve().parents[1]
LEAN_ROOT = REPO.parent / "shared" / "data" / "lean"


@pytest.fixture(autouse=True)
def no_thread_left_behind():
    """Every thread a test starts (runtime threads, emulator servers, stream clients) must be
    stopped by the test: a thread still alive two seconds after it ends is a failure."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0
    while True:
        left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not left, f"threads left running: {[t.name for t in left]}"


@pytest.fixture
def tm() -> TimeManager:
    return TimeManager("US_EQUITY", "EQUITY")


@pytest.fixture
def store(tmp_path: Path) -> ParquetStore:
    return ParquetStore(tmp_path / "store")


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> ParquetStore:
    """The bundled sample, generated once per test session (read-only for tests)."""
    from simcore.store.sample import SAMPLE_SPEC
    from simcore.store.synth import write_synthetic

    store = ParquetStore(tmp_path_factory.mktemp("sample") / "store")
    write_synthetic(store, SAMPLE_SPEC, TimeManager())
    return store


@pytest.fixture(scope="session")
def lean_root() -> Path:
    if not (LEAN_ROOT / "equity" / "usa").is_dir():
        pytest.skip(f"real LEAN data not found at {LEAN_ROOT} (it lives beside the repository)")
    return LEAN_ROOT


@pytest.fixture(scope="session")
def lean_store(lean_root: Path, tmp_path_factory: pytest.TempPathFactory):
    """The whole LEAN sample imported once into a store: (store, import report)."""
    from simcore.store.importers import import_lean

    store = ParquetStore(tmp_path_factory.mktemp("lean") / "store")
    report = import_lean(store, lean_root, TimeManager("US_EQUITY", "EQUITY"))
    return store, report
