"""Append-only, hash-chained audit entries of every PHI read or write made through the API.

Per tenant, a head item holds the last sequence number and hash; an append is one transaction that
advances the head (conditioned on the sequence it read) and puts the entry with
attribute_not_exists, so two appends can never claim the same place in the chain. Entries carry
ids only (actor sub and role, resource, patient id), never names, dates of birth or member ids.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from ...domain.access import Caller
from ...domain.audit_chain import GENESIS, ChainReport, entry_hash, verify_chain
from ...domain.model import Interval
from ...domain.ports import Clock, audit_log_of
from ...observability import logger
from .codec import _plain
from .keys import require_key, require_partition
from .models import AuditEntryItem, AuditHeadItem

APPEND_ATTEMPTS = 12


def _z(moment: datetime) -> str:
    """API.md's output form; sortable as text, so it also serves as an index key."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entries_pk(tenant: str) -> str:
    return f"T#{tenant}#AUDIT"


def _parked_pk(tenant: str) -> str:
    return f"T#{tenant}#AUDITQ"


def _patient_index_pk(tenant: str, patient_id: str) -> str:
    return f"T#{tenant}#AUDITPAT#{patient_id}"


class DynamoAuditTrail:
    def __init__(self, clock: Clock, connection: Connection, *, attempts: int = APPEND_ATTEMPTS,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.clock = clock
        self.connection = connection
        self.attempts = attempts
        self.sleep = sleep

    def record(self, caller: Caller, action: str, resource: str, patient_id: str | None, outcome: str, *,
               log: str | None = None, extra: dict[str, str | None] | None = None) -> None:
        """Append to the chain; under heavy contention park the entry instead of failing the request.

        The business write this entry describes has already committed, so an exception here would
        turn a stored booking into an error answer. A parked entry is never lost: it is readable by
        patient at once, counted by verify, and chained later by drain_parked().
        """
        log = log or audit_log_of(caller)
        entry = {**self._entry(caller, action, resource, patient_id, outcome), **(extra or {})}
        for attempt in range(self.attempts):
            if self._try_append(log, entry):
                return
            self.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** attempt)))  # full jitter, capped
        self._park(log, entry)

    def _entry(self, caller: Caller, action: str, resource: str, patient_id: str | None,
               outcome: str) -> dict[str, Any]:
        return {"at": _z(self.clock()), "tenant_id": caller.tenant_id,
                "actor": {"sub": caller.sub, "role": caller.primary_role}, "action": action, "resource": resource,
                "patient_id": patient_id, "outcome": outcome, "request_id": caller.request_id}

    def _try_append(self, tenant: str, fields: dict[str, Any]) -> bool:
        seq, prev = self._head(tenant)
        entry = {**fields, "seq": seq + 1, "prev_hash": prev}
        entry["hash"] = entry_hash(entry)
        return self._append(tenant, seq, entry)

    def _park(self, tenant: str, fields: dict[str, Any]) -> None:
        item = AuditEntryItem(_parked_pk(tenant), f"{fields['at']}#{uuid.uuid4().hex}", doc=fields, at=fields["at"])
        if fields["patient_id"]:
            item.gsi1pk = _patient_index_pk(tenant, fields["patient_id"])
            item.gsi1sk = f"{fields['at']}#parked"
        item.save()
        logger.warning("audit entry parked under contention", extra={"action": fields["action"]})

    def drain_parked(self, tenant: str) -> int:
        """Chain parked entries, oldest first (an ops job; verify reports how many wait)."""
        moved = 0
        for item in AuditEntryItem.query(_parked_pk(tenant), consistent_read=True):
            fields = _plain(item.doc)
            while not self._try_append(tenant, fields):
                self.sleep(random.uniform(0, 0.05))
            item.delete()
            moved += 1
        return moved

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
            cursor = require_partition(require_key(cursor, ("pk", "sk", "gsi1pk", "gsi1sk")), "gsi1pk",
                                       _patient_index_pk(tenant, patient_id))
            results = AuditEntryItem.by_patient.query(
                _patient_index_pk(tenant, patient_id),
                AuditEntryItem.gsi1sk.between(_z(window.start), _z(window.end) + "~"),
                limit=limit, last_evaluated_key=cursor)
        else:
            cursor = require_partition(require_key(cursor, ("pk", "sk")), "pk", _entries_pk(tenant))
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
        parked = sum(1 for _ in AuditEntryItem.query(_parked_pk(tenant), consistent_read=True))
        return replace(verify_chain(self._all(tenant), seq, last_hash), parked=parked)
