"""A change to one item of the main table, as its stream tells it: plain data, images decoded."""

from __future__ import annotations

from collections.abc import Mapping
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
