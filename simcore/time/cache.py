"""The design's TimeManager cache: a last-query slot in front of a small LRU, with counters.

The same date is asked for hundreds of times per session (every bar asks for its session's close),
so the last-query slot answers most calls without hashing into the LRU at all.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

DEFAULT_CACHE_SIZE = 100


@dataclass(frozen=True, slots=True)
class CacheStats:
    hits: int
    misses: int
    size: int


class LookupCache(Generic[K, V]):
    """Memoises one kind of calendar lookup."""

    __slots__ = ("_compute", "_entries", "_last_key", "_last_value", "_max_size", "hits", "misses")

    _EMPTY = object()

    def __init__(self, compute: Callable[[K], V], max_size: int = DEFAULT_CACHE_SIZE):
        self._compute = compute
        self._max_size = max_size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._last_key: object = self._EMPTY
        self._last_value: V | None = None
        self.hits = 0
        self.misses = 0

    def get(self, key: K) -> V:
        if key == self._last_key:
            self.hits += 1
            return self._last_value  # type: ignore[return-value]
        entries = self._entries
        if key in entries:
            self.hits += 1
            entries.move_to_end(key)
            value = entries[key]
        else:
            self.misses += 1
            value = self._compute(key)
            entries[key] = value
            if len(entries) > self._max_size:
                entries.popitem(last=False)
        self._last_key = key
        self._last_value = value
        return value

    def invalidate(self) -> None:
        """Forget every entry (the design invalidates at session start); counters are kept."""
        self._entries.clear()
        self._last_key = self._EMPTY
        self._last_value = None

    def __len__(self) -> int:
        return len(self._entries)

    def stats(self) -> CacheStats:
        return CacheStats(self.hits, self.misses, len(self._entries))
