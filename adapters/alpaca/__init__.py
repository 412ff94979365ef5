"""Alpaca through alpaca-py: REST history into the store (``history_api``), the stock stream
(``feed``), trading (``broker``), Alpaca's wire formats (``wire``), the keys from the environment
(``keys``), the few alpaca-py internals simcore touches (``sdk``), and ``emulator/``.
``factory.py`` builds them for the registry.
Imports: simcore's contracts and lower layers, ``adapters.loopback`` (the emulator only)."""
