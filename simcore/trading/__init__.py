"""Trading: orders from strategies, the risk checks of ``trading_config``, the paper broker,
the portfolio, fees and the results' statistics."""
