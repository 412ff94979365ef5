"""Schwab through schwab-py: price history into the store (``history_api``), the streamer
(``feed``), trading (``broker``), the credentials and token file (``credentials``), the client
routed by an httpx mount (``client``), and ``emulator/``. ``factory.py`` builds them for the
registry. Imports: simcore's contracts and lower layers, ``adapters.loopback`` (the emulator
only).

schwab-py is the ``schwab`` extra; without it the emulator still runs, and the clients say
which extra to install. authlib (under schwab-py) warns on import that its httpx module has a
successor; that is not ours, so it is imported here once with the warning silenced."""

import contextlib
import warnings

with warnings.catch_warnings(), contextlib.suppress(ImportError):  # no schwab extra: nothing to
    import authlib.deprecate  # (it sets its own filter on import: ours must come after it)

    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    import authlib.integrations.httpx_client  # noqa: F401
