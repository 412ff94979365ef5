"""Session configuration: models with the design's code defaults, and a loader that reports
every problem of a file with its JSON path. Imports: ``time`` (the market table), ``errors``."""

from simcore.config.loader import ValidationReport, load_config, validate_file, validate_text
from simcore.config.models import (
    ApiConfig,
    BacktestConfig,
    GapFillerConfig,
    HistoricalConfig,
    HistoricalData,
    IndicatorSpec,
    Metadata,
    SessionConfig,
    SessionDataConfig,
    TradingConfig,
)

__all__ = [
    "ApiConfig",
    "BacktestConfig",
    "GapFillerConfig",
    "HistoricalConfig",
    "HistoricalData",
    "IndicatorSpec",
    "Metadata",
    "SessionConfig",
    "SessionDataConfig",
    "TradingConfig",
    "ValidationReport",
    "load_config",
    "validate_file",
    "validate_text",
]
