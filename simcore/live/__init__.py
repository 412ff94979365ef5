"""Live sessions: ``intake`` — the live feed of the coordinator (arriving bars into the session's
grid, slots released when due, corrections); ``runtime`` — the thread runtime driven by a
provider's feed and the wall (or rehearsal) clock, with gap filling in the background;
``session`` — a live session run to its results (corrections, gap fills, refreshes);
``journal`` — what a session received and did, appended as it happens, and the broker's tape;
``keeper`` — how the runtime keeps the journal and replays it when a killed session resumes.

Imports: ``runtime`` and everything below it; providers only through the contracts of
``simcore.providers`` (the application layer builds and hands them in).
"""
