"""Golden snapshots live in the repository's golden/ folder, as readable JSON (syrupy)."""

from __future__ import annotations

from pathlib import Path

from syrupy.extensions.json import JSONSnapshotExtension

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


class GoldenJSON(JSONSnapshotExtension):
    @classmethod
    def dirname(cls, *, test_location) -> str:
        return str(GOLDEN)
