"""An audit entry as a value: what a store writes in the same transaction as the change it describes.

A change of a visit and its entry are one write (AppointmentStore's `audit=`): a change that commits
has exactly one entry, a refused one has none. Refusals themselves are audited with a plain
AuditTrail.record (there is no change to go with them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .access import Caller


@dataclass(frozen=True)
class AuditEntry:
    caller: Caller
    action: str
    resource: str
    patient_id: str | None
    outcome: str = "success"
    extra: Mapping[str, str | None] | None = None
    log: str | None = None  # default: audit_log_of(caller)
