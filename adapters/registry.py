"""The providers simcore can use, by the name a config gives them.

``api_config.data_api`` and ``api_config.trade_api`` name an entry of ``PROVIDERS``; the
application layer (``simcore.app``) looks it up here and asks the entry's factory
(``adapters/<name>/factory.py``, the shape of ``adapters.provider.Provider``) for what a
backtest, a live session or ``simcore emulate`` needs of it.

Adding a provider: a folder ``adapters/<name>/`` with its clients, its ``emulator/`` and a
``factory.py`` whose class has the shape of ``Provider``, then one line in ``PROVIDERS``. The
engine never imports this module; only ``simcore.app`` does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from adapters.alpaca.factory import AlpacaProvider
from adapters.local.factory import LocalProvider
from adapters.polygon.factory import PolygonProvider
from adapters.provider import Provider
from adapters.schwab.factory import SchwabProvider
from simcore.errors import NotAvailableError

PROVIDERS: dict[str, Callable[[Mapping[str, str]], Provider]] = {
    "local": LocalProvider,
    "alpaca": AlpacaProvider,
    "polygon": PolygonProvider,
    "schwab": SchwabProvider,
}


def provider(name: str, env: Mapping[str, str] | None = None) -> Provider:
    """The provider a config names, reading its settings from ``env`` (default: the process
    environment)."""
    factory = PROVIDERS.get(name)
    if factory is None:
        raise NotAvailableError(
            f"{name!r} is not a provider of this version; known: {', '.join(PROVIDERS)}"
        )
    return factory(os.environ if env is None else env)
