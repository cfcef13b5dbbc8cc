"""Keyed reads of several stores in one round trip.

A store answers a read it can do by key with a KeyedRead instead of reading at once: the items it needs
and how it answers from those found. A service hands the reads of several stores to one
KeyedReads.read_all (domain/ports.py), which fetches all their items together: a booking reads its
eligibility cache entry and the rooms taken at its site in one BatchGetItem, not two calls. The keys
are the adapter's own: a service never looks inside a read.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class KeyedRead(Generic[T]):
    """`keys`: the items wanted; `answer`: the read's answer from the items found, by key (an item that
    does not exist is absent from the mapping). A read without keys answers from nothing."""

    keys: tuple[Hashable, ...]
    answer: Callable[[Mapping[Hashable, Any]], T]

    def then(self, f: Callable[[T], U]) -> KeyedRead[U]:
        """The same items, answered by `f` of this read's answer."""
        return KeyedRead(self.keys, lambda found: f(self.answer(found)))


def known(value: T) -> KeyedRead[T]:
    """A read whose answer is known already: it fetches nothing."""
    return KeyedRead((), lambda _found: value)
