"""The Schwab emulator."""
