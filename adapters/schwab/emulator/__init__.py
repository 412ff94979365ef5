"""The Schwab emulator: price history, user preferences, the token endpoint and the streamer
on 127.0.0.1 (``server``), and an account on the shared paper desk in Schwab's trader API
(``trading``). Imports ``adapters.loopback``; nothing of the clients."""
