"""Appointments and the busy-week items that make double booking impossible.

Busy time lives in one item per holder (clinician, patient, site) and UTC ISO week
(sk=WEEK#{monday}); each held 15-minute block is an attribute named by its place in the week
(keys.block_attr) whose value is the holder: an appointment id, or "{expires:010d}|{hold id}" for a
waitlist hold. A booking is one TransactWriteItems: the appointment plus ONE update per busy-week
item it touches, SETting its blocks under the condition that each is free (absent, or an expired
hold, or the booking's own hold). The losing write of a race is cancelled whole: nothing of it is
stored. Reschedule and cancel REMOVE blocks conditioned on still holding them, in the same
transaction. Availability reads a handful of week items (BatchGetItem) instead of every block.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any, Protocol

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.operand import Path
from pynamodb.transactions import TransactWrite

from ...domain.audit_entry import AuditEntry
from ...domain.availability import BusyTime
from ...domain.errors import (
    Conflict,
    DependencyUnavailable,
    PatientBusy,
    PracticeDaysChanged,
    RoomUnavailable,
    SlotTaken,
    StaleRecords,
)
from ...domain.keyed_reads import KeyedRead
from ...domain.model import Appointment, Interval
from ...domain.practice_days import PracticeDay, practice_day
from ...domain.records import RecordVersion
from ...domain.waitlist import HeldSlot
from . import keys
from .busy_weeks import (
    Lock,
    blocks_by_partition,
    held_by,
    held_by_hold,
    hold_locks,
    is_free,
    locks_for,
    now_value,
    read_weeks,
    read_window,
    rooms_of,
    week_updates,
    weeks_covering,
)
from .codec import from_doc, to_doc
from .directory import record_key
from .models import AppointmentItem, AuditEntryItem, BusyWeekItem, DocumentItem, PracticeLedgerItem, ReviewItem

_CONFLICT_FOR = {"clinician": SlotTaken, "patient": PatientBusy, "room": RoomUnavailable,
                 "practice_days": PracticeDaysChanged, "directory": StaleRecords}
_MESSAGES = {
    "directory": "A directory record this booking was decided on changed meanwhile; retry.",
    "clinician": "The clinician is already booked for part of that time.",
    "patient": "The patient already has a visit that overlaps that time.",
    "room": "The room was taken at that site and time.",
    "appointment": "The appointment changed while this request ran; read it again and retry.",
    "practice_days": "The temporary-practice days changed while this request ran.",
}


class _Labelled:
    """A TransactWrite that remembers what each action is for, to explain a cancellation.

    PynamoDB sends condition checks, then deletes, then puts, then updates; the cancellation
    reasons come back in that order.
    """

    def __init__(self, connection: Connection, token: str) -> None:
        self.tx = TransactWrite(connection=connection, client_request_token=token)
        self.labels: dict[str, list[str]] = defaultdict(list)

    def check(self, pk: str, sk: str, condition: object, label: str) -> None:
        self.tx.condition_check(DocumentItem, pk, sk, condition=condition)  # type: ignore[arg-type]
        self.labels["check"].append(label)

    def put(self, item: AppointmentItem | AuditEntryItem, label: str, condition: object = None) -> None:
        self.tx.save(item, condition=condition)  # type: ignore[arg-type]
        self.labels["put"].append(label)

    def delete(self, item: AppointmentItem, label: str, condition: object = None) -> None:
        self.tx.delete(item, condition=condition)  # type: ignore[arg-type]
        self.labels["delete"].append(label)

    def update(self, item: AppointmentItem | PracticeLedgerItem | BusyWeekItem, actions: list[object], label: str,
               condition: object = None) -> None:
        self.tx.update(item, actions=actions, condition=condition)  # type: ignore[arg-type]
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
        # Explain the most specific conflict first: a busy clinician answers before a busy patient. A stale
        # directory record comes first of all: the booking is decided again on fresh records.
        for holder in ("directory", "clinician", "patient", "room", "practice_days", "appointment"):
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


class AuditItems(Protocol):
    """Builds an audit entry's item (adapters/dynamo/audit.py DynamoAuditTrail: the one place that does)."""

    def item_of(self, entry: AuditEntry) -> AuditEntryItem: ...


class AppointmentRepository:
    def __init__(self, connection: Connection, audit: AuditItems | None = None) -> None:
        self._connection = connection
        self._audit = audit

    def _audited(self, tx: _Labelled, entry: AuditEntry | None) -> None:
        """The change's audit entry rides in its transaction: committed together or not at all."""
        if entry is None:
            return
        if self._audit is None:
            raise RuntimeError("an audited write needs the audit item builder (bootstrap wires it)")
        tx.put(self._audit.item_of(entry), "audit", AuditEntryItem.pk.does_not_exist())

    @staticmethod
    def _fresh(tx: _Labelled, fresh: Sequence[RecordVersion]) -> None:
        """Each cached directory record the change was decided on must still be at its version."""
        for rv in dict.fromkeys(fresh):
            pk, sk = record_key(rv.kind, rv.tenant_id, rv.record_id)
            tx.check(pk, sk, DocumentItem.version == rv.version, "directory")

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
        return rooms_of(self._blocks(keys.site_pk(tenant, site_id), window))

    def rooms_taken_read(self, tenant: str, site_id: str, window: Interval,
                         ) -> KeyedRead[dict[datetime, frozenset[str]]]:
        """rooms_taken as the site's week items to read (in a batch with other reads) and their decoding."""
        low, high = read_window(window.start, window.end)
        pk = keys.site_pk(tenant, site_id)
        item_keys = tuple((pk, sk) for sk in weeks_covering(low, high))

        def answer(found: Mapping[Hashable, Any]) -> dict[datetime, frozenset[str]]:
            found_here = {key: found[key] for key in item_keys if key in found}
            return rooms_of(blocks_by_partition(found_here, low, high).get(pk, ()))  # type: ignore[arg-type]

        return KeyedRead(item_keys, answer)

    def busy_of_clinicians(self, tenant: str, clinician_ids: Sequence[str], window: Interval,
                           ) -> dict[str, frozenset[datetime]]:
        """clinician_blocks of many clinicians at once: their week items in batches of 100 keys."""
        pks = {keys.clinician_pk(tenant, c): c for c in clinician_ids}
        per_pk = self._blocks_of_many(list(pks), window)
        return {c: frozenset(b for b, _ in per_pk.get(pk, ())) for pk, c in pks.items()}

    def rooms_taken_of_sites(self, tenant: str, site_ids: Sequence[str], window: Interval,
                             ) -> dict[str, dict[datetime, frozenset[str]]]:
        """rooms_taken of many sites at once (one batched read)."""
        pks = {keys.site_pk(tenant, s): s for s in site_ids}
        per_pk = self._blocks_of_many(list(pks), window)
        return {s: rooms_of(per_pk.get(pk, ())) for pk, s in pks.items()}

    def busy_time(self, tenant: str, window: Interval, *, clinician_ids: Sequence[str] = (),
                  site_ids: Sequence[str] = (), patient_id: str | None = None) -> BusyTime:
        """Everything an availability search needs in one batched read: clinicians' blocks, sites' rooms taken
        and the patient's blocks (BatchGetItem of 100 week items per call)."""
        clinicians = {keys.clinician_pk(tenant, c): c for c in clinician_ids}
        sites = {keys.site_pk(tenant, s): s for s in site_ids}
        patient = keys.patient_pk(tenant, patient_id) if patient_id else None
        per_pk = self._blocks_of_many([*clinicians, *sites, *([patient] if patient else [])], window)
        return BusyTime(
            clinicians={c: frozenset(b for b, _ in per_pk.get(pk, ())) for pk, c in clinicians.items()},
            rooms={s: rooms_of(per_pk.get(pk, ())) for pk, s in sites.items()},
            patient=frozenset(b for b, _ in per_pk.get(patient, ())) if patient else frozenset())

    def _blocks(self, pk: str, window: Interval) -> Iterator[tuple[datetime, str | None]]:
        yield from self._blocks_of_many([pk], window).get(pk, ())

    def _blocks_of_many(self, pks: Sequence[str], window: Interval) -> dict[str, list[tuple[datetime, str | None]]]:
        """Blocks held in `window`, widened by a day so buffers that reach into it count, per partition."""
        low, high = read_window(window.start, window.end)
        weeks = weeks_covering(low, high)
        return blocks_by_partition(read_weeks(self._connection, [(pk, sk) for pk in pks for sk in weeks]), low, high)

    # --- writes ------------------------------------------------------------------------------
    def book(self, appointment: Appointment, hold: HeldSlot | None = None, *,
             audit: AuditEntry | None = None, fresh: Sequence[RecordVersion] = ()) -> Appointment:
        """`hold`: blocks a waitlist offer holds for this patient pass to the booking in the same
        transaction; held blocks the visit does not need are freed."""
        tx = _Labelled(self._connection, appointment.appointment_id)
        held_locks = hold_locks(hold.tenant_id, hold.clinician_id, hold.start, hold.held_until) if hold else ()
        held = {lk.key for lk in held_locks}
        # A waitlist hold past its expiry no longer blocks anyone, even before the job releases it.
        now = now_value(appointment.created_at or appointment.start)
        needed = locks_for(appointment)
        takes = [(lk, is_free(lk.attr, now, hold.hold_id if lk.key in held else None)) for lk in needed]
        wanted = {lk.key for lk in needed}
        releases = [(lk, held_by_hold(lk.attr, hold.hold_id))
                    for lk in held_locks if lk.key not in wanted]
        for week, actions, label, condition in week_updates(takes, appointment.appointment_id, releases, "clinician"):
            tx.update(week, actions, label, condition)
        item = _to_item(appointment)
        tx.put(item, "appointment", AppointmentItem.pk.does_not_exist())
        self._ledger(tx, appointment.tenant_id, appointment.clinician_id, None, practice_day(appointment))
        self._review_marker(tx, None, appointment)
        self._audited(tx, audit)
        self._fresh(tx, fresh)
        tx.commit()
        return replace(appointment, version=int(item.version or 1))

    def replace_visit(self, old: Appointment, new: Appointment, token: str, *,
                      audit: AuditEntry | None = None, fresh: Sequence[RecordVersion] = ()) -> Appointment:
        """Reschedule or change modality/site: new blocks held and old released in one transaction.

        Blocks both visits share stay where they are (one transaction may not touch an item twice).
        """
        old_locks = {lk.key: lk for lk in locks_for(old)}
        new_locks = {lk.key: lk for lk in locks_for(new)}
        now = now_value(new.updated_at or new.created_at or new.start)
        tx = _Labelled(self._connection, token)
        releases = [(old_locks[k], held_by(old_locks[k].attr, old.appointment_id))
                    for k in old_locks.keys() - new_locks.keys()]
        takes = [(new_locks[k], is_free(new_locks[k].attr, now)) for k in new_locks.keys() - old_locks.keys()]
        for week, actions, label, condition in week_updates(sorted(takes, key=_by_key), new.appointment_id,
                                                             sorted(releases, key=_by_key)):
            tx.update(week, actions, label, condition)
        item = _to_item(new)
        tx.put(item, "appointment")  # VersionAttribute adds version = old.version to the condition
        self._ledger(tx, new.tenant_id, new.clinician_id, practice_day(old), practice_day(new))
        self._review_marker(tx, old, new)
        self._audited(tx, audit)
        self._fresh(tx, fresh)
        tx.commit()
        return replace(new, version=int(item.version or 0))

    def update(self, old: Appointment, new: Appointment, token: str, *, release_locks: bool,
               audit: AuditEntry | None = None, fresh: Sequence[RecordVersion] = ()) -> Appointment:
        """Status changes; cancel and no-show style changes free the blocks in the same transaction."""
        tx = _Labelled(self._connection, token)
        if release_locks:
            releases = [(lk, held_by(lk.attr, old.appointment_id)) for lk in locks_for(old)]
            for week, actions, label, condition in week_updates((), old.appointment_id, releases):
                tx.update(week, actions, label, condition)
        item = _to_item(new)
        tx.put(item, "appointment")
        self._ledger(tx, new.tenant_id, new.clinician_id, practice_day(old), practice_day(new))
        self._review_marker(tx, old, new)
        self._audited(tx, audit)
        self._fresh(tx, fresh)
        tx.commit()
        return replace(new, version=int(item.version or 0))

    # --- temporary-practice days -------------------------------------------------------------
    def practice_day_counts(self, tenant: str, clinician_id: str, ledger: str, year: int) -> dict[date, int]:
        """Visits per counted day in a ledger for one year (consistent read)."""
        return _counts(self._ledger_item(tenant, clinician_id, ledger, year))

    def _ledger_item(self, tenant: str, clinician_id: str, ledger: str, year: int) -> dict[str, Any]:
        # Raw read: the per-day counts are attributes named by date, which a PynamoDB model cannot declare.
        raw = self._connection.client.get_item(
            TableName=PracticeLedgerItem.Meta.table_name, ConsistentRead=True,
            Key={"pk": {"S": keys.clinician_pk(tenant, clinician_id)}, "sk": {"S": _ledger_sk(ledger, year)}})
        item: dict[str, Any] = raw.get("Item") or {}
        return item

    def _ledger(self, tx: _Labelled, tenant: str, clinician_id: str, old: PracticeDay | None,
                new: PracticeDay | None) -> None:
        """Move a visit's day between ledgers, conditioned on the counts read now: a racing booking for the
        last free day makes one of the two transactions fail (PracticeDaysChanged), never both succeed."""
        if old == new or (old is not None and new is not None and (old.ledger, old.day) == (new.ledger, new.day)):
            return
        changes: dict[tuple[str, int], list[tuple[PracticeDay, int]]] = defaultdict(list)
        for day, delta in ((old, -1), (new, +1)):
            if day is not None:
                changes[(day.ledger, day.year)].append((day, delta))
        for (ledger, year), moves in changes.items():
            counts = _counts(self._ledger_item(tenant, clinician_id, ledger, year))
            actions: list[object] = []
            conditions: list[object] = []
            distinct = 0
            for day, delta in moves:
                attr, seen = Path(_day_attr(day.day)), counts.get(day.day, 0)
                conditions.append(attr.does_not_exist() if seen == 0 else attr == seen)
                if delta > 0 and seen == 0:
                    distinct += 1
                    conditions.append(PracticeLedgerItem.day_count.does_not_exist()
                                      | (PracticeLedgerItem.day_count < day.limit))
                if delta < 0 and seen <= 1:
                    actions.append(attr.remove())
                    distinct -= 1 if seen == 1 else 0
                else:
                    actions.append(attr.add(delta))
            if distinct:
                actions.append(PracticeLedgerItem.day_count.add(distinct))
            condition = conditions[0]
            for more in conditions[1:]:
                condition = condition & more
            item = PracticeLedgerItem(keys.clinician_pk(tenant, clinician_id), _ledger_sk(ledger, year))
            tx.update(item, actions, "practice_days", condition)

    # --- review markers ----------------------------------------------------------------------
    def needing_review(self, tenant: str, limit: int, after: str | None) -> tuple[list[str], str | None]:
        """Ids of visits flagged for licensure review, in start order."""
        condition = ReviewItem.sk > after if after else None
        items = list(ReviewItem.query(_review_pk(tenant), condition, limit=limit + 1, consistent_read=True))
        ids = [i.appointment_id for i in items[:limit]]
        return ids, (items[limit - 1].sk if len(items) > limit else None)

    def _review_marker(self, tx: _Labelled, old: Appointment | None, new: Appointment) -> None:
        was = old is not None and old.needs_review and old.status in _ACTIVE
        now = new.needs_review and new.status in _ACTIVE
        old_sk = keys.schedule_sk(old.start, old.appointment_id) if old is not None else None
        new_sk = keys.schedule_sk(new.start, new.appointment_id)
        if was and old_sk is not None and (not now or old_sk != new_sk):
            tx.delete(ReviewItem(_review_pk(new.tenant_id), old_sk), "review")  # type: ignore[arg-type]
        if now and (not was or old_sk != new_sk):
            tx.put(ReviewItem(_review_pk(new.tenant_id), new_sk, appointment_id=new.appointment_id),  # type: ignore[arg-type]
                   "review")

    def save(self, old: Appointment, new: Appointment, token: str, *,
             audit: AuditEntry | None = None, fresh: Sequence[RecordVersion] = ()) -> Appointment:
        return self.update(old, new, token, release_locks=False, audit=audit, fresh=fresh)

    def land_eligibility(self, current: Appointment, status: str, event: dict[str, str]) -> Appointment:
        """One UpdateItem of the eligibility status and one history event, conditioned on the version read:
        a user's change committed meanwhile is never overwritten (Conflict: read again and retry)."""
        from boto3.dynamodb.types import TypeSerializer
        from botocore.exceptions import ClientError

        encode = TypeSerializer().serialize
        try:
            raw = self._connection.client.update_item(
                TableName=AppointmentItem.Meta.table_name,
                Key={"pk": {"S": keys.appointment_pk(current.tenant_id, current.appointment_id)},
                     "sk": {"S": keys.APPOINTMENT_SK}},
                UpdateExpression="SET #doc.#status = :status, #doc.#history = list_append(#doc.#history, :event), "
                                 "#version = #version + :one",
                ConditionExpression="#version = :version",
                ExpressionAttributeNames={"#doc": "doc", "#status": "eligibility_status", "#history": "history",
                                          "#version": "version"},
                ExpressionAttributeValues={":status": {"S": status}, ":event": encode([dict(event)]),
                                           ":one": {"N": "1"}, ":version": {"N": str(current.version)}},
                ReturnValues="ALL_NEW")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise Conflict(_MESSAGES["appointment"]) from exc
            raise
        return appointment_from_image(_decoded(raw["Attributes"]))


_ACTIVE = frozenset({"booked", "checked_in", "in_progress"})


def _review_pk(tenant: str) -> str:
    return f"T#{tenant}#REVIEW"


def _ledger_sk(ledger: str, year: int) -> str:
    return f"TPD#{ledger}#{year}"


def _day_attr(day: date) -> str:
    return f"n{day:%Y%m%d}"


def _counts(raw: dict[str, Any]) -> dict[date, int]:
    """Per-day visit counts from a raw ledger item (attributes n{yyyymmdd} -> {"N": "2"})."""
    out: dict[date, int] = {}
    for name, value in raw.items():
        if len(name) == 9 and name.startswith("n") and name[1:].isdigit() and int(value.get("N", "0")) > 0:
            out[date(int(name[1:5]), int(name[5:7]), int(name[7:9]))] = int(value["N"])
    return out


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


def _by_key(change: tuple[Lock, Any]) -> tuple[str, str, str]:
    return change[0].key


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


def appointment_from_image(image: dict[str, Any]) -> Appointment:
    """An appointment item as plain data (a stream image, decoded) -> the visit with its version."""
    return replace(from_doc(Appointment, image["doc"]), version=int(image.get("version") or 0))


def _decoded(raw: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    decode = TypeDeserializer().deserialize
    return {name: decode(value) for name, value in raw.items()}
