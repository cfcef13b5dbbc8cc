"""Reading and verifying the audit log (admins of the tenant only), and chaining it from the table's stream."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..domain.access import Caller
from ..domain.audit_chain import ChainReport
from ..domain.errors import Forbidden, NotFound
from ..domain.model import Interval
from ..domain.ports import AuditLog, payer_log
from .paging import decode_cursor, encode_cursor
from .streams import Change


class AuditService:
    def __init__(self, trail: AuditLog, max_wait_seconds: int = 300) -> None:
        self.trail = trail
        self.max_wait_seconds = max_wait_seconds

    def search(self, caller: Caller, window: Interval, patient_id: str | None, limit: int,
               cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        _require_admin(caller)
        items, last = self.trail.entries(caller.tenant_id, window, patient_id, limit, decode_cursor(cursor))
        # Reading the audit log names patients, so the read is itself audited.
        self.trail.record(caller, "audit.read", "audit", patient_id, "success")
        return items, encode_cursor(last)

    def search_payer(self, caller: Caller, payer_id: str, window: Interval, limit: int,
                     cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """A payer's own log: every lookup of its members by any tenant, and its own actions."""
        if not (caller.has("payer") and caller.payer_id == payer_id):
            raise NotFound("No such payer.")
        items, last = self.trail.entries(payer_log(payer_id), window, None, limit, decode_cursor(cursor))
        self.trail.record(caller, "audit.read", f"payer/{payer_id}/audit", None, "success", log=payer_log(payer_id))
        return items, encode_cursor(last)

    def verify(self, caller: Caller) -> ChainReport:
        _require_admin(caller)
        return self.trail.verify(caller.tenant_id, self.max_wait_seconds)


class AuditChainer:
    """The stream consumer of audit entries: new entries, grouped by log, chained in batches."""

    def __init__(self, trail: AuditLog) -> None:
        self.trail = trail

    def consume(self, changes: Sequence[Change]) -> dict[str, int]:
        by_log: dict[str, list[tuple[str, str]]] = {}
        for change in changes:
            if change.event == "INSERT" and change.new is not None:
                by_log.setdefault(str(change.new["log"]), []).append((change.pk, change.sk))
        # Sorted: a redelivered stream batch visits the logs in the same order.
        return {"chained": sum(self.trail.chain(log, keys) for log, keys in sorted(by_log.items()))}


def _require_admin(caller: Caller) -> None:
    if not caller.has("admin"):
        raise Forbidden("Only an admin may read the audit log.")
