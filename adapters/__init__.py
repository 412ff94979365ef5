"""The outside world: market-data stores and brokers, behind small interfaces the engine uses."""
