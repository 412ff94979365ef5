"""The Polygon emulator: the store served on 127.0.0.1 as Polygon's aggregates REST API and
stocks websocket (minute and second aggregates at the clock, quotes and trades at their time),
with faults on demand. Imports ``adapters.loopback``; nothing of the clients."""
