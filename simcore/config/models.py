"""Pydantic models of the session config, one per section of the design's field reference.

Defaults are the design's code defaults ("Default Values Summary") and live here, at the point of
use; there is no settings module. Field-level rules (types, ranges, vocabularies) are declared on
the fields; rules that relate two fields are in ``rules.py`` so that all of them are reported at
once. Every model is frozen and holds tuples, so a loaded config cannot be changed.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from simcore.config.vocabulary import (
    PERIOD_PATTERN,
    BarAlignment,
    BarInterval,
    DataApi,
    Granularity,
    IndicatorType,
    OhlcvField,
    Stream,
    TradeApi,
)
from simcore.time.markets import ASSET_CLASSES, EXCHANGE_GROUPS

ExchangeGroup = Literal["US_EQUITY", "CRYPTO", "FOREX", "COMMODITIES"]
AssetClass = Literal["EQUITY", "CRYPTO", "OPTIONS", "FUTURES"]
assert set(ExchangeGroup.__args__) == set(EXCHANGE_GROUPS)  # type: ignore[attr-defined]
assert set(AssetClass.__args__) == set(ASSET_CLASSES)  # type: ignore[attr-defined]

NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
StrictBool = Annotated[bool, Field(strict=True)]
IsoDate = Annotated[date, Field(description="calendar date as YYYY-MM-DD")]


class FrozenDict(dict):
    """A dict that refuses to change, so a loaded config's indicator table stays as loaded."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("the session config is immutable")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))


class ConfigModel(BaseModel):
    """Base of every section: unknown keys are errors, ``_``-keys are comments, values frozen.

    Numbers and booleans are strict (``"5"`` is not 5, ``1`` is not true).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_comment_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("_"))}
        return data


class BacktestConfig(ConfigModel):
    start_date: IsoDate
    end_date: IsoDate
    speed_multiplier: float = Field(1.0, strict=True, ge=0.0, allow_inf_nan=False)
    prefetch_days: int = Field(1, strict=True, ge=1)
    # the run's warnings fail it (exit 1): for CI, as `simcore backtest --strict`
    strict: StrictBool = False
    # what bars.parquet holds: every bar ("all"), the derived ones only ("derived", the
    # streamed ones are named by their store files), or "auto": all up to a size
    record_bars: Literal["auto", "all", "derived"] = "auto"
    # a data-driven run with an --out folder checkpoints between sessions, for --resume
    checkpoints: StrictBool = True

    @field_validator("start_date", "end_date", mode="before")
    @classmethod
    def _iso_text_only(cls, value: Any) -> Any:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(f"must be an ISO date text 'YYYY-MM-DD', got {value!r}")
        return value


class HistoricalData(ConfigModel):
    trailing_days: int = Field(strict=True, gt=0)
    intervals: tuple[BarInterval, ...] = Field(min_length=1)
    apply_to: Any

    @field_validator("intervals")
    @classmethod
    def _unique_intervals(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _no_duplicates(value)

    @field_validator("apply_to", mode="before")
    @classmethod
    def _all_or_symbols(cls, value: Any) -> str | tuple[str, ...]:
        """One clear message instead of one per branch of a Literal | list union."""
        if value == "all":
            return "all"
        if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
            return _no_duplicates(tuple(value))
        raise ValueError(f'must be "all" or a non-empty list of symbols, got {value!r}')


class IndicatorSpec(ConfigModel):
    type: IndicatorType
    period: str
    granularity: Granularity = "daily"
    field: OhlcvField | None = None
    skip_early_close: StrictBool = False

    @field_validator("period")
    @classmethod
    def _period_grammar(cls, value: str) -> str:
        if not PERIOD_PATTERN.match(value):
            raise ValueError(
                f"period {value!r} must be a positive count and a unit: Nd (trading days), "
                "Nw (weeks), Nm (months) or Ny (years), e.g. '10d' or '52w'"
            )
        return value

    @property
    def value_field(self) -> str:
        """The OHLCV field: as configured, else volume for averages, high for max, low for min."""
        if self.field is not None:
            return self.field
        return {"trailing_average": "volume", "trailing_max": "high", "trailing_min": "low"}[
            self.type
        ]

    @property
    def period_count(self) -> int:
        return int(PERIOD_PATTERN.match(self.period).group(1))  # type: ignore[union-attr]

    @property
    def period_unit(self) -> str:
        return PERIOD_PATTERN.match(self.period).group(2)  # type: ignore[union-attr]


class HistoricalConfig(ConfigModel):
    enable_quality: StrictBool = True
    data: tuple[HistoricalData, ...] = ()
    indicators: dict[Annotated[str, StringConstraints(min_length=1)], IndicatorSpec] = Field(
        default_factory=FrozenDict
    )

    @field_validator("indicators")
    @classmethod
    def _freeze(cls, value: dict[str, IndicatorSpec]) -> FrozenDict:
        return FrozenDict(value)


class GapFillerConfig(ConfigModel):
    max_retries: int = Field(5, strict=True, ge=1, le=20)
    retry_interval_seconds: int = Field(60, strict=True, ge=1)
    enable_session_quality: StrictBool = True
    quality_update_frequency: Literal["event"] = "event"
    # a session of a symbol ending under this quality (percent) is a warning of the run
    warn_quality_below: float = Field(95.0, strict=True, ge=0.0, le=100.0, allow_inf_nan=False)


class SessionDataConfig(ConfigModel):
    symbols: tuple[NonEmptyText, ...] = Field(min_length=1)
    streams: tuple[Stream, ...] = Field(min_length=1)
    historical: HistoricalConfig = Field(default_factory=HistoricalConfig)
    gap_filler: GapFillerConfig = Field(default_factory=GapFillerConfig)
    bar_alignment: BarAlignment = "session"
    # how prices are normalised from the store's split and dividend factors (LEAN's factor
    # files): "adjusted" (splits and dividends, LEAN's default), "split", or "raw"
    price_adjustment: Literal["raw", "split", "adjusted"] = "adjusted"
    # a symbol of the store the run is compared with (held over the same sessions, with the
    # same price adjustment): returns.parquet, the summary's benchmark figures, the report
    benchmark: NonEmptyText | None = None

    @field_validator("symbols", "streams")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _no_duplicates(value)


class FeeConfig(ConfigModel):
    """What the paper broker charges per order. ``zero``: Alpaca's commission-free stocks;
    ``per_share``: ``per_share`` a share, at least ``minimum``, at most ``maximum_pct`` percent
    of the trade's value (the Interactive-Brokers-like default); ``flat``: ``flat`` an order."""

    model: Literal["zero", "per_share", "flat"] = "zero"
    per_share: float = Field(0.005, strict=True, ge=0, allow_inf_nan=False)
    minimum: float = Field(1.0, strict=True, ge=0, allow_inf_nan=False)
    maximum_pct: float = Field(1.0, strict=True, ge=0, allow_inf_nan=False)
    flat: float = Field(0.0, strict=True, ge=0, allow_inf_nan=False)


class TradingConfig(ConfigModel):
    max_buying_power: float = Field(strict=True, gt=0, allow_inf_nan=False)
    max_per_trade: float = Field(strict=True, gt=0, allow_inf_nan=False)
    max_per_symbol: float = Field(strict=True, gt=0, allow_inf_nan=False)
    max_open_positions: int = Field(strict=True, gt=0)
    # the paper broker (trade_api "paper"); the account starts with max_buying_power in cash
    fill_price: Literal["next_open", "last_close"] = "next_open"
    slippage_bps: float = Field(0.0, strict=True, ge=0, allow_inf_nan=False)
    max_participation: float | None = Field(None, strict=True, gt=0, le=1, allow_inf_nan=False)
    # when one bar reaches both exits of a bracket or OCO pair, which fills (simcore.trading.contingent)
    same_bar_exit: Literal["stop_loss", "take_profit"] = "stop_loss"
    fees: FeeConfig = Field(default_factory=FeeConfig)


class ApiConfig(ConfigModel):
    data_api: DataApi = "alpaca"
    trade_api: TradeApi = "alpaca"
    # Alpaca's market-data feed: "iex" (the free plan's) or "sip" (all US exchanges, paid)
    feed: Literal["iex", "sip"] = "iex"


class Metadata(ConfigModel):
    created_by: str = "system"
    description: str = ""
    strategy: str = ""
    # the strategy's declared parameters (simcore.engine.parameters), checked against it at load
    parameters: dict[
        Annotated[str, StringConstraints(min_length=1)], StrictBool | StrictInt | StrictFloat | str
    ] = Field(default_factory=FrozenDict)
    version: str = "1.0"

    @field_validator("parameters")
    @classmethod
    def _freeze(cls, value: dict[str, object]) -> FrozenDict:
        return FrozenDict(value)


class SessionConfig(ConfigModel):
    """A whole session: what to trade, over which data, with which limits."""

    session_name: NonEmptyText
    exchange_group: ExchangeGroup = "US_EQUITY"
    asset_class: AssetClass = "EQUITY"
    mode: Literal["backtest", "live"] = "backtest"
    backtest_config: BacktestConfig | None = None
    session_data_config: SessionDataConfig
    trading_config: TradingConfig
    api_config: ApiConfig = Field(default_factory=ApiConfig)
    metadata: Metadata = Field(default_factory=Metadata)


def _no_duplicates(values: tuple[str, ...]) -> tuple[str, ...]:
    seen: set[str] = set()
    repeated = [v for v in values if v in seen or seen.add(v)]  # type: ignore[func-returns-value]
    if repeated:
        raise ValueError(f"lists {', '.join(map(repr, sorted(set(repeated))))} more than once")
    return values
