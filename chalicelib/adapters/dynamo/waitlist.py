"""Waitlist entries, the queue of waiting entries, freed slots, open offers and slot holds.

An offer is one transaction: the hold's blocks on the clinician's busy-week item(s) (each set only if
the block is free; value "{expires:010d}|{hold id}", see appointments.py), the entry
(version-checked, `waiting -> offered`), its queue pointer removed and its expiry pointer added. Two
freed-slot runs racing for one slot cannot both hold it; one entry cannot get two offers at once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.operand import Path
from pynamodb.transactions import TransactWrite

from ...domain.errors import Conflict
from ...domain.waitlist import FreedSlot, WaitlistEntry
from .busy_weeks import block_lock, held_by_hold, hold_locks, hold_value, read_weeks, week_updates
from .codec import from_doc, to_doc
from .models import DocumentItem, ExpiringItem, PointerItem
from .reminders import SHARDS, shard, stamp

FREED_MARKER_SECONDS = 7 * 86400


def _entry_pk(tenant: str) -> str:
    return f"T#{tenant}#WAIT"


def _queue_pk(tenant: str) -> str:
    return f"T#{tenant}#WAITQ"


def _queue_sk(e: WaitlistEntry) -> str:
    return f"{e.created_at.astimezone(UTC):%Y%m%dT%H%M%S%f}#{e.waitlist_id}"  # first come, first served


def _offer_pointer(e: WaitlistEntry) -> PointerItem:
    assert e.offer is not None
    return PointerItem(f"OFFERS#{shard(e.waitlist_id)}", f"{stamp(e.offer.expires_at)}#{e.tenant_id}#{e.waitlist_id}",
                       kind="offer_open", doc={"tenant_id": e.tenant_id, "waitlist_id": e.waitlist_id})


def _entry_item(e: WaitlistEntry, version: int | None) -> DocumentItem:
    item = DocumentItem(_entry_pk(e.tenant_id), f"ENTRY#{e.waitlist_id}", kind="waitlist",
                        doc=to_doc(replace(e, version=0)))
    if version:
        item.version = version
    return item


class WaitlistRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, entry: WaitlistEntry) -> WaitlistEntry:
        with TransactWrite(connection=self._connection, client_request_token=entry.waitlist_id) as tx:
            tx.save(_entry_item(entry, None), condition=DocumentItem.pk.does_not_exist())
            tx.save(PointerItem(_queue_pk(entry.tenant_id), _queue_sk(entry), kind="waiting",
                                doc={"waitlist_id": entry.waitlist_id}))
        return replace(entry, version=1)

    def get(self, tenant: str, waitlist_id: str) -> WaitlistEntry | None:
        try:
            item = DocumentItem.get(_entry_pk(tenant), f"ENTRY#{waitlist_id}", consistent_read=True)
        except DoesNotExist:
            return None
        return replace(from_doc(WaitlistEntry, item.doc), version=int(item.version or 0))

    def waiting(self, tenant: str, limit: int = 200) -> list[WaitlistEntry]:
        """Waiting entries, first come first served."""
        found = []
        for p in PointerItem.query(_queue_pk(tenant), limit=limit, consistent_read=True):
            entry = self.get(tenant, p.doc["waitlist_id"])
            if entry is not None:
                found.append(entry)
        return found

    def offer(self, old: WaitlistEntry, new: WaitlistEntry, hold_until_epoch: int) -> bool:
        """Hold the slot and make the offer, all or nothing; False when the slot or the entry was taken.

        The hold blocks bookings until `hold_until_epoch` (after it a booking may take the blocks even before
        the expiry job releases them); another offer needs the blocks absent, as before."""
        assert new.offer is not None
        o = new.offer
        takes = [(lk, Path([lk.attr]).does_not_exist())
                 for lk in hold_locks(new.tenant_id, o.clinician_id, o.start, o.held_until)]
        try:
            with TransactWrite(connection=self._connection, client_request_token=o.hold_id) as tx:
                for week, actions, _, condition in week_updates(takes, hold_value(hold_until_epoch, o.hold_id)):
                    tx.update(week, actions=actions, condition=condition)
                tx.save(_entry_item(new, old.version))
                tx.delete(PointerItem(_queue_pk(old.tenant_id), _queue_sk(old)))
                tx.save(_offer_pointer(new))
        except TransactWriteError:
            return False
        return True

    def settle(self, old: WaitlistEntry, new: WaitlistEntry, *, release: bool) -> WaitlistEntry:
        """Leave `offered` (booked, expired, declined): the expiry pointer goes, a waiting entry rejoins the
        queue at its old place, and (release) the hold's blocks are freed unless a booking took them over."""
        assert old.offer is not None
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.save(_entry_item(new, old.version))
                tx.delete(_offer_pointer(old))
                if new.status == "waiting":
                    tx.save(PointerItem(_queue_pk(new.tenant_id), _queue_sk(new), kind="waiting",
                                        doc={"waitlist_id": new.waitlist_id}))
        except TransactWriteError as exc:
            raise Conflict("The waitlist entry changed meanwhile; read it again.") from exc
        if release:
            self.release_hold(old)
        return replace(new, version=old.version + 1)

    def release_hold(self, entry: WaitlistEntry) -> None:
        o = entry.offer
        assert o is not None
        locks = hold_locks(entry.tenant_id, o.clinician_id, o.start, o.held_until)
        for lock in locks:  # one block at a time: a block a booking took over is not ours to free
            for week, actions, _, condition in week_updates((), "", [(lock, held_by_hold(lock.attr, o.hold_id))]):
                try:
                    week.update(actions=actions, condition=condition)
                except UpdateError:
                    continue

    def save(self, old: WaitlistEntry, new: WaitlistEntry) -> WaitlistEntry:
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.save(_entry_item(new, old.version))
                if old.status == "waiting" and new.status != "waiting":
                    tx.delete(PointerItem(_queue_pk(old.tenant_id), _queue_sk(old)))
        except TransactWriteError as exc:
            raise Conflict("The waitlist entry changed meanwhile; read it again.") from exc
        return replace(new, version=old.version + 1)

    # --- freed slots and offer expiry (job indexes, sharded) ---------------------------------
    def add_freed(self, slot: FreedSlot) -> bool:
        """Enqueue a freed slot once per change that freed it: a marker per source and time (kept a week, past
        the stream's 24 h retention) makes a redelivered change a no-op, even after the job offered and dropped
        the slot."""
        marker = ExpiringItem(f"T#{slot.tenant_id}#FREEDBY#{slot.source}", f"{slot.key}#{stamp(slot.freed_at)}",
                              kind="freed_marker", doc={}, expires_at=epoch(slot.freed_at) + FREED_MARKER_SECONDS)
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.save(marker, condition=ExpiringItem.pk.does_not_exist())
                tx.save(PointerItem(f"FREED#{shard(slot.source + slot.key)}",
                                    f"{stamp(slot.freed_at)}#{slot.tenant_id}#{slot.key}#{slot.source}",
                                    kind="freed_slot", doc=to_doc(slot)))
        except TransactWriteError:
            try:
                ExpiringItem.get(marker.pk, marker.sk, consistent_read=True)
            except DoesNotExist:
                raise  # not our marker: a conflict to retry (the stream delivers the batch again)
            return False  # already enqueued for this change
        return True

    def freed(self, limit: int = 100) -> list[tuple[PointerItem, FreedSlot]]:
        found = []
        for s in range(SHARDS):
            for p in PointerItem.query(f"FREED#{s}", limit=limit):
                found.append((p, from_doc(FreedSlot, p.doc)))
        return sorted(found, key=lambda f: f[1].freed_at)

    def drop(self, pointer: PointerItem) -> None:
        pointer.delete()

    def expired_offers(self, now: datetime, limit: int = 100) -> list[tuple[str, str]]:
        high = stamp(now)
        return [(p.doc["tenant_id"], p.doc["waitlist_id"])
                for s in range(SHARDS) for p in PointerItem.query(f"OFFERS#{s}", PointerItem.sk < high, limit=limit)]

    def lock_owner(self, pk: str, block: datetime, room: str | None = None) -> str | None:
        """Who holds one block of a busy-week partition: an appointment id, or "{expiry}|{hold id}"."""
        lock = block_lock("clinician", pk, block, room)
        raw = read_weeks(self._connection, [lock.item]).get(lock.item, {})
        value = raw.get(lock.attr, {}).get("S")
        return str(value) if value is not None else None


def epoch(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp())

