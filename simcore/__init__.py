"""simcore: a deterministic session engine for intraday trading.

The engine is laid out after the seed design: a TimeManager owns every clock and calendar
question (``simcore.time``), a session config says what to run (``simcore.config``), and the
outside world (market-data stores, brokers) lives in the top-level ``adapters`` package.
"""

__version__ = "0.1.0"
