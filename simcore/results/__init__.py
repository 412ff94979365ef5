"""A run's results: ``recording`` (each session recorded as it ends), ``tables`` and
``trading_tables`` (the deterministic output tables), ``statistics`` (returns, Sharpe,
drawdown, trades), ``writing`` (Parquet files and the manifest of digests), and ``report/``
(the HTML report of a results folder).

Imports: ``engine``, ``trading``, ``store``, ``config``, ``time``, ``errors``.
"""
