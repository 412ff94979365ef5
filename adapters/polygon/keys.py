"""Polygon's API key: from the environment only, under the name its client reads.

Polygon.io now publishes its Python client as ``massive``, which reads ``MASSIVE_API_KEY``; the
key is never printed, logged or written (its holder hides it from ``repr``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from simcore.providers import CredentialsMissing

KEY_ENV = "MASSIVE_API_KEY"


@dataclass(frozen=True)
class PolygonKey:
    key: str = field(repr=False)

    def __repr__(self) -> str:
        return "PolygonKey(<from the environment>)"


def key_from_env(env: Mapping[str, str] = os.environ) -> PolygonKey:
    key = env.get(KEY_ENV, "").strip()
    if not key:
        raise CredentialsMissing(
            f"Polygon's API key is read from the environment, and {KEY_ENV} is not set: export "
            f"it (the key of your Polygon.io / Massive dashboard; {KEY_ENV} is the name its "
            "client reads)"
        )
    return PolygonKey(key)
