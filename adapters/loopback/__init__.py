"""What every emulator shares: ``server`` — the JSON HTTP server and websocket server thread on
127.0.0.1, a store's rows at the clock, the minute stream and the emulator lifecycle; ``desk`` —
the paper account whose orders fill on the bars an emulator publishes. Imports simcore's store,
time and trading (the paper broker's rules); nothing of a provider."""
