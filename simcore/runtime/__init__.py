"""Runtimes: what drives the components. ``sim`` runs them as SimPy processes on a virtual
clock (data-driven backtests); a wall-clock runtime for clock-driven and live sessions is to
come, driving the same component logic."""
