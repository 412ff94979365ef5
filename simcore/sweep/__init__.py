"""Parameter sweeps: one deterministic backtest per combination of a strategy's parameters, run
serially or on Ray (``simcore sweep``). ``grid`` expands and checks the grid, ``runner`` runs
it (with the backtest runner the application layer hands in), ``ranking`` ranks it.
Imports: ``strategies``, ``results`` and below."""
