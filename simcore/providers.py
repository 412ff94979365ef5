"""The engine's contract with the outside world: what a market-data provider and a broker give it.

A provider (Alpaca today; Polygon and Schwab are the seed's others) is one package under
``adapters/`` that implements these Protocols. The engine never imports an adapter: the CLI
builds them and hands them in, and the components only see these shapes.

Market data, three roles:

* ``HistoryApi`` — the provider's history (REST) API: bars of a symbol set, interval and days
  brought into the local store, paged, rate-limited and retried, each symbol-day fetched once.
  Sessions then read the store, so a run on a provider is the local run on the same data. It
  also says which bar intervals it serves and what the live stream carries (the coordinator's
  live marking asks ``streamable``).
* ``LiveFeed`` — the live stream: ``LiveItem`` s (bars, updated bars, quotes, trades) put into
  ``inbox`` from the feed's own thread; reconnects on its own, and on ``reconnect`` when the
  engine sees a socket gone mute.
* ``GapSource`` — history for gap filling: the bars the provider has for one symbol in a range.

Trading, two levels:

* ``Broker`` — what the ``Trader`` sends orders to after its risk checks: ``submit``,
  ``cancel`` (a replace is a cancel with reason ``"replaced"`` and a new order), and
  ``end_session`` (DAY orders end with the session). The paper broker also takes ``on_bar``.
* ``AccountBroker`` — a broker of the outside world: ``start`` loads the account (cash,
  positions, open orders: reconciliation) and listens for order updates, ``poll`` applies
  them on the engine's thread, ``stop`` closes the stream.

``tests/conformance/`` holds the checks every provider must pass against its loopback emulator.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from simcore.live_stream import LiveItem
    from simcore.trading.orders import Order


@runtime_checkable
class HistoryApi(Protocol):
    """A provider's history API, writing what it fetches into the local store."""

    served: tuple[str, ...]  # the bar intervals it serves ("1m", "1d", ...)

    def streamable(self, symbol: str) -> set[str]:
        """What the provider's live stream carries for ``symbol`` (bar intervals, quotes,
        ticks): a requested stream outside it is generated from a smaller one, or ignored."""
        ...

    def fetch(
        self,
        symbols: Sequence[str],
        interval: str,
        days: Sequence[date],
        progress: Callable[[int, int], None] | None = None,
    ) -> object:
        """Bring the bars into the store unless fetched before; returns a report of requests,
        bars, retries and rows kept or rejected."""
        ...

    def check_keys(self, symbol: str) -> None:
        """One small request, so that missing or rejected credentials are a message before
        anything starts (``KeysRejected``, a ``UserError``)."""
        ...


@runtime_checkable
class LiveFeed(Protocol):
    """What the live runtime needs of a provider's live stream."""

    inbox: queue.SimpleQueue  # LiveItem, put by the feed's own thread

    def start(self, symbols: Sequence[str], channels: Sequence[str]) -> None:
        """Connect and subscribe ``symbols`` to ``channels``: the streams the marking
        STREAMED, in ``HistoryApi.streamable``'s words (``"1s"``, ``"1m"``, ``"quotes"``,
        ``"ticks"``)."""
        ...

    def stop(self) -> None: ...
    def reconnect(self, reason: str) -> None: ...
    @property
    def connected(self) -> bool: ...


@runtime_checkable
class GapSource(Protocol):
    """The provider's history API for gap filling: the bars it has in [start, end]."""

    def fetch(self, symbol: str, interval: str, start_ns: int, end_ns: int) -> list[LiveItem]: ...


@runtime_checkable
class Broker(Protocol):
    """Where the Trader's orders go once its risk checks passed."""

    def submit(self, order: Order, now_ns: int, last_price: float | None) -> None: ...
    def cancel(self, order: Order, now_ns: int, reason: str = "") -> None: ...
    def end_session(self, close_ns: int) -> None: ...


@runtime_checkable
class AccountBroker(Broker, Protocol):
    """A broker of the outside world, with an account of its own to reconcile with."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def poll(self) -> None: ...
    def reconcile_account(self) -> None: ...
