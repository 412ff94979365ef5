"""The engine: the design's four components, session_data, and what they share.

* the components — ``coordinator`` (session lifecycle, the clock), ``processor`` (derived bars,
  real-time ``indicators``), ``quality`` (quality per symbol and interval, the ``gap_fill``
  list), ``analysis`` (the analysis engine, the ``Strategy`` API and its context);
* their data — ``session_data`` (everything a strategy may see, nothing from the future),
  ``bars`` (column-wise bar containers and views), ``history_windows`` (trailing history as
  NumPy columns), ``streams`` (STREAMED / GENERATED / IGNORED marking);
* what feeds the coordinator — ``backtest_feed`` (the prefetched queue; the live intake is
  ``simcore.live.intake``), ``session_days`` (the read-ahead), ``history/`` (the warm-up of
  trailing history and historical indicators before every session);
* hand-offs and figures — ``events``, ``sync`` (the one-shot subscriptions), ``metrics``;
  what a strategy declares — ``requirements``, ``parameters``.

Component logic only: no thread, no SimPy, no wall clock (``simcore.runtime`` decides when each
step runs). Imports: ``store``, ``trading``, ``providers``, ``config``, ``time``, ``errors``.
"""
