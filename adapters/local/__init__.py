"""``data_api: "local"``: the store itself, as a provider. A backtest reads it as it is; a live
session replays it at the clock through the Alpaca emulator and alpaca-py's real clients, so
that a rehearsal goes through the whole live path with no account.

Imports: ``adapters.alpaca`` (its emulator and clients), the contracts and simcore's lower
layers."""
