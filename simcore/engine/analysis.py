"""Analysis engine and the Strategy API.

A strategy is the user's own class. It declares the bar intervals it subscribes to (for all
symbols) and the real-time indicators it wants; it receives ``on_session_start``, ``on_bar`` for
each new bar of a subscribed interval, and ``on_session_end``. It reads **only** through its
``StrategyContext``, a read-only face of session_data, and emits signals through it. Only the
streams a strategy subscribes to are sync points: nothing else waits on it.

    class MyStrategy(Strategy):
        subscriptions = ("5m",)
        indicators = (IndicatorRequest("sma20", "5m", "sma", period=20),)

        def on_bar(self, ctx, symbol, interval, bar):
            if bar.close > ctx.indicator(symbol, "5m", "sma20"):
                ctx.signal(symbol, "buy", "close above SMA(20)", close=bar.close)
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

import numpy as np

from simcore.engine.bars import COLUMNS, Bar
from simcore.engine.context import Signal, StrategyContext, UndeclaredRead
from simcore.engine.events import DataUpdate
from simcore.engine.indicators import IndicatorRequest
from simcore.engine.parameters import Parameter
from simcore.engine.requirements import HistoricalNeed, strategy_name
from simcore.engine.session_data import SessionData
from simcore.errors import ClockError, UserError
from simcore.time import TimeManager, TradingSession
from simcore.trading.orders import Fill, OrderEvent
from simcore.trading.trader import Trader

__all__ = [
    "HistoricalNeed",
    "Signal",
    "Strategy",
    "StrategyContext",
    "StrategyError",
    "UndeclaredRead",
]


class StrategyError(UserError):
    """An exception raised inside strategy code. The message says which strategy, in which
    callback, at what time and for which symbol, and shows the strategy's own traceback (the
    engine's frames above it are left out: they are the same for every strategy)."""


class Strategy:
    """Base class of user strategies; override what you need.

    Declare what the strategy uses, so that a config that lacks it is refused before the run
    (``simcore.engine.requirements``) instead of failing at the first bar:

    * ``subscriptions`` — bar intervals ``on_bar``/``on_bars`` is called for;
    * ``reads`` — other bar intervals read through ``ctx.bars`` or ``ctx.last_bars``;
    * ``indicators`` — real-time indicators, each on an interval;
    * ``historical_indicators`` — historical indicators read by name with ``ctx.historical``
      (``HistoricalNeed("avg_volume_intraday", granularity="minute")``).

    And what may be tuned: ``parameters`` (``simcore.engine.parameters.Parameter``: a type, a
    default, a help text), read as attributes; a config's ``metadata.parameters`` or a sweep
    sets them. Declarations may depend on them (``indicators`` as a property).
    """

    parameters: ClassVar[dict[str, Parameter]] = {}
    spec: str | None = None  # how its user named it (module:Class, file.py:Class), when loaded
    # what this instance runs with (set by configure)
    parameter_values: Mapping[str, object] = MappingProxyType({})

    def __init_subclass__(cls, **kwargs) -> None:
        """A declared parameter reads as its default until something sets it."""
        super().__init_subclass__(**kwargs)
        for name, parameter in cls.__dict__.get("parameters", {}).items():
            if not hasattr(cls, name):
                setattr(cls, name, parameter.default)

    def configure(self, values: dict[str, object]) -> None:
        """Take checked parameter values (``simcore.engine.parameters.resolve``) as attributes."""
        self.parameter_values = dict(values)
        for key, value in values.items():
            setattr(self, key, value)

    subscriptions: ClassVar[tuple[str, ...]] = ("1m",)
    reads: ClassVar[tuple[str, ...]] = ()
    indicators: ClassVar[tuple[IndicatorRequest, ...]] = ()
    historical_indicators: ClassVar[tuple[HistoricalNeed, ...]] = ()

    def on_start(self, ctx: StrategyContext) -> None:
        """Once, before the first session."""

    def on_session_start(self, ctx: StrategyContext, session: TradingSession) -> None:
        """Before each session's first bar; historical data and indicators are loaded."""

    def on_bar(self, ctx: StrategyContext, symbol: str, interval: str, bar: Bar) -> None:
        """A new complete bar of a subscribed interval."""

    def on_bars(self, ctx: StrategyContext, interval: str, symbols: np.ndarray) -> None:
        """New bars of ``interval`` for several symbols at once (indices into ``ctx.symbols``).

        By default calls ``on_bar`` for each, in symbol order. A strategy that thinks in
        arrays may override it and read ``ctx.last_bars(interval, symbols)`` and
        ``ctx.indicator_values(interval, name)`` instead: one call per timestamp, not per bar.
        """
        names = ctx.symbols
        last_bar = ctx.last_bar
        on_bar = self.on_bar
        for s in symbols.tolist():
            on_bar(ctx, names[s], interval, last_bar(s, interval))

    def on_session_end(self, ctx: StrategyContext, session: TradingSession) -> None:
        """After the session's last bar, at the close."""

    def on_order_update(self, ctx: StrategyContext, event: OrderEvent) -> None:
        """An order changed: accepted, partially_filled, filled, canceled, expired, rejected
        (``event.detail`` names the risk rule), replaced."""

    def on_fill(self, ctx: StrategyContext, fill: Fill) -> None:
        """A fill: quantity, price and fee of (part of) an order."""


class AnalysisEngine:
    """Calls the strategy for the bars it subscribed to; collects its signals.

    Every call into strategy code is guarded: an exception there becomes a StrategyError that
    names the callback, the time and the symbol. When the strategy keeps the default
    ``on_bars``, the engine loops over the symbols itself, so it knows which bar failed.
    """

    def __init__(
        self,
        session_data: SessionData,
        time_manager: TimeManager,
        strategy: Strategy,
        trader: Trader | None = None,
    ):
        self.session_data = session_data
        self.strategy = strategy
        self.trader = trader
        self.ctx = StrategyContext(session_data, time_manager, trader, strategy)
        self.subscriptions = frozenset(strategy.subscriptions)
        self.cycles = 0
        self._per_bar = type(strategy).on_bars is Strategy.on_bars
        # a live broker's updates arrive between bars: they are applied at every update
        self._polls = trader is not None and hasattr(trader.broker, "poll")
        # the time of the data the strategy is reacting to: what an order's placement means to
        # the broker (in a backtest it is the clock; live, the clock is a little later)
        self.data_ns = 0
        if trader is not None:
            trader.now_ns = self.data_time  # a method, not a lambda: a checkpoint pickles it

    def data_time(self) -> int:
        """The time of the data the strategy is reacting to (UTC ns)."""
        return self.data_ns

    def start(self) -> None:
        try:
            self.strategy.on_start(self.ctx)
        except Exception as exc:
            raise self._error(exc, "on_start") from exc

    def begin_session(
        self, session: TradingSession, corporate_actions: list[tuple[str, str, float]] = ()
    ) -> None:
        self.ctx.session = session
        self.data_ns = self.ctx.time_manager.to_utc_ns(session.regular_open)
        if self.trader is not None and corporate_actions:
            self.trader.apply_corporate_actions(session.date, corporate_actions)
        self.ctx.scheduler.begin_session(session)
        try:
            self.strategy.on_session_start(self.ctx, session)
        except Exception as exc:
            raise self._error(exc, "on_session_start") from exc
        if self.trader is not None:
            self._tell()  # what on_session_start's orders did, before the first bar

    def wants(self, update: DataUpdate) -> bool:
        return (
            update.end_of_session
            or bool(update.slots)
            or update.ns >= self.ctx.scheduler.next_due
            or any(i in self.subscriptions for i, _ in update.bars)
        )

    def handle(self, update: DataUpdate) -> None:
        self.cycles += 1
        self.data_ns = update.ns
        if self.trader is not None and (update.slots or self.trader.has_news or self._polls):
            self._trade(update)
        for interval, symbols in update.bars:
            if interval not in self.subscriptions:
                continue
            if self._per_bar:
                self._each_bar(interval, symbols)
                continue
            try:
                self.strategy.on_bars(self.ctx, interval, symbols)
            except Exception as exc:
                names = [self.ctx.symbols[s] for s in symbols.tolist()]
                raise self._error(exc, "on_bars", interval, names) from exc
        if update.ns >= self.ctx.scheduler.next_due:
            self._run_schedules(update.ns)
        if self.trader is not None:
            self._tell()

    def _run_schedules(self, now_ns: int) -> None:
        """The schedules due by ``now_ns``: every bar up to it is visible and handled."""
        for schedule in self.ctx.scheduler.due(now_ns):
            schedule.runs += 1
            try:
                schedule.callback(self.ctx)
            except Exception as exc:
                raise self._error(exc, f"the schedule {schedule.name!r}") from exc
            if self.trader is not None:
                self._tell()

    def _trade(self, update: DataUpdate) -> None:
        """The broker first: fills on the new bars (in time order), and the strategy hears of
        them before it sees those bars."""
        trader, names = self.trader, self.session_data.symbols
        if self._polls:
            trader.broker.poll()  # a live broker's updates, applied on this thread
        index = self.session_data.index
        rows, working = None, -1
        for base, slot in update.slots:
            count = trader.book.working_count
            if count == 0:
                break  # nothing working: no later bar of this update can change anything
            if count != working:  # orders only leave the working set here: look again
                wanted = trader.symbols_to_check()
                if not wanted:
                    break
                rows = np.array(sorted(index[s] for s in wanted), dtype=np.int64)
                working = count
            # those with a bar in this slot, in symbol order
            grid = self.session_data.streamed(base).grid
            present = rows[grid.present[rows, slot]]
            if present.size:  # the bars an order may react to (the others: inside its band)
                present = present[
                    trader.reacting(
                        present,
                        grid.values["low"][present, slot],
                        grid.values["high"][present, slot],
                    )
                ]
            if present.size:
                values = {f: grid.values[f][present, slot] for f in COLUMNS[1:]}
                trader.on_bars(
                    [names[s] for s in present.tolist()], grid.slot_start_ns(slot), values
                )
        self._tell()

    def _tell(self) -> None:
        """Hand the strategy the order events and fills it has not heard of, in order."""
        if not self.trader.has_news:
            return
        events, fills = self.trader.news()
        pending = iter(fills)
        for event in events:
            if event.kind in ("filled", "partially_filled"):
                fill = next(pending, None)
                if fill is not None:
                    self._call("on_fill", self.strategy.on_fill, fill, event.symbol)
            self._call("on_order_update", self.strategy.on_order_update, event, event.symbol)

    def _call(self, name: str, callback, argument, symbol: str) -> None:
        try:
            callback(self.ctx, argument)
        except Exception as exc:
            raise self._error(exc, name, None, [symbol]) from exc

    def _each_bar(self, interval: str, symbols: np.ndarray) -> None:
        ctx, names, on_bar = self.ctx, self.ctx.symbols, self.strategy.on_bar
        last_bar = self.session_data.last_bar
        for s in symbols.tolist():
            bar = last_bar(s, interval)
            try:
                on_bar(ctx, names[s], interval, bar)
            except Exception as exc:
                raise self._error(exc, "on_bar", interval, [names[s]]) from exc

    def end_session(self, session: TradingSession) -> None:
        self.data_ns = self.ctx.time_manager.to_utc_ns(session.regular_close)
        self._run_schedules(self.data_ns)  # due at the close, or after the last release
        self.ctx.scheduler.end_session()
        if self.trader is not None:
            self.trader.end_session(self.data_ns, self.session_data.last_closes())
            self._tell()
        try:
            self.strategy.on_session_end(self.ctx, session)
        except Exception as exc:
            raise self._error(exc, "on_session_end") from exc
        if self.trader is not None:
            self._tell()

    def _error(
        self,
        exc: Exception,
        callback: str,
        interval: str | None = None,
        symbols: list[str] | None = None,
    ) -> StrategyError:
        try:
            when = self.ctx.now().isoformat()
        except ClockError:
            when = "before the first session"
        where = [f"time {when}"]
        if symbols:
            shown = ", ".join(symbols[:5]) + (
                f" and {len(symbols) - 5} more" if len(symbols) > 5 else ""
            )
            where.append(f"symbol{'s' if len(symbols) > 1 else ''} {shown}")
        if interval:
            where.append(f"interval {interval}")
        # the first frame is this engine's call into the strategy; the rest is the user's code
        frames = traceback.extract_tb(exc.__traceback__)[1:]
        trace = "".join(traceback.format_list(frames))
        problem = "".join(traceback.format_exception_only(exc)).strip()
        return StrategyError(
            f"strategy {strategy_name(self.strategy)} failed in {callback} "
            f"({', '.join(where)}):\n  {problem}\nthe strategy's traceback:\n{trace.rstrip()}"
        )
