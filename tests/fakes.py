"""In-memory stores behind the domain ports, for use-case tests that need no AWS.

Each fake keeps the promises its Protocol documents (domain/ports.py) and that the DynamoDB adapter
keeps: tests/contracts/ runs the same tests against both. Writes are all or nothing, checked before
anything changes, so a refused write leaves no trace — as a cancelled TransactWriteItems does.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.domain.access import Caller
from chalicelib.domain.audit_chain import GENESIS, ChainReport, entry_hash, verify_chain, with_waiting
from chalicelib.domain.audit_entry import AuditEntry
from chalicelib.domain.availability import BusyTime, SearchInputs
from chalicelib.domain.errors import (
    Conflict,
    FieldError,
    PatientBusy,
    PracticeDaysChanged,
    RoomUnavailable,
    SlotTaken,
    StaleRecords,
    ValidationFailed,
)
from chalicelib.domain.keyed_reads import KeyedRead
from chalicelib.domain.model import Appointment, Clinician, Interval, Modality, Patient, Site, Status
from chalicelib.domain.ports import PageKey, audit_log_of
from chalicelib.domain.practice_days import PracticeDay, practice_day
from chalicelib.domain.records import BookingRecords, RecordVersion, version_of
from chalicelib.domain.screening import ScreeningResult
from chalicelib.domain.tenant_policy import TenantSettings
from chalicelib.domain.timeblocks import block_key, blocks_covering
from chalicelib.domain.waitlist import HeldSlot

# The explanations the DynamoDB adapter gives for a refused write (adapters/dynamo/appointments.py).
_REFUSALS: dict[str, tuple[type[Exception], str]] = {
    "directory": (StaleRecords, "A directory record this booking was decided on changed meanwhile; retry."),
    "clinician": (SlotTaken, "The clinician is already booked for part of that time."),
    "patient": (PatientBusy, "The patient already has a visit that overlaps that time."),
    "room": (RoomUnavailable, "The room was taken at that site and time."),
    "practice_days": (PracticeDaysChanged, "The temporary-practice days changed while this request ran."),
    "appointment": (Conflict, "The appointment changed while this request ran; read it again and retry."),
}
_ACTIVE = frozenset({Status.BOOKED, Status.CHECKED_IN, Status.IN_PROGRESS})


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed("cursor is not valid", errors=[FieldError("cursor", "is not a cursor we issued")])


@dataclass(frozen=True)
class _LockKey:
    holder: str  # clinician | patient | room
    tenant: str
    owner: str  # clinician id, patient id or site id
    block: datetime
    room: str | None = None


@dataclass
class _Lock:
    appointment_id: str  # or the hold id of a waitlist offer
    expires_at: int | None = None  # epoch seconds; a hold past it blocks nobody


def _locks_for(a: Appointment) -> list[_LockKey]:
    held_until = a.end + timedelta(minutes=a.buffer_minutes)
    locks = [_LockKey("clinician", a.tenant_id, a.clinician_id, b) for b in blocks_covering(a.start, held_until)]
    locks += [_LockKey("patient", a.tenant_id, a.patient_id, b) for b in blocks_covering(a.start, a.end)]
    if a.modality is Modality.IN_PERSON and a.site_id and a.room:
        locks += [_LockKey("room", a.tenant_id, a.site_id, b, a.room) for b in blocks_covering(a.start, a.end)]
    return locks


def _hold_locks(hold: HeldSlot) -> list[_LockKey]:
    return [_LockKey("clinician", hold.tenant_id, hold.clinician_id, b)
            for b in blocks_covering(hold.start, hold.held_until)]


class _Write:
    """One all-or-nothing change: conditions are checked first; nothing applies unless all hold."""

    def __init__(self) -> None:
        self.failed: list[str] = []
        self.steps: list[Callable[[], None]] = []

    def require(self, ok: bool, label: str) -> None:
        if not ok:
            self.failed.append(label)

    def then(self, step: Callable[[], None]) -> None:
        self.steps.append(step)

    def commit(self) -> None:
        for label in ("directory", "clinician", "patient", "room", "practice_days", "appointment"):
            if label in self.failed:
                error, message = _REFUSALS[label]
                raise error(message)
        for step in self.steps:
            step()


class InMemoryAppointments:
    """AppointmentStore: appointments, block locks, the temporary-practice ledger and review markers."""

    def __init__(self, audit: InMemoryAudit | None = None, directory: InMemoryDirectory | None = None) -> None:
        self.appointments: dict[tuple[str, str], Appointment] = {}
        self.locks: dict[_LockKey, _Lock] = {}
        self.ledger: dict[tuple[str, str, str, int], dict[date, int]] = defaultdict(dict)
        self.writes = 0  # every committed write, for tests that count them
        self.audit = audit  # where a write's own entry goes, with the write (as the adapter's transaction)
        self.directory = directory  # whose record versions a write's `fresh` is checked against

    # --- reads -------------------------------------------------------------------------------
    def get(self, tenant: str, appointment_id: str) -> Appointment | None:
        return self.appointments.get((tenant, appointment_id))

    def list_for_clinician(self, tenant: str, clinician_id: str, window: Interval, limit: int,
                           cursor: PageKey | None, keep: Callable[[Appointment], bool] = lambda a: True,
                           ) -> tuple[list[Appointment], PageKey | None]:
        return self._page(tenant, "clinician", lambda a: a.clinician_id == clinician_id, window, limit, cursor, keep)

    def list_for_patient(self, tenant: str, patient_id: str, window: Interval, limit: int,
                         cursor: PageKey | None, keep: Callable[[Appointment], bool] = lambda a: True,
                         ) -> tuple[list[Appointment], PageKey | None]:
        return self._page(tenant, "patient", lambda a: a.patient_id == patient_id, window, limit, cursor, keep)

    def _page(self, tenant: str, index: str, mine: Callable[[Appointment], bool], window: Interval, limit: int,
              cursor: PageKey | None, keep: Callable[[Appointment], bool]) -> tuple[list[Appointment], PageKey | None]:
        after = self._position(cursor, index, tenant)
        low, high = block_key(window.start), block_key(window.end)
        found = sorted((a for (t, _), a in self.appointments.items() if t == tenant and mine(a)),
                       key=_schedule_key)
        page: list[Appointment] = []
        for a in found:
            key = _schedule_key(a)
            if not (low <= key[0] and key < (high, "")) or (after is not None and key <= after) or not keep(a):
                continue
            if len(page) == limit:
                last = _schedule_key(page[-1])
                return page, {"index": index, "tenant": tenant, "after": [last[0], last[1]]}
            page.append(a)
        return page, None

    @staticmethod
    def _position(cursor: PageKey | None, index: str, tenant: str) -> tuple[str, str] | None:
        if cursor is None:
            return None
        after = cursor.get("after") if isinstance(cursor, dict) else None
        if not (isinstance(cursor, dict) and cursor.get("index") == index and cursor.get("tenant") == tenant
                and isinstance(after, list) and len(after) == 2 and all(isinstance(p, str) for p in after)):
            raise _bad_cursor()
        return after[0], after[1]

    def clinician_blocks(self, tenant: str, clinician_id: str, window: Interval) -> frozenset[datetime]:
        return frozenset(k.block for k in self._held("clinician", tenant, clinician_id, window))

    def patient_blocks(self, tenant: str, patient_id: str, window: Interval) -> frozenset[datetime]:
        return frozenset(k.block for k in self._held("patient", tenant, patient_id, window))

    def rooms_taken(self, tenant: str, site_id: str, window: Interval) -> dict[datetime, frozenset[str]]:
        per_block: dict[datetime, set[str]] = defaultdict(set)
        for k in self._held("room", tenant, site_id, window):
            if k.room:
                per_block[k.block].add(k.room)
        return {b: frozenset(r) for b, r in per_block.items()}

    def rooms_taken_read(self, tenant: str, site_id: str, window: Interval,
                         ) -> KeyedRead[dict[datetime, frozenset[str]]]:
        """No keys: the fake answers from its own state when the batch is read (InMemoryReads)."""
        return KeyedRead((), lambda _found: self.rooms_taken(tenant, site_id, window))

    def busy_time(self, tenant: str, window: Interval, *, clinician_ids: Sequence[str] = (),
                  site_ids: Sequence[str] = (), patient_id: str | None = None) -> BusyTime:
        return BusyTime({c: self.clinician_blocks(tenant, c, window) for c in clinician_ids},
                        {s: self.rooms_taken(tenant, s, window) for s in site_ids},
                        self.patient_blocks(tenant, patient_id, window) if patient_id else frozenset())

    def _held(self, holder: str, tenant: str, owner: str, window: Interval) -> list[_LockKey]:
        """Blocks held in `window`, widened by a day so buffers that reach into it count (as the adapter)."""
        low, high = window.start - timedelta(days=1), window.end + timedelta(days=1)
        return [k for k in self.locks if (k.holder, k.tenant, k.owner) == (holder, tenant, owner)
                and low <= k.block <= high]

    def practice_day_counts(self, tenant: str, clinician_id: str, ledger: str, year: int) -> dict[date, int]:
        return dict(self.ledger[(tenant, clinician_id, ledger, year)])

    def needing_review(self, tenant: str, limit: int, after: str | None) -> tuple[list[str], str | None]:
        marked = sorted(f"{k[0]}#{k[1]}" for a in self.appointments.values() if a.tenant_id == tenant
                        and a.needs_review and a.status in _ACTIVE for k in [_schedule_key(a)])
        marked = [m for m in marked if after is None or m > after]
        ids = [m.split("#", 1)[1] for m in marked[:limit]]
        return ids, (marked[limit - 1] if len(marked) > limit else None)

    # --- writes ------------------------------------------------------------------------------
    def book(self, appointment: Appointment, hold: HeldSlot | None = None, *,
             audit: AuditEntry | None = None, fresh: Sequence[RecordVersion] = ()) -> Appointment:
        write = _Write()
        self._fresh(write, fresh)
        now = int((appointment.created_at or appointment.start).timestamp())
        needed = _locks_for(appointment)
        for key in needed:
            lock = self.locks.get(key)
            free = lock is None or (lock.expires_at is not None and lock.expires_at < now) \
                or (hold is not None and lock.appointment_id == hold.hold_id)
            write.require(free, key.holder)
        spare = [k for k in _hold_locks(hold) if k not in set(needed)] if hold is not None else []
        for key in spare:
            write.require(hold is not None and self._owned(key, hold.hold_id), "clinician")
        write.require((appointment.tenant_id, appointment.appointment_id) not in self.appointments, "appointment")
        self._ledger(write, appointment.tenant_id, appointment.clinician_id, None, practice_day(appointment))
        stored = replace(appointment, version=1)

        def apply() -> None:
            for key in spare:
                del self.locks[key]
            for key in needed:
                self.locks[key] = _Lock(appointment.appointment_id)
            self._put(stored)

        write.then(apply)
        self._audited(write, audit)
        write.commit()
        return stored

    def replace_visit(self, old: Appointment, new: Appointment, token: str, *,
                      audit: AuditEntry | None = None, fresh: Sequence[RecordVersion] = ()) -> Appointment:
        old_locks, new_locks = set(_locks_for(old)), set(_locks_for(new))
        write = _Write()
        self._fresh(write, fresh)
        for key in old_locks - new_locks:
            write.require(self._owned(key, old.appointment_id), "appointment")
        for key in new_locks - old_locks:
            write.require(key not in self.locks, key.holder)
        self._versioned(write, new)
        self._ledger(write, new.tenant_id, new.clinician_id, practice_day(old), practice_day(new))
        stored = replace(new, version=new.version + 1)

        def apply() -> None:
            for key in old_locks - new_locks:
                del self.locks[key]
            for key in new_locks - old_locks:
                self.locks[key] = _Lock(new.appointment_id)
            self._put(stored)

        write.then(apply)
        self._audited(write, audit)
        write.commit()
        return stored

    def update(self, old: Appointment, new: Appointment, token: str, *, release_locks: bool,
               audit: AuditEntry | None = None, fresh: Sequence[RecordVersion] = ()) -> Appointment:
        write = _Write()
        self._fresh(write, fresh)
        released = _locks_for(old) if release_locks else []
        for key in released:
            write.require(self._owned(key, old.appointment_id), "appointment")
        self._versioned(write, new)
        self._ledger(write, new.tenant_id, new.clinician_id, practice_day(old), practice_day(new))
        stored = replace(new, version=new.version + 1)

        def apply() -> None:
            for key in released:
                del self.locks[key]
            self._put(stored)

        write.then(apply)
        self._audited(write, audit)
        write.commit()
        return stored

    def save(self, old: Appointment, new: Appointment, token: str, *,
             audit: AuditEntry | None = None, fresh: Sequence[RecordVersion] = ()) -> Appointment:
        return self.update(old, new, token, release_locks=False, audit=audit, fresh=fresh)

    def land_eligibility(self, current: Appointment, status: str, event: dict[str, str]) -> Appointment:
        stored = self.appointments.get((current.tenant_id, current.appointment_id))
        if stored is None or stored.version != current.version:
            raise Conflict("The appointment changed while this request ran; read it again and retry.")
        landed = replace(stored, eligibility_status=status, history=(*stored.history, dict(event)),
                         version=stored.version + 1)
        self._put(landed)
        return landed

    # --- for tests and the fake waitlist -----------------------------------------------------
    def hold(self, hold: HeldSlot, expires_at: datetime) -> None:
        """Hold an offer's clinician blocks (as the waitlist adapter's offer write does)."""
        for key in _hold_locks(hold):
            self.locks[key] = _Lock(hold.hold_id, int(expires_at.timestamp()))

    # --- internals ---------------------------------------------------------------------------
    def _audited(self, write: _Write, entry: AuditEntry | None) -> None:
        if entry is None:
            return
        if self.audit is None:
            raise RuntimeError("an audited write needs the InMemoryAudit the entry goes to")
        audit = self.audit
        write.then(lambda: audit.write(entry))

    def _fresh(self, write: _Write, fresh: Sequence[RecordVersion]) -> None:
        if fresh and self.directory is None:
            raise RuntimeError("checking record versions needs the InMemoryDirectory they live in")
        for rv in fresh:
            assert self.directory is not None
            stored = self.directory.record(rv.kind, rv.tenant_id, rv.record_id)
            write.require(stored is not None and stored.version == rv.version, "directory")

    def _owned(self, key: _LockKey, owner: str) -> bool:
        lock = self.locks.get(key)
        return lock is not None and lock.appointment_id == owner

    def _versioned(self, write: _Write, new: Appointment) -> None:
        stored = self.appointments.get((new.tenant_id, new.appointment_id))
        write.require(stored is not None and stored.version == new.version, "appointment")

    def _ledger(self, write: _Write, tenant: str, clinician_id: str, old: PracticeDay | None,
                new: PracticeDay | None) -> None:
        if old == new or (old is not None and new is not None and (old.ledger, old.day) == (new.ledger, new.day)):
            return
        if new is not None:
            counts = self.ledger[(tenant, clinician_id, new.ledger, new.year)]
            fresh = counts.get(new.day, 0) == 0
            distinct = sum(1 for n in counts.values() if n > 0)
            write.require(not fresh or distinct < new.limit, "practice_days")

        def apply() -> None:
            for day, delta in ((old, -1), (new, +1)):
                if day is None:
                    continue
                counts = self.ledger[(tenant, clinician_id, day.ledger, day.year)]
                left = counts.get(day.day, 0) + delta
                if left > 0:
                    counts[day.day] = left
                else:
                    counts.pop(day.day, None)

        write.then(apply)

    def _put(self, appointment: Appointment) -> None:
        self.appointments[(appointment.tenant_id, appointment.appointment_id)] = appointment
        self.writes += 1


class InMemoryReads:
    """KeyedReads: each batch answered from the fakes' state at the moment it is read; `batches` counts the
    round trips a DynamoDB reader would make (one per batch that has any read)."""

    def __init__(self) -> None:
        self.batches = 0

    def read_all(self, *reads: KeyedRead[Any]) -> list[Any]:
        self.batches += 1 if reads else 0
        return [read.answer({}) for read in reads]


def _schedule_key(a: Appointment) -> tuple[str, str]:
    return block_key(a.start), a.appointment_id


class InMemoryDirectory:
    """Directory: sites, clinicians and patients; saves are optimistic on `version` (1 after the first write)."""

    def __init__(self) -> None:
        self.sites: dict[tuple[str, str], Site] = {}
        self.clinicians: dict[tuple[str, str], Clinician] = {}
        self.patients: dict[tuple[str, str], Patient] = {}
        self.forgotten: list[RecordVersion] = []  # what bookings dropped after a stale write (booking_records)
        self.screenings: dict[tuple[str, str], list[ScreeningResult]] = defaultdict(list)  # newest last

    def add_site(self, site: Site) -> None:
        _insert(self.sites, (site.tenant_id, site.site_id), site)

    def get_site(self, tenant: str, site_id: str) -> Site | None:
        return self.sites.get((tenant, site_id))

    def save_site(self, site: Site) -> Site:
        return _save(self.sites, (site.tenant_id, site.site_id), site,
                     "The site was changed by another request; read it again and retry.")

    def list_sites(self, tenant: str) -> list[Site]:
        return _listed(self.sites, tenant)

    def page_sites(self, tenant: str, limit: int, cursor: PageKey | None) -> tuple[list[Site], PageKey | None]:
        return _paged(self.sites, tenant, "sites", limit, cursor)

    def add_clinician(self, clinician: Clinician) -> None:
        _insert(self.clinicians, (clinician.tenant_id, clinician.clinician_id), clinician)

    def get_clinician(self, tenant: str, clinician_id: str) -> Clinician | None:
        return self.clinicians.get((tenant, clinician_id))

    def save_clinician(self, clinician: Clinician) -> Clinician:
        return _save(self.clinicians, (clinician.tenant_id, clinician.clinician_id), clinician,
                     "The clinician was changed by another request; read it again.")

    def list_clinicians(self, tenant: str) -> list[Clinician]:
        return _listed(self.clinicians, tenant)

    def page_clinicians(self, tenant: str, limit: int, cursor: PageKey | None
                        ) -> tuple[list[Clinician], PageKey | None]:
        return _paged(self.clinicians, tenant, "clinicians", limit, cursor)

    def add_patient(self, patient: Patient) -> None:
        _insert(self.patients, (patient.tenant_id, patient.patient_id), patient)

    def get_patient(self, tenant: str, patient_id: str) -> Patient | None:
        return self.patients.get((tenant, patient_id))

    def save_patient(self, patient: Patient) -> Patient:
        return _save(self.patients, (patient.tenant_id, patient.patient_id), patient,
                     "The patient was changed by another request; read it again and retry.")

    def record(self, kind: str, tenant: str, record_id: str) -> Patient | Clinician | Site | None:
        table: dict[tuple[str, str], Any] = {"patient": self.patients, "clinician": self.clinicians,
                                             "site": self.sites}[kind]
        return table.get((tenant, record_id))

    def booking_records(self, tenant: str, patient_id: str, clinician_id: str,
                        site_ids: Sequence[str] = (), *, with_screening: bool = False) -> BookingRecords:
        """As the adapter's warm cache: every record comes with the version the write must still find, but
        the patient read afresh with their latest screening (`with_screening`)."""
        clinician = self.get_clinician(tenant, clinician_id)
        patient = self.get_patient(tenant, patient_id)
        wanted = [*site_ids, *(clinician.site_ids if clinician else ())]
        sites = {s: site for s in dict.fromkeys(wanted) if (site := self.get_site(tenant, s)) is not None}
        cached = (("clinician", clinician),) if with_screening else (("patient", patient), ("clinician", clinician))
        fresh = [version_of(k, r) for k, r in cached if r is not None]
        fresh += [version_of("site", site) for site in sites.values()]
        screenings = tuple(self.screenings[(tenant, patient_id)][-1:]) if with_screening else None
        return BookingRecords(patient, clinician, sites, tuple(fresh), screenings)

    def forget(self, stale: Sequence[RecordVersion]) -> None:
        self.forgotten += stale


class InMemoryScreenings:
    """ScreeningStore: a patient's screening results, kept with the patient's records (as the adapter keeps
    them in the patient's partition, where booking_records reads the latest)."""

    def __init__(self, directory: InMemoryDirectory) -> None:
        self.directory = directory

    def add(self, tenant: str, patient_id: str, result: ScreeningResult) -> None:
        found = self.directory.screenings[(tenant, patient_id)]
        found.append(result)
        # Newest last; at the same time, the instrument the adapter's key order reads first is last.
        found.sort(key=lambda r: r.instrument, reverse=True)
        found.sort(key=lambda r: r.at.timestamp() if r.at else 0.0)

    def latest(self, tenant: str, patient_id: str, limit: int = 10) -> list[ScreeningResult]:
        return list(reversed(self.directory.screenings[(tenant, patient_id)]))[:limit]


def _insert(table: dict[tuple[str, str], Any], key: tuple[str, str], record: Any) -> None:
    if key in table:
        raise Conflict("That id exists.")
    table[key] = replace(record, version=1)


def _save(table: dict[tuple[str, str], Any], key: tuple[str, str], record: Any, conflict: str) -> Any:
    stored = table.get(key)
    if (stored.version if stored is not None else 0) != record.version:
        raise Conflict(conflict)
    table[key] = replace(record, version=record.version + 1)
    return table[key]


def _listed(table: dict[tuple[str, str], Any], tenant: str) -> list[Any]:
    return [record for (t, _), record in sorted(table.items()) if t == tenant]


def _paged(table: dict[tuple[str, str], Any], tenant: str, kind: str, limit: int,
           cursor: PageKey | None) -> tuple[list[Any], PageKey | None]:
    after = None
    if cursor is not None:
        after = cursor.get("after") if isinstance(cursor, dict) else None
        if not (isinstance(cursor, dict) and cursor.get("kind") == kind and cursor.get("tenant") == tenant
                and isinstance(after, str)):
            raise _bad_cursor()
    ids = sorted(i for (t, i) in table if t == tenant and (after is None or i > after))
    page = ids[:limit]
    # As a DynamoDB Query with Limit: a full page names its last key, even when nothing follows.
    last = {"kind": kind, "tenant": tenant, "after": page[-1]} if page and len(page) == limit else None
    return [table[(tenant, i)] for i in page], last


class InMemoryAudit:
    """AuditLog: one hash chain per log, as the DynamoDB trail keeps."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.logs: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def record(self, caller: Caller, action: str, resource: str, patient_id: str | None, outcome: str, *,
               log: str | None = None, extra: dict[str, str | None] | None = None) -> None:
        chain = self.logs[log or audit_log_of(caller)]
        entry: dict[str, Any] = {
            "at": self.clock().strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "tenant_id": caller.tenant_id,
            "actor": {"sub": caller.sub, "role": caller.primary_role}, "action": action, "resource": resource,
            "patient_id": patient_id, "outcome": outcome, "request_id": caller.request_id, **(extra or {}),
            "seq": len(chain) + 1, "prev_hash": chain[-1]["hash"] if chain else GENESIS}
        entry["hash"] = entry_hash(entry)
        chain.append(entry)

    def write(self, entry: AuditEntry) -> None:
        """A store's write carried this entry and committed (InMemoryAppointments(audit=...))."""
        self.record(entry.caller, entry.action, entry.resource, entry.patient_id, entry.outcome, log=entry.log,
                    extra=dict(entry.extra) if entry.extra else None)

    def entries(self, tenant: str, window: Interval, patient_id: str | None, limit: int,
                cursor: PageKey | None) -> tuple[list[dict[str, Any]], PageKey | None]:
        low, high = window.start.strftime("%Y-%m-%dT%H:%M:%S"), window.end.strftime("%Y-%m-%dT%H:%M:%S") + "~"
        after = cursor.get("seq") if isinstance(cursor, dict) else None
        if cursor is not None and not isinstance(after, int):
            raise _bad_cursor()
        found = [e for e in self.logs[tenant] if low <= e["at"] <= high
                 and (patient_id is None or e["patient_id"] == patient_id) and (after is None or e["seq"] > after)]
        page = found[:limit]
        return page, ({"seq": page[-1]["seq"]} if page and len(page) == limit else None)

    def record_many(self, caller: Caller, action: str, targets: Sequence[tuple[str, str | None]], outcome: str, *,
                    log: str | None = None) -> None:
        for resource, patient_id in targets:
            self.record(caller, action, resource, patient_id, outcome, log=log)

    def verify(self, tenant: str, max_wait_seconds: int = 300) -> ChainReport:
        """Entries are chained as they are written here: nothing ever waits."""
        chain = self.logs[tenant]
        links = [({"seq": e["seq"], "prev_hash": e["prev_hash"], "hash": e["hash"]},
                  {k: v for k, v in e.items() if k not in ("seq", "prev_hash", "hash")}) for e in chain]
        return with_waiting(verify_chain(links, len(chain), chain[-1]["hash"] if chain else GENESIS), [],
                            max_wait_seconds)

    def chain(self, tenant: str, keys: Sequence[tuple[str, str]]) -> int:
        return 0

    def actions(self, tenant: str) -> list[tuple[str, str]]:
        """(action, outcome) of every entry in a tenant's log, in order."""
        return [(e["action"], e["outcome"]) for e in self.logs[tenant]]


class InMemoryTenantSettings:
    def __init__(self) -> None:
        self.saved: dict[str, TenantSettings] = {}

    def get(self, tenant: str) -> TenantSettings:
        return self.saved.get(tenant) or TenantSettings(tenant)

    def settings_read(self, tenant: str) -> KeyedRead[TenantSettings]:
        return KeyedRead((), lambda _found: self.get(tenant))

    def read(self, tenant: str) -> KeyedRead[None]:
        """As a SettingsSource (the gate reads this store directly in use-case tests): nothing kept, nothing
        to read ahead."""
        return KeyedRead((), lambda _found: None)

    def save(self, settings: TenantSettings) -> TenantSettings:
        if self.get(settings.tenant_id).version != settings.version:
            raise Conflict("The settings were changed by another request; read them again and retry.")
        self.saved[settings.tenant_id] = replace(settings, version=settings.version + 1)
        return self.saved[settings.tenant_id]


def sequential_ids() -> Callable[[str], str]:
    """IdFactory: apt_000001, tx_000002, ... — predictable ids for assertions."""
    counter = itertools.count(1)
    return lambda prefix: f"{prefix}_{next(counter):06d}"


class InMemorySearchReads:
    """SearchReader over the in-memory directory and appointments (the adapter's one batched read, plainly)."""

    def __init__(self, directory: InMemoryDirectory, appointments: InMemoryAppointments) -> None:
        self.directory = directory
        self.appointments = appointments
        self.windows: list[Interval] = []  # every window a search read, in order

    def open_search(self, tenant: str, *, patient_id: str | None = None, clinician_id: str | None = None,
                    wanted: Callable[[Clinician], bool] = lambda c: True, also: Sequence[KeyedRead[Any]] = ()) -> Any:
        reads, windows = self, self.windows
        for read in also:  # the fakes' keyed reads answer from their own state (InMemoryReads)
            read.answer({})

        class Session:
            def read(self, window: Interval) -> SearchInputs:
                windows.append(window)
                return reads.read_for_search(tenant, window, patient_id=patient_id, clinician_id=clinician_id,
                                             wanted=wanted)

        return Session()

    def read_for_search(self, tenant: str, window: Interval, *, patient_id: str | None = None,
                        clinician_id: str | None = None,
                        wanted: Callable[[Clinician], bool] = lambda c: True) -> SearchInputs:
        if clinician_id is None:
            named = sorted(self.directory.list_clinicians(tenant), key=lambda c: c.clinician_id)
        else:
            named = [c for c in [self.directory.get_clinician(tenant, clinician_id)] if c is not None]
        sites = {s.site_id: s for s in self.directory.list_sites(tenant)}
        chosen = [c for c in named if wanted(c)]
        site_ids = sorted({r.site_id for c in chosen for r in c.availability.rules if r.site_id} & sites.keys())
        busy = self.appointments.busy_time(tenant, window, clinician_ids=[c.clinician_id for c in chosen],
                                           site_ids=site_ids, patient_id=patient_id)
        patient = self.directory.get_patient(tenant, patient_id) if patient_id else None
        return SearchInputs(tuple(named), sites, patient, busy)
