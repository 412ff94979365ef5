"""Polygon through its client ``massive``: aggregates history into the store (``history_api``),
the stocks websocket (``feed``), the key from the environment (``keys``), and ``emulator/``.
Market data only: a session on Polygon trades with the paper broker or Alpaca. ``factory.py``
builds them for the registry.
Imports: simcore's contracts and lower layers, ``adapters.loopback`` (the emulator only)."""
