"""History: trailing windows and historical indicators."""
