"""Schwab through schwab-py: price history into the store (``history_api``), the streamer
(``feed``), trading (``broker``), the credentials and token file (``credentials``), the client
routed by an httpx mount (``client``), and ``emulator/``. ``factory.py`` builds them for the
registry. Imports: simcore's contracts and lower layers, ``adapters.loopback`` (the emulator
only).

authlib (under schwab-py) warns on import that its httpx module has a successor; that is not
ours, so it is imported here once with the warning silenced."""

import warnings

with warnings.catch_warnings():
    import authlib.deprecate

    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    import authlib.integrations.httpx_client  # noqa: F401
