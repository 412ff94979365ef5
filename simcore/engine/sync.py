"""The design's one-shot StreamSubscription, independent of the runtime that waits on it.

A producer may deliver on a subscribed stream only when its consumer has signalled ready since
the last delivery. In data-driven mode (speed 0) the producer waits for that signal; in
clock-driven and live mode it cannot wait, and a consumer still busy is an overrun. The waiting
itself belongs to the runtime (a SimPy event in the simulator, a threading.Event on wall-clock
threads); this module holds the contract both runtimes keep.
"""

from __future__ import annotations

from typing import Protocol

from simcore.errors import SimcoreError


class OverrunError(SimcoreError):
    """Clock-driven or live: data arrived while the consumer was still processing the last."""


class SubscriptionTimeout(SimcoreError):
    """Data-driven: a consumer never signalled ready, so the pipeline cannot go on."""


class ReadyFlag(Protocol):
    """What a runtime provides to back a subscription."""

    def is_set(self) -> bool: ...
    def set(self) -> None: ...
    def clear(self) -> None: ...


class StreamSubscription:
    """One sync point: (symbol or '*', data type, interval) between a producer and a consumer."""

    __slots__ = ("data_type", "interval", "ready", "symbol")

    def __init__(self, symbol: str, data_type: str, interval: str | None, ready: ReadyFlag):
        self.symbol = symbol
        self.data_type = data_type  # 'bars', 'quotes', 'indicator', 'session'
        self.interval = interval
        self.ready = ready  # initially set: a new consumer is ready

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.symbol, self.data_type, self.interval)

    def signal_ready(self) -> None:
        """Consumer: ready for the next delivery."""
        self.ready.set()

    def take_if_ready(self) -> bool:
        """Producer: consume the ready signal if it is there (one-shot)."""
        if self.ready.is_set():
            self.ready.clear()
            return True
        return False

    def take_or_overrun(self) -> None:
        """Producer in clock-driven or live mode: no waiting; a busy consumer is an overrun."""
        if not self.take_if_ready():
            raise OverrunError(
                f"consumer overrun: {self.symbol} {self.data_type} {self.interval or ''}"
            )

    def __repr__(self) -> str:
        return f"StreamSubscription({self.symbol!r}, {self.data_type!r}, {self.interval!r})"
