"""The market-data store."""
