"""The ``simcore`` command line: one module per command group, assembled in ``main``.

``common`` holds what the groups share (consoles, the store option, the rehearsal clock);
``backtest`` (validate, backtest), ``data``, ``live``, ``emulate``, ``sweep`` and ``report``
each define their commands as plain functions, and ``main`` registers them on the typer apps
and maps errors to exit codes. Imports: anything below the application layer, and
``adapters.registry`` (only here and in ``simcore.app`` are providers built).
"""
