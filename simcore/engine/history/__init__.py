"""History before every session: ``warmup`` — the coordinator's reload of every trailing window
(with quality) and recomputation of every historical indicator, read in blocks of sessions;
``indicators`` — the historical indicators as Polars queries over the store. The windows
themselves are held by ``simcore.engine.history_windows``."""
