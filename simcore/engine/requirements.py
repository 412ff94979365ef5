"""What a strategy needs from a session, checked before the first bar.

A strategy declares what it uses: the bar intervals it is called on (``subscriptions``), other
intervals it reads through ``ctx.bars`` (``reads``), its real-time indicators (``indicators``)
and the historical indicators it reads by name (``historical_indicators``). A config that does
not provide them would otherwise fail mid-run, deep in the strategy, with a KeyError; here every
mismatch is found before the run and reported together, each with the config path to change.

Two passes: ``config_problems`` needs only the config (``simcore validate`` runs it too), and
``marking_problems`` needs the coordinator's stream marking (an interval the config asks for
may still be IGNORED when the data cannot provide it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from simcore.config.models import SessionConfig
from simcore.config.vocabulary import BAR_INTERVALS, Granularity, IndicatorType
from simcore.engine.indicators import FIELDS, INDICATORS, IndicatorRequest
from simcore.engine.streams import Mark, StreamPlan
from simcore.errors import UserError

Problem = tuple[str, str]


@dataclass(frozen=True)
class HistoricalNeed:
    """A historical indicator a strategy reads with ``ctx.historical(symbol, name)``.

    ``granularity`` says which shape the strategy expects: ``"minute"`` an array indexed by
    minute of the session, ``"daily"`` one number. ``type`` pins the kind when it matters
    (a 52-week high must be a ``trailing_max``). None accepts any.
    """

    name: str
    granularity: Granularity | None = None
    type: IndicatorType | None = None


class StrategyMismatch(UserError):
    """The strategy needs something the session config does not provide."""

    def __init__(self, strategy: str, source: str, problems: list[Problem]):
        self.problems = problems
        lines = [f"strategy {strategy} does not fit {source}: {len(problems)} problem(s)"]
        lines += [f"  {path}: {message}" for path, message in problems]
        super().__init__("\n".join(lines))


def strategy_name(strategy: object) -> str:
    """The strategy as its user named it (``--strategy``, ``metadata.strategy``), else its
    module and class."""
    spec = getattr(strategy, "spec", None)
    if spec:
        return spec
    cls = type(strategy)
    return f"{cls.__module__}:{cls.__name__}"


def bar_intervals_used(strategy) -> dict[str, str]:
    """Every bar interval the strategy uses, with what uses it (for messages)."""
    used: dict[str, str] = {}
    for interval in strategy.subscriptions:
        used.setdefault(interval, "subscribes to")
    for interval in getattr(strategy, "reads", ()):
        used.setdefault(interval, "reads")
    for request in strategy.indicators:
        used.setdefault(request.interval, f"computes indicator {request.name!r} on")
    return used


def config_problems(config: SessionConfig, strategy) -> list[Problem]:
    """Mismatches visible from the config alone."""
    name = type(strategy).__name__
    problems: list[Problem] = []
    streams = set(config.session_data_config.streams)
    for interval, use in bar_intervals_used(strategy).items():
        if interval not in BAR_INTERVALS:
            problems.append(
                (
                    f"{name}",
                    f"{use} {interval!r}, which is not a bar interval ({', '.join(BAR_INTERVALS)})",
                )
            )
        elif interval not in streams:
            problems.append(
                (
                    "session_data_config.streams",
                    f"{name} {use} {interval!r}; add {interval!r} to the streams",
                )
            )
    problems += _indicator_request_problems(name, strategy.indicators)
    problems += _historical_problems(config, name, getattr(strategy, "historical_indicators", ()))
    return problems


def _indicator_request_problems(name: str, requests: Iterable[IndicatorRequest]) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for i, request in enumerate(requests):
        path = f"{name}.indicators[{i}]"
        if request.kind not in INDICATORS:
            problems.append(
                (path, f"unknown kind {request.kind!r}; valid: {', '.join(INDICATORS)}")
            )
        if not isinstance(request.period, int) or request.period < 1:
            problems.append((path, f"period must be a whole number >= 1, got {request.period!r}"))
        if request.field not in FIELDS:
            problems.append((path, f"field must be one of {', '.join(FIELDS)}"))
        key = (request.interval, request.name)
        if key in seen:
            problems.append((path, f"{request.name!r} on {request.interval} is declared twice"))
        seen.add(key)
    return problems


def _historical_problems(
    config: SessionConfig, name: str, needs: Iterable[HistoricalNeed]
) -> list[Problem]:
    defined = config.session_data_config.historical.indicators
    problems: list[Problem] = []
    for need in needs:
        path = f"session_data_config.historical.indicators.{need.name}"
        spec = defined.get(need.name)
        wanted = ", ".join(
            f"{k} {v!r}" for k, v in (("type", need.type), ("granularity", need.granularity)) if v
        )
        if spec is None:
            problems.append(
                (path, f"{name} reads it, but the config does not define it ({wanted or 'any'})")
            )
            continue
        if need.granularity is not None and spec.granularity != need.granularity:
            problems.append(
                (
                    f"{path}.granularity",
                    f"{name} reads it with granularity {need.granularity!r}, "
                    f"the config has {spec.granularity!r}",
                )
            )
        if need.type is not None and spec.type != need.type:
            problems.append(
                (f"{path}.type", f"{name} reads it as {need.type!r}, the config has {spec.type!r}")
            )
    return problems


def check_config_fits(config: SessionConfig, strategy, source: str) -> None:
    """Raise StrategyMismatch, listing every problem, when the config lacks what the strategy
    declares it needs; ``source`` names the config in the message (its file, or its name)."""
    problems = config_problems(config, strategy)
    if problems:
        raise StrategyMismatch(strategy_name(strategy), source, problems)


def marking_problems(plan: StreamPlan, symbols: Iterable[str], strategy) -> list[Problem]:
    """Intervals the strategy uses that the coordinator could not provide for a symbol."""
    name = type(strategy).__name__
    problems: list[Problem] = []
    for interval, use in bar_intervals_used(strategy).items():
        for symbol in symbols:
            try:
                mark = plan.mark(symbol, interval)
            except KeyError:
                continue  # not requested: reported by config_problems
            if mark is Mark.IGNORED:
                reason = next(
                    d.reason for d in plan.decisions if d.symbol == symbol and d.stream == interval
                )
                problems.append(
                    (
                        "session_data_config.streams",
                        f"{name} {use} {interval!r}, but {symbol}'s {interval} is IGNORED "
                        f"({reason})",
                    )
                )
    return problems
