"""The outside world: one folder per market-data provider and broker, behind the contracts of
``simcore.providers`` and ``simcore.trading.broker``.

* ``alpaca/``, ``polygon/``, ``schwab/`` — each a provider: its clients (history API, live
  feed, broker), its ``emulator/`` (a loopback server speaking its wire formats), and a
  ``factory.py`` that builds them from the environment;
* ``local/`` — the store itself as ``data_api: "local"`` (replayed through the Alpaca
  emulator in a live session);
* ``registry.py`` — the names a config may give (``data_api``, ``trade_api``) and their
  factories; ``provider.py`` — the shape every factory has;
* ``loopback/`` — what the emulators share: the HTTP and websocket servers on 127.0.0.1, rows
  at the clock, the minute stream, the paper desk; ``feed_thread.py`` — what the asyncio feed
  clients share.

Imports: simcore's contracts and lower layers (``providers``, ``trading``, ``store``, ``time``,
``config``, ``errors``), never the engine or above; the providers never import one another,
and a provider's clients never import an emulator (``pyproject.toml``'s import-linter
contracts). Only ``simcore.app`` imports this package.
"""
