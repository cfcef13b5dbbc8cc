"""Reading and verifying the audit log (admins of the tenant only)."""

from __future__ import annotations

from typing import Any

from ..adapters.dynamo.audit import DynamoAuditTrail
from ..domain.access import Caller
from ..domain.audit_chain import ChainReport
from ..domain.errors import Forbidden
from ..domain.model import Interval
from .paging import decode_cursor, encode_cursor


class AuditService:
    def __init__(self, trail: DynamoAuditTrail) -> None:
        self.trail = trail

    def search(self, caller: Caller, window: Interval, patient_id: str | None, limit: int,
               cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        _require_admin(caller)
        items, last = self.trail.entries(caller.tenant_id, window, patient_id, limit, decode_cursor(cursor))
        # Reading the audit log names patients, so the read is itself audited.
        self.trail.record(caller, "audit.read", "audit", patient_id, "success")
        return items, encode_cursor(last)

    def verify(self, caller: Caller) -> ChainReport:
        _require_admin(caller)
        return self.trail.verify(caller.tenant_id)

    def verify_tenant(self, tenant: str) -> ChainReport:
        """For ops tooling run with the stack's own credentials, not through the API."""
        return self.trail.verify(tenant)


def _require_admin(caller: Caller) -> None:
    if not caller.has("admin"):
        raise Forbidden("Only an admin may read the audit log.")
