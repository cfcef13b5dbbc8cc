"""What the services need from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from .access import Caller

Clock = Callable[[], datetime]
IdFactory = Callable[[str], str]


def payer_log(payer_id: str) -> str:
    """The audit log of a payer. '@' and ':' are outside the tenant id charset: no tenant can own this log."""
    return f"@payer:{payer_id}"


def audit_log_of(caller: Caller) -> str:
    """Whose log an action goes to: the payer's own for a payer token, never the log its tenant claim names."""
    if caller.has("payer") and caller.payer_id and not caller.has("admin", "scheduler", "clinician", "patient"):
        return payer_log(caller.payer_id)
    return caller.tenant_id


class AuditTrail(Protocol):
    def record(self, caller: Caller, action: str, resource: str, patient_id: str | None, outcome: str, *,
               log: str | None = None, extra: dict[str, str | None] | None = None) -> None:
        """Append one entry to `log` (default: audit_log_of(caller)); never raises for the caller's request
        to fail silently."""

    def record_many(self, caller: Caller, action: str, targets: Sequence[tuple[str, str | None]], outcome: str, *,
                    log: str | None = None) -> None:
        """One entry per (resource, patient id) of a list page, written together (one BatchWriteItem)."""
