"""Speed measurements (run by hand, never as timed tests)."""
