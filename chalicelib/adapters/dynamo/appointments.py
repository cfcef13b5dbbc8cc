"""Appointments and the lock items that make double booking impossible.

A booking is one TransactWriteItems: the appointment plus one lock item per 15-minute block it
covers for the clinician (visit + buffer), the patient, and the room for in-person visits, each
put with attribute_not_exists(pk). The losing write of a race is cancelled whole: nothing of it
is stored. Reschedule and cancel move or free the locks in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from ...domain.errors import Conflict, DependencyUnavailable, PatientBusy, RoomUnavailable, SlotTaken
from ...domain.model import Appointment, Interval, Modality
from ...domain.timeblocks import blocks_covering, parse_block_key
from . import keys
from .codec import from_doc, to_doc
from .models import AppointmentItem, LockItem

_CONFLICT_FOR = {"clinician": SlotTaken, "patient": PatientBusy, "room": RoomUnavailable}
_MESSAGES = {
    "clinician": "The clinician is already booked for part of that time.",
    "patient": "The patient already has a visit that overlaps that time.",
    "room": "The room was taken at that site and time.",
    "appointment": "The appointment changed while this request ran; read it again and retry.",
}


@dataclass(frozen=True)
class Lock:
    holder: str  # clinician | patient | room
    pk: str
    sk: str
    room: str | None = None


def locks_for(appointment: Appointment) -> list[Lock]:
    """Every lock item an active appointment holds."""
    t = appointment.tenant_id
    held_until = appointment.end + timedelta(minutes=appointment.buffer_minutes)
    locks = [Lock("clinician", keys.clinician_pk(t, appointment.clinician_id), keys.block_sk(b))
             for b in blocks_covering(appointment.start, held_until)]
    locks += [Lock("patient", keys.patient_pk(t, appointment.patient_id), keys.block_sk(b))
              for b in blocks_covering(appointment.start, appointment.end)]
    if appointment.modality is Modality.IN_PERSON and appointment.site_id and appointment.room:
        locks += [Lock("room", keys.site_pk(t, appointment.site_id), keys.block_sk(b, appointment.room),
                       appointment.room)
                  for b in blocks_covering(appointment.start, appointment.end)]
    return locks


class _Labelled:
    """A TransactWrite that remembers what each action is for, to explain a cancellation.

    PynamoDB sends condition checks, then deletes, then puts, then updates; the cancellation
    reasons come back in that order.
    """

    def __init__(self, connection: Connection, token: str) -> None:
        self.tx = TransactWrite(connection=connection, client_request_token=token)
        self.labels: dict[str, list[str]] = defaultdict(list)

    def put(self, item: AppointmentItem | LockItem, label: str, condition: object = None) -> None:
        self.tx.save(item, condition=condition)  # type: ignore[arg-type]
        self.labels["put"].append(label)

    def delete(self, item: LockItem, label: str, condition: object = None) -> None:
        self.tx.delete(item, condition=condition)  # type: ignore[arg-type]
        self.labels["delete"].append(label)

    def update(self, item: AppointmentItem, actions: list[object], label: str) -> None:
        self.tx.update(item, actions=actions)  # type: ignore[arg-type]
        self.labels["update"].append(label)

    def commit(self) -> None:
        try:
            self.tx._commit()
        except TransactWriteError as exc:
            raise self._explain(exc) from exc

    def _explain(self, exc: TransactWriteError) -> Exception:
        ordered = self.labels["check"] + self.labels["delete"] + self.labels["put"] + self.labels["update"]
        reasons = exc.cancellation_reasons or []
        failed = [ordered[i] for i, r in enumerate(reasons)
                  if r is not None and r.code == "ConditionalCheckFailed" and i < len(ordered)]
        # Explain the most specific conflict first: a busy clinician answers before a busy patient.
        for holder in ("clinician", "patient", "room", "appointment"):
            if holder in failed:
                error = _CONFLICT_FOR.get(holder, Conflict)
                return error(_MESSAGES[holder])
        if any(r is not None and r.code == "TransactionConflict" for r in reasons):
            return Conflict("Another request changed the same items at the same moment; retry.",
                            headers={"Retry-After": "1"})
        return DependencyUnavailable("The booking store did not accept the write; retry.",
                                     headers={"Retry-After": "1"})


def _everything(_: Appointment) -> bool:
    return True


class AppointmentRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    # --- reads -------------------------------------------------------------------------------
    def get(self, tenant: str, appointment_id: str) -> Appointment | None:
        try:
            item = AppointmentItem.get(keys.appointment_pk(tenant, appointment_id), keys.APPOINTMENT_SK,
                                       consistent_read=True)
        except DoesNotExist:
            return None
        return _from_item(item)

    def list_for_clinician(self, tenant: str, clinician_id: str, window: Interval, limit: int,
                           cursor: dict[str, Any] | None, keep: Callable[[Appointment], bool] = _everything,
                           ) -> tuple[list[Appointment], dict[str, Any] | None]:
        condition = AppointmentItem.gsi1sk.between(_range_low(window.start), _range_high(window.end))
        pk = keys.clinician_pk(tenant, clinician_id)
        start = keys.require_partition(keys.require_key(cursor, _GSI1_KEY), "gsi1pk", pk)
        return _visible_page(AppointmentItem.by_clinician.query(pk, condition, page_size=limit + 1,
                                                                last_evaluated_key=start), limit, keep, _GSI1_KEY)

    def list_for_patient(self, tenant: str, patient_id: str, window: Interval, limit: int,
                         cursor: dict[str, Any] | None, keep: Callable[[Appointment], bool] = _everything,
                         ) -> tuple[list[Appointment], dict[str, Any] | None]:
        condition = AppointmentItem.gsi2sk.between(_range_low(window.start), _range_high(window.end))
        pk = keys.patient_pk(tenant, patient_id)
        start = keys.require_partition(keys.require_key(cursor, _GSI2_KEY), "gsi2pk", pk)
        return _visible_page(AppointmentItem.by_patient.query(pk, condition, page_size=limit + 1,
                                                              last_evaluated_key=start), limit, keep, _GSI2_KEY)

    def clinician_blocks(self, tenant: str, clinician_id: str, window: Interval) -> frozenset[datetime]:
        return frozenset(b for b, _ in self._blocks(keys.clinician_pk(tenant, clinician_id), window))

    def patient_blocks(self, tenant: str, patient_id: str, window: Interval) -> frozenset[datetime]:
        return frozenset(b for b, _ in self._blocks(keys.patient_pk(tenant, patient_id), window))

    def rooms_taken(self, tenant: str, site_id: str, window: Interval) -> dict[datetime, frozenset[str]]:
        per_block: dict[datetime, set[str]] = defaultdict(set)
        for block, room in self._blocks(keys.site_pk(tenant, site_id), window):
            if room:
                per_block[block].add(room)
        return {b: frozenset(r) for b, r in per_block.items()}

    def _blocks(self, pk: str, window: Interval) -> Iterator[tuple[datetime, str | None]]:
        """Blocks held in `window`, widened by a day so buffers that reach into it count."""
        low = keys.block_sk(window.start - timedelta(days=1))
        high = keys.block_sk(window.end + timedelta(days=1)) + "~"
        for item in LockItem.query(pk, LockItem.sk.between(low, high), consistent_read=True):
            yield parse_block_key(item.sk.split("#")[1]), item.room

    # --- writes ------------------------------------------------------------------------------
    def book(self, appointment: Appointment) -> Appointment:
        tx = _Labelled(self._connection, appointment.appointment_id)
        for lock in locks_for(appointment):
            tx.put(_lock_item(lock, appointment.appointment_id), lock.holder, LockItem.pk.does_not_exist())
        item = _to_item(appointment)
        tx.put(item, "appointment", AppointmentItem.pk.does_not_exist())
        tx.commit()
        return replace(appointment, version=int(item.version or 1))

    def replace_visit(self, old: Appointment, new: Appointment, token: str) -> Appointment:
        """Reschedule or change modality/site: new blocks held and old released in one transaction.

        Blocks both visits share stay where they are (one transaction may not touch an item twice).
        """
        old_locks = {(lk.pk, lk.sk): lk for lk in locks_for(old)}
        new_locks = {(lk.pk, lk.sk): lk for lk in locks_for(new)}
        tx = _Labelled(self._connection, token)
        for key in old_locks.keys() - new_locks.keys():
            lock = old_locks[key]
            tx.delete(_lock_item(lock, old.appointment_id), "appointment",
                      LockItem.appointment_id == old.appointment_id)
        for key in new_locks.keys() - old_locks.keys():
            lock = new_locks[key]
            tx.put(_lock_item(lock, new.appointment_id), lock.holder, LockItem.pk.does_not_exist())
        item = _to_item(new)
        tx.put(item, "appointment")  # VersionAttribute adds version = old.version to the condition
        tx.commit()
        return replace(new, version=int(item.version or 0))

    def update(self, old: Appointment, new: Appointment, token: str, *, release_locks: bool) -> Appointment:
        """Status changes; cancel and no-show style changes free the blocks in the same transaction."""
        tx = _Labelled(self._connection, token)
        if release_locks:
            for lock in locks_for(old):
                tx.delete(_lock_item(lock, old.appointment_id), "appointment",
                          LockItem.appointment_id == old.appointment_id)
        item = _to_item(new)
        tx.put(item, "appointment")
        tx.commit()
        return replace(new, version=int(item.version or 0))

    def save(self, old: Appointment, new: Appointment, token: str) -> Appointment:
        return self.update(old, new, token, release_locks=False)


_GSI1_KEY = ("pk", "sk", "gsi1pk", "gsi1sk")
_GSI2_KEY = ("pk", "sk", "gsi2pk", "gsi2sk")


def _visible_page(results: Iterable[AppointmentItem], limit: int, keep: Callable[[Appointment], bool],
                  key_names: tuple[str, ...]) -> tuple[list[Appointment], dict[str, Any] | None]:
    """Up to `limit` items that `keep` admits, and the key of the last of them when more follow.

    Reads on past items the caller may not see, so a cursor only ever points just past an item
    the caller received: it never names (or hints at) anyone else's appointment.
    """
    page: list[tuple[AppointmentItem, Appointment]] = []
    for item in results:
        appointment = _from_item(item)
        if not keep(appointment):
            continue
        if len(page) == limit:
            last = page[-1][0]
            return [a for _, a in page], {name: {"S": getattr(last, name)} for name in key_names}
        page.append((item, appointment))
    return [a for _, a in page], None


def _range_low(moment: datetime) -> str:
    return keys.schedule_sk(moment, "")


def _range_high(moment: datetime) -> str:
    return keys.schedule_sk(moment, "")


def _lock_item(lock: Lock, appointment_id: str) -> LockItem:
    return LockItem(lock.pk, lock.sk, holder=lock.holder, appointment_id=appointment_id, room=lock.room)


def _to_item(appointment: Appointment) -> AppointmentItem:
    t = appointment.tenant_id
    item = AppointmentItem(
        keys.appointment_pk(t, appointment.appointment_id), keys.APPOINTMENT_SK,
        gsi1pk=keys.clinician_pk(t, appointment.clinician_id),
        gsi1sk=keys.schedule_sk(appointment.start, appointment.appointment_id),
        gsi2pk=keys.patient_pk(t, appointment.patient_id),
        gsi2sk=keys.schedule_sk(appointment.start, appointment.appointment_id),
        status=appointment.status.value,
        doc=to_doc(replace(appointment, version=0)),
    )
    if appointment.version:
        item.version = appointment.version
    return item


def _from_item(item: AppointmentItem) -> Appointment:
    return replace(from_doc(Appointment, item.doc), version=int(item.version or 0))
