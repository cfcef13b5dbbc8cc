"""The per-process cache of slow-changing reads, and its part in a booking's batched read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.keyed_reads import KeyedRead
from chalicelib.services.ttl_cache import TtlCache

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_batched_read_keeps_what_it_found_and_get_then_loads_nothing_until_it_expires():
    clock, loads = Clock(), []
    cache = TtlCache(lambda k: loads.append(k) or f"loaded {k}", timedelta(seconds=60), clock,
                     keyed=lambda k: KeyedRead((("pk", k),), lambda found: found.get(("pk", k), "absent")))
    read = cache.read("t1")
    assert read.keys == (("pk", "t1"),)
    assert read.answer({("pk", "t1"): "found t1"}) is None
    assert cache.get("t1") == "found t1" and loads == []
    assert cache.read("t1").keys == ()  # kept: nothing to read in the next batch
    clock.now += timedelta(seconds=61)
    assert cache.read("t1").keys == (("pk", "t1"),)
    assert cache.get("t1") == "loaded t1" and loads == ["t1"]


def test_without_a_keyed_read_the_cache_reads_nothing_ahead_and_get_loads_as_before():
    cache = TtlCache(lambda k: f"loaded {k}", timedelta(seconds=60), Clock())
    assert cache.read("t1").keys == () and cache.read("t1").answer({}) is None
    assert cache.get("t1") == "loaded t1"
