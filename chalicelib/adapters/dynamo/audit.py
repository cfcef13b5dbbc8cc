"""Append-only, hash-chained audit entries of every PHI read or write made through the API.

Per tenant, a head item holds the last sequence number and hash; an append is one transaction that
advances the head (conditioned on the sequence it read) and puts the entry with
attribute_not_exists, so two appends can never claim the same place in the chain. Entries carry
ids only (actor sub and role, resource, patient id), never names, dates of birth or member ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from ...domain.access import Caller
from ...domain.audit_chain import GENESIS, ChainReport, entry_hash, verify_chain
from ...domain.model import Interval
from ...domain.ports import Clock
from ...observability import logger
from .codec import _plain
from .models import AuditEntryItem, AuditHeadItem

APPEND_ATTEMPTS = 8


def _z(moment: datetime) -> str:
    """API.md's output form; sortable as text, so it also serves as an index key."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entries_pk(tenant: str) -> str:
    return f"T#{tenant}#AUDIT"


def _patient_index_pk(tenant: str, patient_id: str) -> str:
    return f"T#{tenant}#AUDITPAT#{patient_id}"


class DynamoAuditTrail:
    def __init__(self, clock: Clock, connection: Connection) -> None:
        self.clock = clock
        self.connection = connection

    def record(self, caller: Caller, action: str, resource: str, patient_id: str | None, outcome: str) -> None:
        for _attempt in range(APPEND_ATTEMPTS):
            seq, prev = self._head(caller.tenant_id)
            at: datetime = self.clock()
            entry: dict[str, Any] = {
                "seq": seq + 1, "at": _z(at), "tenant_id": caller.tenant_id,
                "actor": {"sub": caller.sub, "role": caller.primary_role}, "action": action, "resource": resource,
                "patient_id": patient_id, "outcome": outcome, "request_id": caller.request_id, "prev_hash": prev,
            }
            entry["hash"] = entry_hash(entry)
            if self._append(caller.tenant_id, seq, entry):
                return
        logger.error("audit append kept conflicting", extra={"action": action, "resource": resource})
        raise RuntimeError("audit append failed after retries")

    def _head(self, tenant: str) -> tuple[int, str]:
        try:
            head = AuditHeadItem.get(_entries_pk(tenant), "HEAD", consistent_read=True)
        except DoesNotExist:
            return 0, GENESIS
        return int(head.seq), head.last_hash

    def _append(self, tenant: str, seq: int, entry: dict[str, Any]) -> bool:
        pk = _entries_pk(tenant)
        item = AuditEntryItem(pk, f"SEQ#{entry['seq']:012d}", doc=entry, at=entry["at"])
        if entry["patient_id"]:
            item.gsi1pk = _patient_index_pk(tenant, entry["patient_id"])
            item.gsi1sk = f"{entry['at']}#{entry['seq']:012d}"
        head = AuditHeadItem(pk, "HEAD", seq=entry["seq"], last_hash=entry["hash"])
        head_condition = (AuditHeadItem.pk.does_not_exist() if seq == 0 else AuditHeadItem.seq == seq)
        try:
            with TransactWrite(connection=self.connection) as tx:
                tx.save(head, condition=head_condition)
                tx.save(item, condition=AuditEntryItem.pk.does_not_exist())
        except TransactWriteError:
            return False  # another append took this place in the chain: read the head again
        return True

    # --- reading and verifying ---------------------------------------------------------------
    def entries(self, tenant: str, window: Interval, patient_id: str | None, limit: int,
                cursor: dict[str, Any] | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        if patient_id:
            results = AuditEntryItem.by_patient.query(
                _patient_index_pk(tenant, patient_id),
                AuditEntryItem.gsi1sk.between(_z(window.start), _z(window.end) + "~"),
                limit=limit, last_evaluated_key=cursor)
        else:
            results = AuditEntryItem.query(
                _entries_pk(tenant), AuditEntryItem.sk.startswith("SEQ#"),
                filter_condition=AuditEntryItem.at.between(_z(window.start), _z(window.end) + "~"),
                limit=limit, last_evaluated_key=cursor)
        items = [_plain(i.doc) for i in results]
        return items, results.last_evaluated_key

    def _all(self, tenant: str) -> Iterator[dict[str, Any]]:
        for item in AuditEntryItem.query(_entries_pk(tenant), AuditEntryItem.sk.startswith("SEQ#"),
                                         consistent_read=True):
            yield _plain(item.doc)

    def verify(self, tenant: str) -> ChainReport:
        seq, last_hash = self._head(tenant)
        return verify_chain(self._all(tenant), seq, last_hash)
