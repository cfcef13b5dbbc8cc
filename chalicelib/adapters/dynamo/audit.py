"""Append-only audit entries of every PHI read or write made through the API."""

from __future__ import annotations

import uuid
from datetime import datetime

from ...domain.access import Caller
from ...domain.ports import Clock
from ...observability import logger
from .models import DocumentItem


class DynamoAuditTrail:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def record(self, caller: Caller, action: str, resource: str, patient_id: str | None, outcome: str) -> None:
        at: datetime = self.clock()
        entry = {
            "at": at.isoformat(), "actor": {"sub": caller.sub, "role": caller.primary_role},
            "tenant_id": caller.tenant_id, "action": action, "resource": resource, "patient_id": patient_id,
            "outcome": outcome, "request_id": caller.request_id,
        }
        pk = f"T#{caller.tenant_id}#AUDIT#{at.date().isoformat()}"
        sk = f"{at.isoformat()}#{uuid.uuid4().hex}"
        try:
            DocumentItem(pk, sk, kind="audit", doc=entry).save(condition=DocumentItem.pk.does_not_exist())
        except Exception:
            # The audit store failing must be visible to ops; the entry holds ids only, never names.
            logger.exception("audit append failed", extra={"action": action, "resource": resource})
            raise
