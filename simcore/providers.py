"""The engine's contract with market-data providers: the shapes it asks the outside world for.

A provider is one package under ``adapters/`` that implements these Protocols and exposes a
factory (``adapters/<provider>/factory.py``); ``adapters/registry.py`` maps the config's
``data_api`` and ``trade_api`` names to the factories. Nothing in ``simcore`` imports an adapter:
the application layer (``simcore.app``) asks the registry and hands what it built to the
engine, which only sees these shapes. The trading side of the contract (``Broker``,
``AccountBroker``) is in ``simcore.trading.broker``.

* ``LiveItem`` — one message of a live feed: a bar, an updated bar, a quote or a trade.
* ``HistoryApi`` — the provider's history (REST) API: bars of a symbol set, interval and days
  brought into the local store, paged, rate-limited and retried, each symbol-day fetched once.
  Sessions then read the store, so a run on a provider is the local run on the same data. It
  also says which bar intervals it serves and what the live stream carries (the live marking
  asks ``streamable``).
* ``LiveFeed`` — the live stream: ``LiveItem`` s put into ``inbox`` from the feed's own thread;
  reconnects on its own, and on ``reconnect`` when the engine sees a socket gone mute.
* ``GapSource`` — history for gap filling: the bars the provider has for one symbol in a range.
* ``CredentialsMissing`` / ``CredentialsRejected`` — what a provider raises for credentials
  absent from the environment or refused (messages, never the secrets themselves).

Imports: ``simcore.errors`` only. ``tests/conformance/`` holds the checks every provider must
pass against its loopback emulator.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol, runtime_checkable

from simcore.errors import UserError


@dataclass(frozen=True, slots=True)
class LiveItem:
    """One message from a live feed, as the engine takes it (adapters build these)."""

    kind: str  # "bar", "updated", "fill", "quote", "trade"
    symbol: str
    time_ns: int  # a bar's start; a quote's or trade's time
    values: tuple[float, ...]  # bar: OHLCV; quote: bid, bid size, ask, ask size; trade: price, size
    received: float = 0.0  # perf_counter when the feed received it (latency figures)


class CredentialsMissing(UserError):
    """The environment lacks a provider's credentials (the message names the variables)."""


class CredentialsRejected(UserError):
    """The provider (or its emulator) refused the credentials."""


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
        anything starts (``CredentialsRejected``)."""
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
