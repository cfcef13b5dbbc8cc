"""Availability search: lawful, free options for one service in a window."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..domain.access import Caller, require_patient_access
from ..domain.availability import (
    Busy,
    SearchInputs,
    Slot,
    SlotQuery,
    chunk_slot_query,
    clinician_slots,
    search_chunks,
)
from ..domain.care import PatientWhereabouts
from ..domain.errors import FieldError, FieldErrors, NotFound, ValidationFailed
from ..domain.licensure import LicensureDecision
from ..domain.model import Clinician, Interval, Modality, Site
from ..domain.ports import AuditTrail, Clock, SearchReader
from ..domain.rulebook import RuleBook, ServiceDefinition
from ..domain.timeblocks import BLOCK
from .care_gate import CareGate
from .paging import decode_cursor, encode_cursor

MAX_WINDOW = timedelta(days=31)


@dataclass(frozen=True)
class AvailabilitySearch:
    service: str
    window: Interval
    patient_id: str | None = None
    patient_jurisdiction: str | None = None
    modality: Modality | None = None
    clinician_id: str | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class Option:
    slot: Slot
    licensure: LicensureDecision


class AvailabilityService:
    def __init__(self, reads: SearchReader, rules: Callable[[], RuleBook], clock: Clock, gate: CareGate,
                 audit: AuditTrail | None = None) -> None:
        self.reads = reads
        self.audit = audit
        self.rules = rules
        self.clock = clock
        self.gate = gate

    def search(self, caller: Caller, q: AvailabilitySearch) -> tuple[list[Option], str | None]:
        rules = self.rules()
        service = rules.require_service(q.service)
        errors = FieldErrors()
        if q.window.end <= q.window.start:
            errors.add("to", "must be after from")
        elif q.window.end - q.window.start > MAX_WINDOW:
            errors.add("to", "the window may span at most 31 days")
        if not q.patient_id and not q.patient_jurisdiction:
            errors.add("patient_jurisdiction", "is required when patient_id is not given")
        errors.raise_if_any()
        if q.patient_id:
            require_patient_access(caller, q.patient_id)
        after = _cursor_key(decode_cursor(q.cursor))
        modalities = frozenset([q.modality]) if q.modality else service.modalities
        query = SlotQuery(duration=timedelta(minutes=service.duration_minutes), window=q.window,
                          modalities=modalities & service.modalities,
                          not_before=max(q.window.start, self.clock() + BLOCK),
                          step=timedelta(minutes=service.slot_step_minutes))
        # Time order: read and decide a few days at a time and stop once the page is full (one more option
        # than the page tells whether there is a next page); a next page starts reading at its cursor.
        begin = max(query.not_before, datetime.fromisoformat(after[0]) if after else query.not_before)
        # Nothing left to search (the cursor or the clock is past the window): one block's read answers who exists.
        chunks = (list(search_chunks(begin, q.window.end))
                  or [Interval(q.window.start, min(q.window.end, q.window.start + BLOCK))])
        # The tenant's settings (the policy on uncertain rules) ride in the first read when this process lacks them.
        session = self.reads.open_search(caller.tenant_id, patient_id=q.patient_id, clinician_id=q.clinician_id,
                                         wanted=lambda c: c.discipline in service.disciplines,
                                         also=[self.gate.settings_read(caller.tenant_id)])
        read = session.read(_read_window(chunks[0], query))
        where = q.patient_jurisdiction
        home = where
        if q.patient_id:
            if read.patient is None:
                raise NotFound("No such patient.")
            where, home = where or read.patient.home_jurisdiction, read.patient.home_jurisdiction
            if self.audit is not None:  # the patient's own busy time shapes the answer: a read of their record
                self.audit.record(caller, "availability.search", f"patient/{q.patient_id}/availability",
                                  q.patient_id, "success")
        if q.clinician_id and not read.clinicians:
            raise NotFound("No such clinician.")
        assert where is not None and home is not None
        whereabouts = PatientWhereabouts(home, where)
        policy = self.gate.policy(caller.tenant_id)

        options: list[Option] = []
        for n, chunk in enumerate(chunks):
            if n:
                read = session.read(_read_window(chunk, query))
            options += [o for o in self._options(caller.tenant_id, read, chunk, query, whereabouts, service, policy)
                        if after is None or _slot_key(o.slot) > after]
            if len(options) > q.limit:
                break
        page = options[: q.limit]
        next_cursor = encode_cursor(list(_slot_key(page[-1].slot))) if len(options) > q.limit else None

        return page, next_cursor

    def _options(self, tenant: str, read: SearchInputs, chunk: Interval, query: SlotQuery,
                 whereabouts: PatientWhereabouts, service: ServiceDefinition, policy: str) -> list[Option]:
        """The lawful free options starting inside `chunk`, in page order."""
        within = chunk_slot_query(query, chunk)
        options: list[Option] = []
        for clinician in read.clinicians:
            if clinician.discipline not in service.disciplines:
                continue
            busy = Busy(read.busy.clinicians.get(clinician.clinician_id, frozenset()), read.busy.patient,
                        read.busy.rooms)
            slots = [s for s in clinician_slots(clinician, read.sites, within, busy)
                     if chunk.start <= s.start < chunk.end]
            options += self._lawful(tenant, clinician, read.sites, slots, whereabouts, service, policy)
        return sorted(options, key=lambda o: _slot_key(o.slot))

    def _lawful(self, tenant: str, clinician: Clinician, sites: dict[str, Site], slots: Iterable[Slot],
                whereabouts: PatientWhereabouts, service: ServiceDefinition, policy: str) -> list[Option]:
        """Keep the options the clinician may lawfully deliver where care would happen, decided as booking
        decides (the same gate: place of care, day limits, the tenant's policy on uncertain rules)."""
        decided: dict[tuple[Modality, str | None, date], LicensureDecision] = {}
        options = []
        for slot in slots:
            site = sites[slot.site_id] if slot.site_id else None
            place = self.gate.place(slot.modality, site, whereabouts, clinician)
            key = (slot.modality, slot.site_id, place.local_date(slot.start))
            if key not in decided:
                decided[key] = self.gate.decide(tenant, clinician, slot.modality, slot.start, place,
                                                service=service.code, policy=policy).decision
            if decided[key].allowed:
                options.append(Option(slot, decided[key]))
        return options


def _read_window(chunk: Interval, query: SlotQuery) -> Interval:
    """What deciding the slots that start inside `chunk` needs: up to a visit's length past its end."""
    return Interval(chunk.start, min(query.window.end, chunk.end + query.duration))


def _slot_key(slot: Slot) -> tuple[str, str, str, str]:
    return (slot.start.isoformat(), slot.clinician_id, slot.modality.value, slot.site_id or "")


def _cursor_key(position: object) -> tuple[str, str, str, str] | None:
    if position is None:
        return None
    if not (isinstance(position, list) and len(position) == 4 and all(isinstance(p, str) for p in position)):
        raise ValidationFailed("cursor is not valid", errors=[FieldError("cursor", "is not a cursor we issued")])
    return (position[0], position[1], position[2], position[3])
