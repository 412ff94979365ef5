"""The Alpaca emulator: the store served on 127.0.0.1 in Alpaca's wire formats, for tests and
rehearsals with alpaca-py's real clients. ``server`` — market data (REST bars, quotes and
trades; the msgpack websocket at the clock) with faults on demand; ``trading`` — the paper
account's REST API and trade-updates stream on the shared desk. Imports ``adapters.loopback``
and the provider's ``wire``; nothing of its clients."""
