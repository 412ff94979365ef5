"""Alpaca API keys: from the environment only, under the names Alpaca's documentation uses.

Keys never come from a config file, and are never printed, logged or written: the objects that
hold them do not show them in their repr, and no message of simcore's includes them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from simcore.providers import CredentialsMissing

KEY_ENV, SECRET_ENV = "APCA_API_KEY_ID", "APCA_API_SECRET_KEY"


@dataclass(frozen=True)
class AlpacaKeys:
    key: str = field(repr=False)
    secret: str = field(repr=False)

    def __repr__(self) -> str:
        return "AlpacaKeys(<from the environment>)"


def keys_from_env(env: Mapping[str, str] = os.environ) -> AlpacaKeys:
    key, secret = env.get(KEY_ENV, "").strip(), env.get(SECRET_ENV, "").strip()
    missing = [name for name, value in ((KEY_ENV, key), (SECRET_ENV, secret)) if not value]
    if missing:
        raise CredentialsMissing(
            f"Alpaca keys are read from the environment, and {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set: export {KEY_ENV} and {SECRET_ENV} "
            "(Alpaca's dashboard shows them; a paper account's keys work for market data)"
        )
    return AlpacaKeys(key, secret)
