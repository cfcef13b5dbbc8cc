"""Reminders, link nonces, confirmations and no-show tallies (access patterns in models.py).

Due reminders are found by time bucket: a pointer per scheduled reminder in the partition of its
send hour and a shard (a hash of the reminder id), so the job Queries a few partitions and never
Scans. Every status change is conditional on the status read, so a retried or overlapping job run
claims a reminder once: `scheduled -> sending` is the conditional write before the send.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from ...domain.reminders import Reminder
from . import keys
from .codec import from_doc, to_doc
from .models import PointerItem, StatusItem

SHARDS = 8
CONFIRM_SK = "CONFIRM"
NOSHOWS_SK = "NOSHOWS"


def shard(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % SHARDS


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S")


def _due_pk(r: Reminder) -> str:
    return f"REMDUE#{r.send_at.astimezone(UTC):%Y%m%d%H}#{shard(r.reminder_id)}"


def _due_sk(r: Reminder) -> str:
    return f"{stamp(r.send_at)}#{r.tenant_id}#{r.appointment_id}#{r.reminder_id}"


def _release_pk(appointment_id: str, release_at: datetime) -> str:
    return f"CONFDUE#{release_at.astimezone(UTC):%Y%m%d%H}#{shard(appointment_id)}"


def _release_sk(tenant: str, appointment_id: str, release_at: datetime) -> str:
    return f"{stamp(release_at)}#{tenant}#{appointment_id}"


def _due_pointers(prefix: str, now: datetime, lookback: timedelta) -> Iterator[tuple[PointerItem, datetime]]:
    """Pointers due by `now` in the hour buckets `{prefix}#{yyyymmddHH}#{shard}` from `now - lookback`."""
    hour = (now - lookback).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    high = stamp(now) + "~"
    while hour <= now:
        for s in range(SHARDS):
            for p in PointerItem.query(f"{prefix}#{hour:%Y%m%d%H}#{s}", PointerItem.sk <= high):
                yield p, datetime.strptime(p.sk.split("#")[0], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        hour += timedelta(hours=1)


def _failed(exc: Exception) -> bool:
    cause = getattr(exc, "cause_response_code", None)
    return cause in ("ConditionalCheckFailedException", "TransactionCanceledException") or isinstance(
        exc, TransactWriteError)


class ReminderRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    # --- reminders ---------------------------------------------------------------------------
    def for_appointment(self, tenant: str, appointment_id: str) -> list[Reminder]:
        items = StatusItem.query(keys.appointment_pk(tenant, appointment_id), StatusItem.sk.startswith("REM#"),
                                 consistent_read=True)
        found = [replace(from_doc(Reminder, i.doc), status=i.status) for i in items]
        return sorted(found, key=lambda r: (r.send_at, r.channel))

    def get(self, tenant: str, appointment_id: str, reminder_id: str) -> Reminder | None:
        try:
            item = StatusItem.get(keys.appointment_pk(tenant, appointment_id), f"REM#{reminder_id}",
                                  consistent_read=True)
        except DoesNotExist:
            return None
        return replace(from_doc(Reminder, item.doc), status=item.status)

    def schedule(self, reminder: Reminder) -> bool:
        """Write a scheduled reminder and its due pointer; a reminder already sent is left alone."""
        item = self._item(reminder)
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.save(item, condition=StatusItem.pk.does_not_exist() | StatusItem.status.is_in("scheduled",
                                                                                                 "cancelled"))
                tx.save(PointerItem(_due_pk(reminder), _due_sk(reminder), kind="reminder_due",
                                    doc={"tenant_id": reminder.tenant_id, "appointment_id": reminder.appointment_id,
                                         "reminder_id": reminder.reminder_id}))
        except TransactWriteError:
            return False
        return True

    def finish(self, reminder: Reminder, status: str, expected: str, **changes: Any) -> bool:
        """Move a reminder from `expected` to `status` (conditional) and drop its due pointer."""
        new = replace(reminder, status=status, **changes)
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.save(self._item(new), condition=StatusItem.status == expected)
                if status != "sending":
                    tx.delete(PointerItem(_due_pk(reminder), _due_sk(reminder)))
        except TransactWriteError:
            return False
        return True

    def claim(self, reminder: Reminder) -> bool:
        """The conditional write before the send: only one run moves `scheduled` to `sending`."""
        return self.finish(reminder, "sending", "scheduled")

    def drop_pointer(self, tenant: str, appointment_id: str, reminder_id: str, send_at: datetime) -> None:
        probe = Reminder(tenant, appointment_id, reminder_id, "", send_at, "", send_at, 0)
        PointerItem(_due_pk(probe), _due_sk(probe)).delete()

    def due(self, now: datetime, lookback: timedelta) -> list[tuple[str, str, str, datetime]]:
        """(tenant, appointment, reminder, send_at) of pointers due by `now`, hour buckets back to `lookback`."""
        found = [(p.doc["tenant_id"], p.doc["appointment_id"], p.doc["reminder_id"], at)
                 for p, at in _due_pointers("REMDUE", now, lookback)]
        return sorted(found, key=lambda f: f[3])

    def _item(self, r: Reminder) -> StatusItem:
        return StatusItem(keys.appointment_pk(r.tenant_id, r.appointment_id), f"REM#{r.reminder_id}",
                          kind="reminder", status=r.status, doc=to_doc(r))

    # --- link nonces (single use) ------------------------------------------------------------
    def issue_link(self, tenant: str, appointment_id: str, nonce: str, action: str, expires_at: datetime) -> None:
        StatusItem(keys.appointment_pk(tenant, appointment_id), f"LINK#{nonce}", kind="link", status="issued",
                   doc={"action": action}, expires_at=int(expires_at.timestamp())).save()

    def consume_link(self, tenant: str, appointment_id: str, nonce: str, action: str, now: datetime) -> bool:
        """Delete the nonce if it is still there, for that action, and unexpired (TTL deletes lazily)."""
        item = StatusItem(keys.appointment_pk(tenant, appointment_id), f"LINK#{nonce}")
        try:
            item.delete(condition=StatusItem.pk.exists() & (StatusItem.doc["action"] == action)
                        & (StatusItem.expires_at > int(now.timestamp())))
        except DeleteError as exc:
            if _failed(exc):
                return False
            raise
        return True

    # --- confirmation ------------------------------------------------------------------------
    def confirmation(self, tenant: str, appointment_id: str) -> dict[str, Any] | None:
        try:
            item = StatusItem.get(keys.appointment_pk(tenant, appointment_id), CONFIRM_SK, consistent_read=True)
        except DoesNotExist:
            return None
        return {"status": item.status, **{k: v for k, v in (item.doc.as_dict() if hasattr(item.doc, "as_dict")
                                                             else dict(item.doc)).items()}}

    def set_confirmation(self, tenant: str, appointment_id: str, status: str, at: datetime,
                         required: bool | None = None) -> None:
        current = self.confirmation(tenant, appointment_id) or {}
        doc: dict[str, Any] = {"at": at.isoformat(),
                               "required": bool(current.get("required") if required is None else required)}
        if status in ("pending", "released") and current.get("release_at"):
            doc["release_at"] = current["release_at"]
        StatusItem(keys.appointment_pk(tenant, appointment_id), CONFIRM_SK, kind="confirmation", status=status,
                   doc=doc).save()

    def require_confirmation(self, tenant: str, appointment_id: str, at: datetime, release_at: datetime | None) -> None:
        """Confirmation pending and, with a release time, a due pointer in that hour's bucket (no Scan): the
        release job finds it there. A moved visit gets a new pointer; the job ignores the stale one."""
        doc: dict[str, Any] = {"at": at.isoformat(), "required": True}
        if release_at is not None:
            doc["release_at"] = release_at.astimezone(UTC).isoformat()
        item = StatusItem(keys.appointment_pk(tenant, appointment_id), CONFIRM_SK, kind="confirmation",
                          status="pending", doc=doc)
        # Only a confirmation still to come is (re)written: a redelivered stream change never undoes an
        # answer the patient already gave (confirmed, declined) or a release.
        still_open = StatusItem.pk.does_not_exist() | (StatusItem.status == "pending")
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.save(item, condition=still_open)
                if release_at is not None:
                    tx.save(PointerItem(_release_pk(appointment_id, release_at),
                                        _release_sk(tenant, appointment_id, release_at), kind="confirmation_due",
                                        doc={"tenant_id": tenant, "appointment_id": appointment_id}))
        except TransactWriteError as exc:
            if not _failed(exc):
                raise

    def releases_due(self, now: datetime, lookback: timedelta) -> list[tuple[str, str, datetime]]:
        """(tenant, appointment, release_at) of release pointers due by `now`, hour buckets back to `lookback`."""
        found = [(p.doc["tenant_id"], p.doc["appointment_id"], at) for p, at in _due_pointers("CONFDUE", now, lookback)]
        return sorted(found, key=lambda f: f[2])

    def drop_release(self, tenant: str, appointment_id: str, release_at: datetime) -> None:
        PointerItem(_release_pk(appointment_id, release_at), _release_sk(tenant, appointment_id, release_at)).delete()

    # --- no-shows ----------------------------------------------------------------------------
    def count_no_show(self, tenant: str, patient_id: str, appointment_id: str, at: datetime) -> None:
        """Counted once per appointment, however often the hook runs."""
        from botocore.exceptions import ClientError

        pk = keys.patient_pk(tenant, patient_id)
        # Raw UpdateItem: ADD to a number and a string set in one conditional write.
        try:
            self._connection.client.update_item(
                TableName=StatusItem.Meta.table_name, Key={"pk": {"S": pk}, "sk": {"S": NOSHOWS_SK}},
                UpdateExpression="SET #k = :k, #s = :s, #l = :at ADD #n :one, #ids :id",
                ConditionExpression="attribute_not_exists(#ids) OR NOT contains(#ids, :one_id)",
                ExpressionAttributeNames={"#k": "kind", "#s": "status", "#l": "last_at", "#n": "count",
                                          "#ids": "appointment_ids"},
                ExpressionAttributeValues={":k": {"S": "no_shows"}, ":s": {"S": "counted"},
                                           ":at": {"S": at.isoformat()}, ":one": {"N": "1"},
                                           ":id": {"SS": [appointment_id]}, ":one_id": {"S": appointment_id}})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def no_shows(self, tenant: str, patient_id: str) -> tuple[int, str | None]:
        raw = self._connection.client.get_item(
            TableName=StatusItem.Meta.table_name, ConsistentRead=True,
            Key={"pk": {"S": keys.patient_pk(tenant, patient_id)}, "sk": {"S": NOSHOWS_SK}}).get("Item") or {}
        return int(raw.get("count", {}).get("N", "0")), raw.get("last_at", {}).get("S")
