"""A small per-process cache for slow-changing reads (tenant settings, payer coverage) on hot paths.

Lambda keeps a process warm across requests; a booking must not pay a GetItem for a policy that
changes a few times a year. A write in this process invalidates at once; other processes see it
within `ttl` seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, load: Callable[[K], V], ttl: timedelta, clock: Callable[[], datetime],
                 max_entries: int = 1024) -> None:
        self._load = load
        self._ttl = ttl
        self._clock = clock
        self._max = max_entries
        self._entries: dict[K, tuple[datetime, V]] = {}

    def get(self, key: K) -> V:
        now = self._clock()
        hit = self._entries.get(key)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        value = self._load(key)
        if len(self._entries) >= self._max:
            self._entries.clear()  # bounded: a warm Lambda serves a handful of tenants
        self._entries[key] = (now, value)
        return value

    def invalidate(self, key: K) -> None:
        self._entries.pop(key, None)
