"""A run's results: ``recording`` (each session recorded as it ends), ``tables`` and
``trading_tables`` (the deterministic output tables), ``returns`` (the daily returns and the
benchmark beside them), ``trades`` (round trips from the fills), ``statistics`` (Sharpe,
drawdown, win rate... from those), ``checks`` (the run's warnings), ``writing`` (Parquet files
and the manifest of digests), ``console`` (the trader's summary a command prints),
``formats`` (how every figure is labelled and written), and ``report/`` (the HTML tearsheet
of a results folder, and a sweep's page).

Imports: ``engine``, ``trading``, ``store``, ``config``, ``time``, ``errors``.
"""
