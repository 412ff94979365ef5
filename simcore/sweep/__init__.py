"""Parameter sweeps: one deterministic backtest per combination of a strategy's parameters, run
serially or on Ray (``simcore sweep``). ``grid`` expands and checks the grid, ``runner`` runs
it, ``results`` ranks it."""
