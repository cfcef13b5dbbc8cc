"""A small per-process cache for slow-changing reads (tenant settings, payer coverage) on hot paths.

Lambda keeps a process warm across requests; a booking must not pay a GetItem for a policy that
changes a few times a year. A write in this process invalidates at once; other processes see it
within `ttl` seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from ..domain.keyed_reads import KeyedRead, known

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, load: Callable[[K], V], ttl: timedelta, clock: Callable[[], datetime],
                 max_entries: int = 1024, keyed: Callable[[K], KeyedRead[V]] | None = None) -> None:
        """`keyed`: `load` as a KeyedRead, for `read`."""
        self._load = load
        self._keyed = keyed
        self._ttl = ttl
        self._clock = clock
        self._max = max_entries
        self._entries: dict[K, tuple[datetime, V]] = {}

    def get(self, key: K) -> V:
        hit = self._fresh(key)
        return hit[0] if hit is not None else self._keep(key, self._load(key))

    def read(self, key: K) -> KeyedRead[None]:
        """What `get` would load, as part of a batched read that keeps it here; nothing to read when kept."""
        if self._keyed is None or self._fresh(key) is not None:
            return known(None)

        def keep(value: V) -> None:
            self._keep(key, value)

        return self._keyed(key).then(keep)

    def _fresh(self, key: K) -> tuple[V] | None:
        hit = self._entries.get(key)
        return (hit[1],) if hit is not None and self._clock() - hit[0] < self._ttl else None

    def _keep(self, key: K, value: V) -> V:
        if len(self._entries) >= self._max:
            self._entries.clear()  # bounded: a warm Lambda serves a handful of tenants
        self._entries[key] = (self._clock(), value)
        return value

    def invalidate(self, key: K) -> None:
        self._entries.pop(key, None)
