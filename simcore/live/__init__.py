"""Live sessions: ``intake`` — the live feed of the coordinator (arriving bars into the session's
grid, slots released when due, corrections); ``runtime`` — the thread runtime driven by a
provider's feed and the wall (or rehearsal) clock, with gap filling in the background;
``session`` — a live session run to its results (corrections, gap fills, refreshes).

Imports: ``runtime`` and everything below it; providers only through the contracts of
``simcore.providers`` (the application layer builds and hands them in).
"""
