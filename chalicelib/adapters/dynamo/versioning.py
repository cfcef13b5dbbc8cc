"""Optimistic locking: one place that turns a stale VersionAttribute write into a domain Conflict."""

from __future__ import annotations

from pynamodb.exceptions import PutError, UpdateError
from pynamodb.models import Model

from ...domain.errors import Conflict


def save_versioned(item: Model, conflict_message: str) -> None:
    """Save guarded by the item's version (PynamoDB adds the condition); a stale write is a Conflict."""
    try:
        item.save()
    except (PutError, UpdateError) as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise Conflict(conflict_message) from exc
        raise
