"""The market-data store: core infrastructure that the engine reads.

``parquet`` — the Parquet store (layout, reads by period, atomic writes); ``schema`` — its
columns and symbol rules; ``integrity`` — damaged files; ``cleaning`` — the one cleaner every
row entering the store goes through; ``table_files`` — CSV and Parquet files read into the store's schema, whole or a block at a time; ``importers`` — imports of them (in blocks) and of LEAN; ``factors`` —
split and dividend factors; ``synth`` — seeded synthetic data; ``sample`` — the bundled
sample; ``source`` — a session's data source on the store (``LocalDataSource``);
``provider_source`` — the same, filled from a provider's history API on demand; ``fetching``
— what every provider's history API shares (the ledger of fetched days, the gap source).

Imports: ``providers`` (the history API's shape), ``config``, ``time``, ``errors``.
"""
