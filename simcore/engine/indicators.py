"""Real-time indicators, updated incrementally as bars complete, for all symbols at once.

Each indicator keeps its state in arrays indexed by symbol, and ``update(symbols, bars)`` takes
the indices of the symbols that got a new bar plus their OHLCV values (arrays), so one derived
5m step updates every symbol in a few NumPy operations. ``value(i)`` is the current value of
symbol ``i`` (NaN until the indicator is warm).

Conventions (those of TA-Lib and most platforms): EMA seeded with the SMA of its first
``period`` values; RSI and ATR use Wilder's smoothing seeded with a simple mean; VWAP uses the
typical price (H+L+C)/3 and restarts every session; Bollinger bands are SMA +/- k population
standard deviations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FIELDS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class IndicatorRequest:
    """What a strategy declares: a named indicator on an interval."""

    name: str
    interval: str
    kind: str  # sma, ema, rsi, atr, vwap, bollinger
    period: int = 14
    field: str = "close"
    k: float = 2.0  # bollinger width

    def build(self, symbols: int) -> RealtimeIndicator:
        try:
            cls = INDICATORS[self.kind]
        except KeyError:
            raise ValueError(
                f"unknown indicator kind {self.kind!r}; valid: {', '.join(INDICATORS)}"
            ) from None
        if self.period < 1:
            raise ValueError(f"indicator {self.name}: period must be >= 1")
        if self.field not in FIELDS:
            raise ValueError(f"indicator {self.name}: field must be one of {FIELDS}")
        return cls(symbols, self)


class RealtimeIndicator:
    session_scoped = False  # True: reset at every session start (VWAP)

    @property
    def fields(self) -> tuple[str, ...]:
        """The bar fields ``update`` reads (so callers gather only those)."""
        return (self.request.field,)

    def __init__(self, symbols: int, request: IndicatorRequest):
        self.request = request
        self.current = np.full(symbols, np.nan)

    def value(self, i: int) -> float:
        return float(self.current[i])

    def update(self, idx: np.ndarray, bars: dict[str, np.ndarray]) -> None:
        """New bars of the symbols ``idx`` (ascending indices; ``bars`` aligned with them)."""
        raise NotImplementedError

    def reset(self) -> None:
        self.__init__(len(self.current), self.request)  # type: ignore[misc]


class _Window(RealtimeIndicator):
    """A ring buffer of the last ``period`` values per symbol."""

    def __init__(self, symbols: int, request: IndicatorRequest):
        super().__init__(symbols, request)
        self.ring = np.zeros((symbols, request.period))
        self.count = np.zeros(symbols, dtype=np.int64)
        # the count every symbol has while all have had the same number of values (None once
        # they differ): then a push writes one ring column
        self._lockstep: int | None = 0

    def _push(self, idx: np.ndarray, values: np.ndarray) -> np.ndarray | bool:
        """Store values; return whether each symbol's window is full (one answer for all
        when they move in lockstep)."""
        period = self.request.period
        if idx.size == self.count.size:  # every symbol (ascending): no gathers
            self.count += 1
            if self._lockstep is not None:
                self.ring[:, self._lockstep % period] = values
                self._lockstep += 1
                return self._lockstep >= period
            self.ring[idx, (self.count - 1) % period] = values
            return self.count >= period
        self._lockstep = None
        self.ring[idx, self.count[idx] % period] = values
        self.count[idx] += 1
        return self.count[idx] >= period

    def _rows(self, idx: np.ndarray) -> np.ndarray:
        """The ring rows of ``idx``: the ring itself when that is every symbol."""
        return self.ring if idx.size == self.count.size else self.ring[idx]


class SMA(_Window):
    def update(self, idx, bars):
        full = self._push(idx, bars[self.request.field])
        # the sum of each row over the period: exactly ndarray.mean, without its Python layer
        means = np.add.reduce(self._rows(idx), axis=1) / self.request.period
        self.current[idx] = np.where(full, means, np.nan)


class Bollinger(_Window):
    """``value`` is the middle band; ``bands(i)`` gives (lower, middle, upper)."""

    def __init__(self, symbols, request):
        super().__init__(symbols, request)
        self.width = np.full(symbols, np.nan)

    def update(self, idx, bars):
        full = self._push(idx, bars[self.request.field])
        window = self.ring[idx]
        self.current[idx] = np.where(full, window.mean(axis=1), np.nan)
        self.width[idx] = np.where(full, self.request.k * window.std(axis=1), np.nan)

    def bands(self, i: int) -> tuple[float, float, float]:
        middle, width = self.current[i], self.width[i]
        return float(middle - width), float(middle), float(middle + width)


class EMA(_Window):
    def update(self, idx, bars):
        values = bars[self.request.field]
        alpha = 2.0 / (self.request.period + 1)
        warm = self.count[idx] >= self.request.period
        previous = self.current[idx]
        full = self._push(idx, values)
        seeded = np.where(full & ~warm, self.ring[idx].mean(axis=1), np.nan)
        rolled = previous + alpha * (values - previous)
        self.current[idx] = np.where(warm, rolled, seeded)


class _Wilder(RealtimeIndicator):
    """Wilder smoothing of a per-bar quantity that needs the previous close."""

    fields = ("high", "low", "close")  # type: ignore[assignment]

    def __init__(self, symbols, request):
        super().__init__(symbols, request)
        self.prev_close = np.full(symbols, np.nan)
        self.seen = np.zeros(symbols, dtype=np.int64)  # quantities accumulated
        self.sums = np.zeros((symbols, 2))
        self.avg = np.full((symbols, 2), np.nan)

    def _quantities(self, idx, bars) -> np.ndarray:
        raise NotImplementedError

    def _smooth(self, idx, bars) -> np.ndarray:
        """Update the smoothed pair; returns the mask of symbols that are warm."""
        period = self.request.period
        has_prev = ~np.isnan(self.prev_close[idx])
        q = self._quantities(idx, bars)
        self.prev_close[idx] = bars["close"]
        use = idx[has_prev]
        q = q[has_prev]
        self.seen[use] += 1
        warm_before = self.seen[use] > period
        seeding = ~warm_before
        self.sums[use[seeding]] += q[seeding]
        done_seeding = use[seeding][self.seen[use[seeding]] == period]
        self.avg[done_seeding] = self.sums[done_seeding] / period
        rolling = use[warm_before]
        self.avg[rolling] = (self.avg[rolling] * (period - 1) + q[warm_before]) / period
        return self.seen[idx] >= period


class RSI(_Wilder):
    def _quantities(self, idx, bars):
        change = bars["close"] - self.prev_close[idx]
        return np.stack([np.maximum(change, 0.0), np.maximum(-change, 0.0)], axis=1)

    def update(self, idx, bars):
        warm = self._smooth(idx, bars)
        gain, loss = self.avg[idx, 0], self.avg[idx, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            rsi = np.where(loss == 0, 100.0, 100.0 - 100.0 / (1.0 + gain / loss))
        self.current[idx] = np.where(warm, rsi, np.nan)


class ATR(_Wilder):
    def _quantities(self, idx, bars):
        prev = self.prev_close[idx]
        tr = np.maximum.reduce(
            [bars["high"] - bars["low"], np.abs(bars["high"] - prev), np.abs(bars["low"] - prev)]
        )
        return np.stack([tr, np.zeros_like(tr)], axis=1)

    def update(self, idx, bars):
        warm = self._smooth(idx, bars)
        self.current[idx] = np.where(warm, self.avg[idx, 0], np.nan)


class VWAP(RealtimeIndicator):
    session_scoped = True
    fields = ("high", "low", "close", "volume")  # type: ignore[assignment]

    def __init__(self, symbols, request):
        super().__init__(symbols, request)
        self.pv = np.zeros(symbols)
        self.vol = np.zeros(symbols)

    def update(self, idx, bars):
        typical = (bars["high"] + bars["low"] + bars["close"]) / 3.0
        self.pv[idx] += typical * bars["volume"]
        self.vol[idx] += bars["volume"]
        with np.errstate(divide="ignore", invalid="ignore"):
            self.current[idx] = np.where(self.vol[idx] > 0, self.pv[idx] / self.vol[idx], np.nan)


INDICATORS: dict[str, type[RealtimeIndicator]] = {
    "sma": SMA,
    "ema": EMA,
    "rsi": RSI,
    "atr": ATR,
    "vwap": VWAP,
    "bollinger": Bollinger,
}
