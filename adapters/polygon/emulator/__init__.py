"""The Polygon emulator."""
