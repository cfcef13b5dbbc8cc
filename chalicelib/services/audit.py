"""Reading and verifying the audit log (admins of the tenant only), and chaining it from the table's stream."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..domain.access import Caller
from ..domain.audit_chain import ChainReport
from ..domain.errors import Forbidden, NotFound
from ..domain.model import Interval
from ..domain.ports import AuditLog, payer_log
from ..observability import logger
from .paging import decode_cursor, encode_cursor
from .streams import Change, ChangesFailed


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
        """Each log on its own: one log that cannot be chained now keeps no other log waiting. Its first
        entry of the batch is reported failed (services/streams.py), so the stream comes again from there
        and every entry of that log in the batch is chained by the redelivery (chaining is idempotent:
        entries already chained are skipped)."""
        by_log: dict[str, list[tuple[str, str]]] = {}
        first: dict[str, str] = {}  # log -> the sequence number of its first entry in this batch
        failed: list[str] = []
        for change in changes:
            if change.event == "INSERT" and change.new is not None:
                if not change.new.get("log"):  # not an entry this code wrote: nothing to chain it into
                    failed.append(change.sequence)
                    continue
                log = str(change.new["log"])
                by_log.setdefault(log, []).append((change.pk, change.sk))
                first.setdefault(log, change.sequence)
        chained = 0
        # Sorted: a redelivered stream batch visits the logs in the same order.
        for log, keys in sorted(by_log.items()):
            try:
                chained += self.trail.chain(log, keys)
            except Exception as exc:
                failed.append(first[log])
                logger.warning("audit log not chained; the stream comes again from its first entry",
                               extra={"sequence": first[log], "error": type(exc).__name__})
        if failed:
            raise ChangesFailed(failed, f"{len(failed)} audit log(s) or entries not chained")
        return {"chained": chained}


def _require_admin(caller: Caller) -> None:
    if not caller.has("admin"):
        raise Forbidden("Only an admin may read the audit log.")
