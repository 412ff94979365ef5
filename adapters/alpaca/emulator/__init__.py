"""The Alpaca emulator."""
