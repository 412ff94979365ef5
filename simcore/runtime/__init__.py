"""Runtimes: what drives the components, and when.

``sim`` — SimPy processes on a virtual clock (data-driven backtests); ``threads`` — the design's
four named wall-clock threads (clock-driven replays, and data-driven runs with the same bytes);
``steps`` — the session start and end every runtime performs in the same order; ``system`` —
the SystemManager, which builds the components and picks the runtime; ``run`` — a session
config run to its results, for backtests and live sessions alike. The live runtime is
``simcore.live.runtime``.

Imports: ``results``, ``engine`` and everything below.
"""
