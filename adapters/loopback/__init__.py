"""What every emulator shares."""
