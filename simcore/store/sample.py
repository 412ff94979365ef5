"""The bundled sample: a small synthetic store that every fresh clone can run on.

It is not committed as binary files; it is generated, deterministically, into the working store
the first time a command needs it (about a second). Its symbols and dates are the ones the
configs in ``configs/`` use: four fictional symbols, 1m bars and end-of-minute quotes over
June-July 2025 (07-03 closes early, 07-04 is a holiday), and daily bars from June 2024 for
52-week windows. A few minutes are missing on purpose (gap_rate), so quality is below 100%.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from simcore.store.importers import ImportReport
from simcore.store.parquet import ParquetStore
from simcore.store.synth import SynthSpec, write_synthetic
from simcore.time import TimeManager

SAMPLE_SPEC = SynthSpec(
    symbols=("ALFA", "BRVO", "CHRL", "DLTA"),
    minute_start=date(2025, 6, 2),
    minute_end=date(2025, 7, 31),
    daily_start=date(2024, 6, 3),
    seed=20250701,
    gap_rate=0.002,
    quotes=True,
)

STORE_ENV = "SIMCORE_STORE"
DEFAULT_STORE = Path("data") / "store"


def default_store_path() -> Path:
    """$SIMCORE_STORE, else ./data/store (ignored by git)."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


def ensure_sample(store: ParquetStore) -> ImportReport | None:
    """Generate the bundled sample into ``store`` if the store is empty; None if it was not."""
    if not store.is_empty():
        return None
    return write_synthetic(store, SAMPLE_SPEC, TimeManager("US_EQUITY", "EQUITY"))
