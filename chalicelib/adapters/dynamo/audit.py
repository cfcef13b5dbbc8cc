"""Audit entries of every PHI read or write made through the API, and their per-log hash chain.

The request path writes only its own entry: one PutItem (a page of N: BatchWriteItem), never a
transaction and never a shared item. Entries spread over month x shard partitions
(pk=T#{log}#AUDIT#{yyyy-mm}#{shard}), so no partition takes every audited request of a large tenant.

The chain is built after the fact by the table's stream consumer (services/streams.py -> chain()):
per log, one conditional write of the head claims a batch of entries (their places and hashes, in
chain_order), then the batch's links and the entries' seq are written; both are plain puts of
values the head fixed, so a consumer that stops half way, or a redelivered stream batch, finishes
the same batch the same way. Entries carry ids only (actor sub and role, resource, patient id),
never names, dates of birth or member ids.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from ...domain.access import Caller
from ...domain.audit_chain import ChainReport, chain_order, link_batch, verify_chain, with_waiting
from ...domain.audit_entry import AuditEntry
from ...domain.errors import FieldError, ValidationFailed
from ...domain.model import Interval
from ...domain.ports import Clock, audit_log_of
from ...observability import logger
from .codec import _plain
from .models import AuditChainLinkItem, AuditEntryItem, AuditHeadItem

SHARDS = 4  # partitions per log and month: 4 x ~1,000 writes/s before DynamoDB throttles one log
LINK_BLOCK = 10_000  # chain links per partition
BATCH = 100  # entries one head write claims
CLAIM_ATTEMPTS = 20
MONTHS_PER_PAGE = 3  # a tenant-wide page reads at most 3 months x SHARDS partitions


def _z(moment: datetime) -> str:
    """API.md's output form; sortable as text, so it also serves as a sort key."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _k(moment: datetime) -> str:
    """Sort-key time: microseconds, so entries of one second list in the order they were written."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _shard(entry_id: str) -> int:
    return int(hashlib.sha256(entry_id.encode()).hexdigest()[:8], 16) % SHARDS


def entries_pk(log: str, month: str, shard: int) -> str:
    return f"T#{log}#AUDIT#{month}#{shard}"


def head_pk(log: str) -> str:
    return f"T#{log}#AUDIT"  # the digest job (infra/functions/audit_digest.py) reads heads by this key


def link_pk(log: str, seq: int) -> str:
    return f"T#{log}#AUDIT#CHAIN#{seq // LINK_BLOCK:08d}"


def _patient_index_pk(log: str, patient_id: str) -> str:
    return f"T#{log}#AUDITPAT#{patient_id}"


def _waiting_pk(log: str, shard: int) -> str:
    return f"T#{log}#AUDITWAIT#{shard}"


def _months(start: datetime, end: datetime) -> list[str]:
    first, last = start.astimezone(UTC), end.astimezone(UTC)
    index, stop = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    return [f"{n // 12:04d}-{n % 12 + 1:02d}" for n in range(index, stop + 1)]


class DynamoAuditTrail:
    def __init__(self, clock: Clock, connection: Connection, *, attempts: int = CLAIM_ATTEMPTS,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.clock = clock
        self.connection = connection
        self.attempts = attempts
        self.sleep = sleep

    # --- the request path --------------------------------------------------------------------
    def record(self, caller: Caller, action: str, resource: str, patient_id: str | None, outcome: str, *,
               log: str | None = None, extra: dict[str, str | None] | None = None) -> None:
        """One PutItem. An error propagates: an audited read must not answer without its entry."""
        self.entry_item(caller, action, resource, patient_id, outcome, log=log, extra=extra).save(
            condition=AuditEntryItem.pk.does_not_exist())

    def record_many(self, caller: Caller, action: str, targets: Sequence[tuple[str, str | None]], outcome: str, *,
                    log: str | None = None) -> None:
        """A list page: one entry per (resource, patient id), in BatchWriteItem calls of 25 (unprocessed items
        are retried by PynamoDB)."""
        if not targets:
            return
        with AuditEntryItem.batch_write() as batch:
            for resource, patient_id in targets:
                batch.save(self.entry_item(caller, action, resource, patient_id, outcome, log=log))

    def item_of(self, entry: AuditEntry) -> AuditEntryItem:
        """A change's entry as an item, for the change's own transaction (put under attribute_not_exists(pk))."""
        return self.entry_item(entry.caller, entry.action, entry.resource, entry.patient_id, entry.outcome,
                               log=entry.log, extra=dict(entry.extra) if entry.extra else None)

    def entry_item(self, caller: Caller, action: str, resource: str, patient_id: str | None, outcome: str, *,
                   log: str | None = None, extra: dict[str, str | None] | None = None) -> AuditEntryItem:
        """The entry as an item, e.g. to write it in the same transaction as the change it describes."""
        log = log or audit_log_of(caller)
        entry_id, now = uuid.uuid4().hex, self.clock()
        at = _z(now)
        doc = {"entry_id": entry_id, "at": at, "tenant_id": caller.tenant_id,
               "actor": {"sub": caller.sub, "role": caller.primary_role}, "action": action, "resource": resource,
               "patient_id": patient_id, "outcome": outcome, "request_id": caller.request_id, **(extra or {})}
        shard, sk = _shard(entry_id), f"{_k(now)}#{entry_id}"
        item = AuditEntryItem(entries_pk(log, at[:7], shard), sk, log=log, at=at, doc=doc,
                              gsi2pk=_waiting_pk(log, shard), gsi2sk=sk)
        if patient_id:
            item.gsi1pk, item.gsi1sk = _patient_index_pk(log, patient_id), sk
        return item

    # --- the stream consumer -----------------------------------------------------------------
    def chain(self, log: str, keys: Sequence[tuple[str, str]]) -> int:
        """Chain the entries at `keys` that are not chained yet; returns how many this call chained.

        Idempotent: entries already chained (by an earlier delivery or a concurrent consumer) are skipped.
        """
        chained = 0
        remaining = list(dict.fromkeys(keys))
        for attempt in range(self.attempts):
            head = self._head(log)
            if head is not None and head.batch:
                self._finish(log, [_plain(b) for b in head.batch], check=True)
            pending = self._unchained(remaining)
            if not pending:
                return chained
            batch = pending[:BATCH]
            seq, last_hash = (int(head.seq), head.last_hash) if head is not None else (0, "")
            links = link_batch((doc for _, doc in batch), seq, last_hash)
            by_id = {doc["entry_id"]: item for item, doc in batch}
            claimed = [{"pk": by_id[link.entry_id].pk, "sk": by_id[link.entry_id].sk, "seq": link.seq,
                        "prev_hash": link.prev_hash, "hash": link.hash} for link in links]
            if self._claim(log, seq, links[-1].seq, links[-1].hash, claimed):
                self._finish(log, claimed, check=False)
                chained += len(claimed)
                done = {(c["pk"], c["sk"]) for c in claimed}
                remaining = [k for k in remaining if k not in done]
                continue
            self.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** attempt)))  # another consumer moved the head
        raise RuntimeError("audit chain head kept moving; the stream batch will be delivered again")

    def _claim(self, log: str, seq: int, new_seq: int, new_hash: str, batch: list[dict[str, Any]]) -> bool:
        head = AuditHeadItem(head_pk(log), "HEAD", seq=new_seq, last_hash=new_hash, batch=batch,
                             claimed_at=_k(self.clock()))
        condition = AuditHeadItem.pk.does_not_exist() if seq == 0 else AuditHeadItem.seq == seq
        try:
            head.save(condition=condition)
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _finish(self, log: str, batch: Sequence[Mapping[str, Any]], *, check: bool) -> None:
        """Write what a claimed batch fixed: each entry's place, then the links (the last one last, so its
        presence says the batch is done)."""
        if check and self._written(log, int(batch[-1]["seq"])):
            return
        for b in batch:
            try:
                AuditEntryItem(b["pk"], b["sk"]).update(actions=[
                    AuditEntryItem.seq.set(b["seq"]), AuditEntryItem.prev_hash.set(b["prev_hash"]),
                    AuditEntryItem.hash.set(b["hash"]), AuditEntryItem.gsi2pk.remove(),
                    AuditEntryItem.gsi2sk.remove()], condition=AuditEntryItem.pk.exists())
            except UpdateError:  # the entry was removed after it was claimed: verify reports it missing
                logger.warning("audit entry gone before it was chained", extra={"seq": int(b["seq"])})
        links = [AuditChainLinkItem(link_pk(log, int(b["seq"])), f"SEQ#{int(b['seq']):012d}", seq=b["seq"],
                                    prev_hash=b["prev_hash"], hash=b["hash"], entry_pk=b["pk"], entry_sk=b["sk"])
                 for b in batch]
        with AuditChainLinkItem.batch_write() as writer:
            for link in links[:-1]:
                writer.save(link)
        links[-1].save()

    def _unchained(self, keys: Sequence[tuple[str, str]]) -> list[tuple[AuditEntryItem, dict[str, Any]]]:
        found = [(i, _plain(i.doc)) for i in AuditEntryItem.batch_get(keys, consistent_read=True)
                 if i.kind == "audit" and i.seq is None and i.doc is not None]
        return sorted(found, key=lambda pair: chain_order(pair[1]))

    def _head(self, log: str) -> AuditHeadItem | None:
        try:
            return AuditHeadItem.get(head_pk(log), "HEAD", consistent_read=True)
        except DoesNotExist:
            return None

    # --- reading and verifying ---------------------------------------------------------------
    def entries(self, log: str, window: Interval, patient_id: str | None, limit: int,
                cursor: dict[str, Any] | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Entries at once, chained or not (`seq` is None until chained), oldest first."""
        low, high = _k(window.start), _k(window.end) + "~"
        if patient_id:
            after = _cursor_after(cursor, ("patient",), patient_id)
            found = [i for i in AuditEntryItem.by_patient.query(
                _patient_index_pk(log, patient_id), AuditEntryItem.gsi1sk.between(max(low, after or ""), high),
                limit=limit + 1) if i.gsi1sk != after]
            items = found[:limit]
            more = len(found) > limit
            return [_entry(i) for i in items], ({"patient": patient_id, "after": items[-1].sk} if more else None)
        after = _cursor_after(cursor, ("month",), None)
        months = _months(window.start, window.end)
        if cursor is not None:
            months = [m for m in months if m >= cursor["month"]]
        page: list[AuditEntryItem] = []
        for n, month in enumerate(months):
            if n == MONTHS_PER_PAGE:  # a long quiet window: a short page, and the cursor goes on from here
                return [_entry(i) for i in page], {"month": month, "after": ""}
            start = max(low, after) if after and after[:7] == month else low
            found: list[AuditEntryItem] = []
            for shard in range(SHARDS):
                found += [i for i in AuditEntryItem.query(
                    entries_pk(log, month, shard), AuditEntryItem.sk.between(start, high), limit=limit + 1)
                    if i.sk != after]
            page += sorted(found, key=lambda i: i.sk)[:limit - len(page)]
            if len(page) >= limit:
                return [_entry(i) for i in page], {"month": month, "after": page[-1].sk}
        return [_entry(i) for i in page], None

    def verify(self, log: str, max_wait_seconds: int) -> ChainReport:
        """Waiting entries are read first, then the head and the links: an entry chained meanwhile is seen in
        the chain (or counted twice), never missed. A batch the head claimed whose links are not all written
        yet counts as waiting while it is younger than the bound; older, its missing links are a fault."""
        now = self.clock()
        ages = {(i.pk, i.sk): _age(now, i.at) for shard in range(SHARDS)
                for i in AuditEntryItem.waiting.query(_waiting_pk(log, shard))
                if i.seq is None}  # the index lags the table a moment after chaining
        head = self._head(log)
        seq, last_hash = (int(head.seq), head.last_hash) if head is not None else (0, "")
        if head is not None and head.batch and not self._written(log, seq):
            batch = [_plain(b) for b in head.batch]
            seq, last_hash = int(batch[0]["seq"]) - 1, str(batch[0]["prev_hash"])
            claimed = datetime.fromisoformat(head.claimed_at).replace(tzinfo=UTC) if head.claimed_at else now
            for b in batch:
                ages.setdefault((b["pk"], b["sk"]), int((now - claimed).total_seconds()))
        report = verify_chain((x for x in self._links(log, seq) if x[0]["seq"] <= seq), seq, last_hash)
        return with_waiting(report, list(ages.values()), max_wait_seconds)

    def _written(self, log: str, seq: int) -> bool:
        try:
            AuditChainLinkItem.get(link_pk(log, seq), f"SEQ#{seq:012d}", consistent_read=True,
                                   attributes_to_get=["pk"])
        except DoesNotExist:
            return False
        return True

    def _links(self, log: str, head_seq: int) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
        for block in range(head_seq // LINK_BLOCK + 1):
            page: list[AuditChainLinkItem] = []
            for link in AuditChainLinkItem.query(f"T#{log}#AUDIT#CHAIN#{block:08d}", consistent_read=True):
                page.append(link)
                if len(page) == 100:
                    yield from self._with_entries(page)
                    page = []
            yield from self._with_entries(page)

    def _with_entries(self, links: list[AuditChainLinkItem]
                      ) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
        if not links:
            return
        entries = {(i.pk, i.sk): _plain(i.doc)
                   for i in AuditEntryItem.batch_get([(x.entry_pk, x.entry_sk) for x in links], consistent_read=True)}
        for x in links:
            yield ({"seq": int(x.seq), "prev_hash": x.prev_hash, "hash": x.hash},
                   entries.get((x.entry_pk, x.entry_sk)))


def _age(now: datetime, at: str) -> int:
    return int((now - datetime.fromisoformat(at.replace("Z", "+00:00"))).total_seconds())


def _entry(item: AuditEntryItem) -> dict[str, Any]:
    return {**_plain(item.doc), "seq": None if item.seq is None else int(item.seq), "prev_hash": item.prev_hash,
            "hash": item.hash}


def _cursor_after(cursor: Any, names: tuple[str, ...], patient_id: str | None) -> str | None:
    """A cursor is the sort key of the last entry of the previous page (and its month or patient)."""
    if cursor is None:
        return None
    expected = {*names, "after"}
    valid = (isinstance(cursor, dict) and set(cursor) == expected
             and all(isinstance(cursor[k], str) for k in expected)
             and (patient_id is None or cursor.get("patient") == patient_id)
             and (patient_id is not None or cursor["after"][:7] in ("", cursor["month"])))
    if not valid:
        raise ValidationFailed("cursor is not valid", errors=[FieldError("cursor", "is not a cursor we issued")])
    return str(cursor["after"]) or None

