"""Crisis escalations: an `escalate` routing decision becomes a record someone on call must close."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

STATUSES = ("open", "acknowledged", "resolved")


@dataclass(frozen=True)
class Escalation:
    tenant_id: str
    escalation_id: str
    patient_id: str
    risk: str
    reasons: tuple[str, ...]  # rule ids and screening findings that fired (no free text from callers)
    resources: tuple[str, ...]  # names of the crisis resources shown
    emergency_number: str
    opened_at: datetime
    opened_by: str  # role
    status: str = "open"
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    note: str | None = None  # PHI: stored, audited, never logged
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    outcome: str | None = None
    overdue_reported_at: datetime | None = None
    version: int = 0
