"""A change to one item of the main table, as its stream tells it: plain data, images decoded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    """One stream record as plain data (images decoded from DynamoDB JSON)."""

    event: str  # INSERT | MODIFY | REMOVE
    kind: str | None
    pk: str
    sk: str
    new: Mapping[str, Any] | None
    old: Mapping[str, Any] | None
    sequence: str
    # The record could not be read (a malformed image): no consumer gets it, and it fails at its place.
    unreadable: bool = False


class ChangesFailed(Exception):
    """A consumer went through its whole batch and some changes failed: their sequence numbers.

    The stream is retried from the first failed change on (Lambda's partial batch response), so a
    consumer names the first change it did not finish, never a later one: changes before it are done.
    """

    def __init__(self, sequences: Sequence[str], message: str = "") -> None:
        super().__init__(message or f"{len(sequences)} change(s) failed")
        self.sequences = tuple(sequences)
