"""Booking and the appointment lifecycle: book, read, list, cancel, reschedule, check in, finish."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from ..domain import status as status_machine
from ..domain.access import Caller, may_see_appointment, require_patient_access
from ..domain.audit_entry import AuditEntry
from ..domain.availability import Busy, free_room, slot_fits_rules
from ..domain.billing import billing_facts
from ..domain.care import CareDecision, CarePlace, PatientWhereabouts, notes
from ..domain.eligibility_hook import EligibilityRecorder, NoEligibilityRecorder
from ..domain.errors import (
    Conflict,
    FieldError,
    FieldErrors,
    JurisdictionMismatch,
    LicensureNeedsReview,
    LocationNotConfirmed,
    ModalityNotOffered,
    NotFound,
    OutsideAvailability,
    PracticeDaysChanged,
    RoomUnavailable,
    ServiceNotOffered,
    StaleRecords,
    ValidationFailed,
)
from ..domain.keyed_reads import known
from ..domain.meeting_state import ENDED_BY_SWITCH
from ..domain.model import Appointment, Billing, Clinician, ConfirmedLocation, Interval, Modality, Patient, Site, Status
from ..domain.ports import AppointmentStore, AuditTrail, BookingDirectory, Clock, IdFactory, KeyedReads
from ..domain.records import BookingRecords
from ..domain.rulebook import RuleBook, ServiceDefinition
from ..domain.ruleref import Reason, reason_json
from ..domain.timeblocks import blocks_covering, is_aligned
from ..domain.waitlist import HeldSlot
from .care_gate import CareGate, DefaultSettings
from .paging import decode_cursor, encode_cursor

log = logging.getLogger(__name__)

ROOM_ATTEMPTS = 3
RoomsTaken = dict[datetime, frozenset[str]]
# The reason the video service's 503 tells the client to send when it falls back to phone (services/video.py).
VIDEO_FALLBACK_REASON = "video_unavailable"
LEDGER_ATTEMPTS = 3
# Statuses in which a visit still rests on a licensure decision.
ACTIVE = frozenset({Status.BOOKED, Status.CHECKED_IN, Status.IN_PROGRESS})


@dataclass(frozen=True)
class BookingRequest:
    """What a booking asks for, already validated by the view (api/appointments.py, api/fhir.py)."""

    patient_id: str
    clinician_id: str
    service: str
    start: datetime
    modality: Modality
    site_id: str | None = None
    patient_jurisdiction: str | None = None
    patient_location_type: str | None = None


@dataclass(frozen=True)
class Reschedule:
    start: datetime
    modality: Modality | None = None
    site_id: str | None = None


@dataclass(frozen=True)
class ModalitySwitch:
    modality: Modality
    reason: str | None = None
    site_id: str | None = None


@dataclass(frozen=True)
class StatedAddress:
    line1: str | None = None
    city: str | None = None
    postal_code: str | None = None
    timezone: str | None = None  # the patient's IANA zone when their device knows it


@dataclass(frozen=True)
class StatedLocation:
    """Where the patient says they are now (check-in, or their video join)."""

    patient_jurisdiction: str
    address: StatedAddress | None = None
    callback_phone: str | None = None
    patient_location_type: str | None = None


class VisitEnded(Protocol):
    def __call__(self, caller: Caller, appointment: Appointment, reason: str) -> Appointment: ...


@dataclass(frozen=True)
class VisitShape:
    """A visit that passed every check but the licensure decision."""

    start: datetime
    end: datetime
    modality: Modality
    site: Site | None
    location_type: str
    place: CarePlace


@dataclass(frozen=True)
class VisitPlan:
    start: datetime
    end: datetime
    modality: Modality
    site: Site | None
    location_type: str
    decided: CareDecision

    @property
    def timezone(self) -> str:
        return self.decided.place.zone


class BookingService:
    def __init__(self, directory: BookingDirectory, appointments: AppointmentStore,
                 rules: Callable[[], RuleBook], clock: Clock, new_id: IdFactory, audit: AuditTrail,
                 eligibility: EligibilityRecorder | None = None, gate: CareGate | None = None,
                 routing_guard: Callable[..., None] | None = None, *, reads: KeyedReads) -> None:
        self.directory = directory
        self.appointments = appointments
        # Keyed reads of several stores in one round trip (a booking's payer, eligibility cache entry and rooms).
        self.reads = reads
        self.rules = rules
        self.clock = clock
        self.new_id = new_id
        self.audit = audit
        self.gate = gate or CareGate(appointments, rules, DefaultSettings())
        # Routing rules that restrict modalities (risk, no video, payer coverage) hold at every booking door.
        self.routing_guard = routing_guard or (lambda tenant, patient, modality, fallback=False, screenings=None: None)
        # Only the payer's billing terms are read here: the payer is asked after commit, by the table stream's
        # consumer, as are reminders, confirmations and the waitlist (services/visit_followers.py).
        self.eligibility = eligibility or NoEligibilityRecorder()
        # Video closes the visit's meeting when the visit ends (services/video.py visit_ended; bootstrap wires it).
        self.on_visit_ended: VisitEnded | None = None

    # --- booking -----------------------------------------------------------------------------
    def book(self, caller: Caller, body: BookingRequest, *, hold: HeldSlot | None = None) -> Appointment:
        """`hold`: a waitlist offer's held slot, taken over by this booking."""
        require_patient_access(caller, body.patient_id)
        appointment_id = self.new_id("apt")
        entry = AuditEntry(caller, "appointment.book", f"appointment/{appointment_id}", body.patient_id)
        booked, _ = self._on_records(
            caller, body.patient_id, body.clinician_id, body.site_id,
            lambda records: self._book(caller, body, records, appointment_id, entry, hold), with_screening=True)
        return booked

    def _on_records(self, caller: Caller, patient_id: str, clinician_id: str, site_id: str | None,
                    write: Callable[[BookingRecords], Appointment], *,
                    with_screening: bool = False) -> tuple[Appointment, BookingRecords]:
        """Decide and write on the directory records (cached ones checked by the write); when one proved stale,
        forget them, read again and decide again, once. `with_screening`: the door runs routing's guard, which
        needs the patient's latest screening: read afresh with the patient (one read, not two)."""
        for attempt in range(2):
            records = self.directory.booking_records(caller.tenant_id, patient_id, clinician_id,
                                                     [site_id] if site_id else [], with_screening=with_screening)
            if records.patient is None:
                raise NotFound("No such patient.")
            if records.clinician is None:
                raise NotFound("No such clinician.")
            try:
                return write(records), records
            except StaleRecords:
                self.directory.forget(records.fresh)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _book(self, caller: Caller, body: BookingRequest, records: BookingRecords, appointment_id: str,
              entry: AuditEntry, hold: HeldSlot | None) -> Appointment:
        patient, clinician = _found(records)
        service = self._service(body.service)
        # The patient's own location (stated, else home); in-person care still happens at the site.
        whereabouts = PatientWhereabouts(patient.home_jurisdiction, body.patient_jurisdiction)
        for attempt in range(LEDGER_ATTEMPTS):
            shape = self._shape(caller.tenant_id, patient, clinician, service, body.start, body.modality,
                                body.site_id, False, whereabouts, body.patient_location_type, records, guard=False)
            now = self.clock()
            appointment = Appointment(
                tenant_id=caller.tenant_id, appointment_id=appointment_id, patient_id=patient.patient_id,
                clinician_id=clinician.clinician_id, service=service.code, start=shape.start, end=shape.end,
                modality=shape.modality, site_id=shape.site.site_id if shape.site else None, room=None,
                patient_jurisdiction=body.patient_jurisdiction or patient.home_jurisdiction,
                patient_location_type=shape.location_type, timezone=shape.place.zone,
                status=Status.BOOKED, billing=billing_facts(shape.modality, shape.location_type, None),
                licensure_basis=None, eligibility_status="pending",
                buffer_minutes=clinician.availability.buffer_minutes, created_at=now, updated_at=now,
                history=(_event(now, "booked", caller),),
            )
            # One round trip before the licensure decision and the write, of what this process lacks: the
            # tenant's settings (the decision's policy), the payer's configuration, the eligibility cache entry
            # (no payer is asked before the answer: a fresh cached answer, else pending; the stream consumer
            # asks) and, in person, the rooms taken. Answered in this order, so the cache entry, routing's
            # coverage and the billing find the payer read; routing's guard runs here, after the licensure
            # decision, rather than inside _shape as at the other doors.
            _, _, status, taken = self.reads.read_all(
                self.gate.settings_read(caller.tenant_id),
                self.eligibility.payer_read(patient),
                self.eligibility.status_read(appointment, patient, clinician),
                self.appointments.rooms_taken_read(shape.site.tenant_id, shape.site.site_id, appointment.interval)
                if shape.site is not None else known(None))
            plan = self._decided(caller.tenant_id, clinician, service, shape)
            self.routing_guard(caller.tenant_id, patient, plan.modality, fallback=False,
                               screenings=records.screenings)
            appointment = replace(
                appointment, licensure_basis=plan.decided.decision.basis, licensure=plan.decided.record(),
                eligibility_status=status, billing=self._billing(patient, plan.modality, plan.location_type,
                                                                 plan.start))
            try:
                return self._with_room(plan, appointment, lambda a: self.appointments.book(
                    a, hold=hold, audit=entry, fresh=records.fresh), taken=taken)
            except PracticeDaysChanged:
                if attempt == LEDGER_ATTEMPTS - 1:
                    raise  # re-decided on fresh counts each time; a third race in a row is a real conflict
        raise AssertionError("unreachable")

    def _billing(self, patient: Patient | None, modality: Modality, location_type: str, start: datetime) -> Billing:
        """POS and modifiers: the patient's payer's telehealth policy when it has one, else CMS conventions."""
        policy = self.eligibility.billing_policy(patient, start.date()) if patient is not None else None
        return billing_facts(modality, location_type, policy)

    def _with_room(self, plan: VisitPlan, appointment: Appointment, write: Callable[[Appointment], Appointment],
                   own: Appointment | None = None, taken: RoomsTaken | None = None) -> Appointment:
        """Pick a free room and write; if a racing booking takes it first, read the rooms again and pick again.
        `taken`: the site's rooms taken, when the caller read them already (in its batch)."""
        if plan.site is None:
            return write(appointment)
        for attempt in range(ROOM_ATTEMPTS):
            room = self._free_room(plan.site, appointment.interval, own, taken if attempt == 0 else None)
            if room is None:
                raise RoomUnavailable("No room is free at that site for the whole visit.")
            try:
                return write(replace(appointment, room=room))
            except RoomUnavailable:
                if attempt == ROOM_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _free_room(self, site: Site, interval: Interval, own: Appointment | None,
                   taken: RoomsTaken | None = None) -> str | None:
        if taken is None:
            taken = self.appointments.rooms_taken(site.tenant_id, site.site_id, interval)
        keep = own.room if own is not None and own.site_id == site.site_id and own.room in site.rooms else None
        if keep is not None and own is not None:
            # The room this visit holds now is free for its own move; prefer it so the visit keeps its room.
            ours = set(blocks_covering(own.start, own.end))
            taken = {b: rooms - {keep} if b in ours else rooms for b, rooms in taken.items()}
            site = replace(site, rooms=(keep, *(r for r in site.rooms if r != keep)))
        return free_room(site, interval, Busy(rooms_taken={site.site_id: taken}))

    def _plan(self, tenant: str, patient: Patient, clinician: Clinician, service: ServiceDefinition,
              start: datetime, modality: Modality, site_id: str | None, fallback: bool,
              whereabouts: PatientWhereabouts, location_type: str | None, records: BookingRecords,
              own: Appointment | None = None) -> VisitPlan:
        """`records.sites`: the asked-for site and the clinician's, as the booking's records found them."""
        return self._decided(tenant, clinician, service, self._shape(
            tenant, patient, clinician, service, start, modality, site_id, fallback, whereabouts, location_type,
            records), own)

    def _shape(self, tenant: str, patient: Patient, clinician: Clinician, service: ServiceDefinition,
               start: datetime, modality: Modality, site_id: str | None, fallback: bool,
               whereabouts: PatientWhereabouts, location_type: str | None, records: BookingRecords, *,
               guard: bool = True) -> VisitShape:
        """Every check but the licensure decision. `guard`: run routing's guard here; booking runs it itself,
        once its batched read brought the payer."""
        sites = records.sites
        errors = FieldErrors()
        if not is_aligned(start):
            errors.add("start", "must be on a 15-minute boundary (:00, :15, :30, :45)")
        site = None
        if modality is Modality.IN_PERSON:
            if not site_id:
                errors.add("site_id", "is required for an in_person visit")
            else:
                site = sites.get(site_id)
                if site is None:
                    errors.add("site_id", "no such site in this tenant")
        errors.raise_if_any()
        end = start + timedelta(minutes=service.duration_minutes)
        place = self.gate.place(modality, site, whereabouts, clinician)
        on = place.local_date(start)  # the date where care happens, not the UTC date
        if not service.in_effect(on):
            raise ServiceNotOffered(f"Service {service.code} is not offered on that date.")
        if clinician.discipline not in service.disciplines:
            raise ServiceNotOffered(f"A {clinician.discipline.value} may not deliver service {service.code}.")
        if modality not in service.modalities or modality not in clinician.modalities:
            raise ModalityNotOffered(f"{modality.value} is not offered for this clinician and service.")
        if modality is Modality.VIDEO and not patient.video_capable:
            raise ModalityNotOffered("The patient has no video access; offer phone or in_person.")
        if guard:
            self.routing_guard(tenant, patient, modality, fallback=fallback, screenings=records.screenings)
        if site is not None and site.site_id not in clinician.site_ids:
            raise ModalityNotOffered("The clinician does not see patients at that site.")
        if start <= self.clock():
            raise OutsideAvailability("The start time is in the past.")
        own_sites = {s: sites[s] for s in clinician.site_ids if s in sites}
        if not slot_fits_rules(clinician, own_sites, Interval(start, end), modality, site.site_id if site else None):
            raise OutsideAvailability("That time is outside the clinician's availability for this modality.")
        return VisitShape(start, end, modality, site, "clinic" if site else (location_type or "home"), place)

    def _decided(self, tenant: str, clinician: Clinician, service: ServiceDefinition, shape: VisitShape,
                 own: Appointment | None = None) -> VisitPlan:
        decided = self.gate.require(self.gate.decide(tenant, clinician, shape.modality, shape.start, shape.place,
                                                     service=service.code, own=own))
        return VisitPlan(shape.start, shape.end, shape.modality, shape.site, shape.location_type, decided)

    # --- reads -------------------------------------------------------------------------------
    def get(self, caller: Caller, appointment_id: str) -> Appointment:
        appointment = self._visible(caller, appointment_id)
        self.audit.record(caller, "appointment.read", _resource(appointment), appointment.patient_id, "success")
        return appointment

    def list(self, caller: Caller, clinician_id: str | None, patient_id: str | None, window: Interval,
             limit: int, cursor: str | None, *, needs_review: bool = False) -> tuple[list[Appointment], str | None]:
        if needs_review and caller.tenant_wide and not clinician_id and not patient_id:
            return self._needing_review(caller, limit, cursor)
        return self._list(caller, clinician_id, patient_id, window, limit, cursor, needs_review=needs_review)

    def _needing_review(self, caller: Caller, limit: int, cursor: str | None) -> tuple[list[Appointment], str | None]:
        position = decode_cursor(cursor)
        after = position.get("review") if isinstance(position, dict) else None
        if position is not None and not isinstance(after, str):
            raise ValidationFailed("cursor is not valid", errors=[FieldError("cursor", "is not a cursor we issued")])
        ids, last = self.appointments.needing_review(caller.tenant_id, limit, after)
        items = [a for a in (self.appointments.get(caller.tenant_id, i) for i in ids) if a is not None]
        self.audit.record_many(caller, "appointment.list", [(_resource(a), a.patient_id) for a in items], "success")
        return items, encode_cursor({"review": last}) if last else None

    def _list(self, caller: Caller, clinician_id: str | None, patient_id: str | None, window: Interval,
              limit: int, cursor: str | None, *, needs_review: bool = False) -> tuple[list[Appointment], str | None]:
        if caller.has("patient") and not caller.tenant_wide:
            patient_id = caller.patient_id
        elif caller.has("clinician") and not caller.tenant_wide:
            if clinician_id and clinician_id != caller.clinician_id:
                return [], None
            clinician_id = caller.clinician_id
        if not clinician_id and not patient_id:
            raise ValidationFailed("Give clinician_id or patient_id", errors=[
                FieldError("clinician_id", "clinician_id or patient_id is required")])
        start_key = decode_cursor(cursor)

        def visible(a: Appointment) -> bool:
            # Filtering inside the read keeps the page's cursor on an item this caller received.
            return may_see_appointment(caller, a) and (not clinician_id or a.clinician_id == clinician_id) \
                and (not needs_review or (a.needs_review and a.status in ACTIVE))

        if patient_id:
            items, last = self.appointments.list_for_patient(caller.tenant_id, patient_id, window, limit, start_key,
                                                             keep=visible)
        else:
            assert clinician_id is not None
            items, last = self.appointments.list_for_clinician(caller.tenant_id, clinician_id, window, limit,
                                                               start_key, keep=visible)
        self.audit.record_many(caller, "appointment.list", [(_resource(a), a.patient_id) for a in items], "success")
        return items, encode_cursor(last)

    # --- lifecycle ---------------------------------------------------------------------------
    def cancel(self, caller: Caller, appointment_id: str, reason: str | None) -> Appointment:
        current = self._visible(caller, appointment_id)
        status_machine.require_transition(current.status, Status.CANCELLED)
        now = self.clock()
        new = replace(current, status=Status.CANCELLED, cancel_reason=reason, updated_at=now,
                      history=(*current.history, _event(now, "cancelled", caller)))
        done = self.appointments.update(current, new, self.new_id("tx"), release_locks=True,
                                        audit=_entry(caller, "appointment.cancel", current))
        return self._ended(caller, done, "cancelled")

    def complete(self, caller: Caller, appointment_id: str) -> Appointment:
        current = self._visible(caller, appointment_id)
        status_machine.require_transition(current.status, Status.COMPLETED)
        decided = self.ready_to_start(caller, current)
        return self._move_to(caller, current, Status.COMPLETED, release_locks=False, decided=decided)

    def no_show(self, caller: Caller, appointment_id: str) -> Appointment:
        return self._move(caller, appointment_id, Status.NO_SHOW, release_locks=True)

    def _move(self, caller: Caller, appointment_id: str, target: Status, *, release_locks: bool) -> Appointment:
        current = self._visible(caller, appointment_id)
        status_machine.require_transition(current.status, target)
        return self._move_to(caller, current, target, release_locks=release_locks)

    def _move_to(self, caller: Caller, current: Appointment, target: Status, *, release_locks: bool,
                 decided: CareDecision | None = None) -> Appointment:
        now = self.clock()
        new = replace(current, status=target, updated_at=now,
                      history=(*current.history, _event(now, target.value, caller)))
        if decided is not None:
            new = replace(new, licensure=decided.record(), licensure_basis=decided.decision.basis)
        done = self.appointments.update(current, new, self.new_id("tx"), release_locks=release_locks,
                                        audit=_entry(caller, f"appointment.{target.value}", current))
        if target in (Status.COMPLETED, Status.NO_SHOW):
            return self._ended(caller, done, target.value)
        return done

    def _ended(self, caller: Caller, done: Appointment, reason: str) -> Appointment:
        """A video visit that ended takes its meeting with it; other visits are left as they are."""
        if self.on_visit_ended is None or (done.modality is not Modality.VIDEO and not done.video
                                            and reason != ENDED_BY_SWITCH):
            return done
        return self.on_visit_ended(caller, done, reason)

    def reschedule(self, caller: Caller, appointment_id: str, body: Reschedule) -> Appointment:
        current = self._visible(caller, appointment_id)
        status_machine.require_in(current.status, status_machine.RESCHEDULABLE, "rescheduled")
        modality = body.modality or current.modality
        site_id = body.site_id if body.site_id is not None else current.site_id
        return self._change_visit(caller, current, body.start, modality, site_id, "rescheduled")

    def switch_modality(self, caller: Caller, appointment_id: str, body: ModalitySwitch) -> Appointment:
        current = self._visible(caller, appointment_id)
        status_machine.require_in(current.status, status_machine.CHANGEABLE, "switched to another modality")
        site_id = body.site_id if body.site_id is not None else current.site_id
        return self._change_visit(caller, current, current.start, body.modality, site_id,
                                  f"modality:{current.modality.value}->{body.modality.value}",
                                  fallback=body.reason == VIDEO_FALLBACK_REASON and body.modality is Modality.PHONE)

    def _change_visit(self, caller: Caller, current: Appointment, start: datetime, modality: Modality,
                      site_id: str | None, action: str, *, fallback: bool = False) -> Appointment:
        """Reschedule or switch: re-decided for where care happens after the change (never the old site's
        jurisdiction for telehealth), which also settles a visit flagged for review."""
        if modality is not Modality.IN_PERSON:
            site_id = None
        done, _ = self._on_records(caller, current.patient_id, current.clinician_id, site_id,
                                   lambda records: self._changed(caller, current, records, start, modality,
                                                                 site_id, action, fallback), with_screening=True)
        if current.modality is Modality.VIDEO and done.modality is not Modality.VIDEO:
            done = self._ended(caller, done, ENDED_BY_SWITCH)
        return done

    def _changed(self, caller: Caller, current: Appointment, records: BookingRecords, start: datetime,
                 modality: Modality, site_id: str | None, action: str, fallback: bool) -> Appointment:
        patient, clinician = _found(records)
        service = self._service(current.service)
        previous_location = None if current.patient_location_type == "clinic" else current.patient_location_type
        entry = _entry(caller, "appointment.change", current)
        for attempt in range(LEDGER_ATTEMPTS):
            plan = self._plan(current.tenant_id, patient, clinician, service, start, modality, site_id, fallback,
                              whereabouts_of(current, patient), previous_location, records, own=current)
            now = self.clock()
            new = replace(current, start=plan.start, end=plan.end, modality=plan.modality,
                          site_id=plan.site.site_id if plan.site else None, room=None,
                          patient_location_type=plan.location_type, timezone=plan.timezone,
                          billing=self._billing(patient, plan.modality, plan.location_type, plan.start),
                          licensure_basis=plan.decided.decision.basis, licensure=plan.decided.record(),
                          buffer_minutes=clinician.availability.buffer_minutes, updated_at=now,
                          history=(*current.history, _event(now, action, caller)))
            try:
                return self._with_room(plan, new, self._replacer(current, entry, records), own=current)
            except PracticeDaysChanged:
                if attempt == LEDGER_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _replacer(self, current: Appointment, entry: AuditEntry,
                  records: BookingRecords) -> Callable[[Appointment], Appointment]:
        token = self.new_id("tx")  # one token per attempt: a retried room pick is the same write
        return lambda new: self.appointments.replace_visit(current, new, token, audit=entry, fresh=records.fresh)

    def check_in(self, caller: Caller, appointment_id: str, body: StatedLocation) -> Appointment:
        """Confirm where the patient is, re-decide licensure for that place, then check in."""
        current = self._visible(caller, appointment_id)
        status_machine.require_transition(current.status, Status.CHECKED_IN)
        return self.confirm_location(caller, current, body, check_in=True)

    def confirm_location(self, caller: Caller, current: Appointment, body: StatedLocation, *,
                         check_in: bool) -> Appointment:
        """The patient says where they are now (check-in, or their video join): stored with the callback
        phone and address for emergencies, and the visit re-decided for that place."""
        self._require_not_under_review(caller, current, "appointment.check_in")
        done, _ = self._on_records(caller, current.patient_id, current.clinician_id, current.site_id,
                                   lambda records: self._confirm(caller, current, body, records, check_in))
        return done

    def _confirm(self, caller: Caller, current: Appointment, body: StatedLocation, records: BookingRecords,
                 check_in: bool) -> Appointment:
        patient, clinician = _found(records)
        now = self.clock()
        address = body.address
        confirmed = ConfirmedLocation(
            jurisdiction=body.patient_jurisdiction, confirmed_at=now, confirmed_by=caller.primary_role,
            callback_phone=body.callback_phone,
            address_line1=address.line1 if address else None, address_city=address.city if address else None,
            address_postal_code=address.postal_code if address else None)
        site = records.site(current.site_id)
        whereabouts = replace(whereabouts_of(current, None), confirmed=confirmed,
                              zone_hint=address.timezone if address else None)
        place = self.gate.place(current.modality, site, whereabouts, clinician)
        if site is not None and body.patient_jurisdiction != site.jurisdiction:
            # The patient is not at the clinic: an in-person visit cannot happen; say what still can.
            self.audit.record(caller, "appointment.check_in", _resource(current), current.patient_id, "refused")
            raise self._mismatch(current, clinician, body.patient_jurisdiction, [])
        decided = self.gate.decide(current.tenant_id, clinician, current.modality, current.start, place,
                                   service=current.service, own=current)
        if not decided.decision.allowed:
            self.audit.record(caller, "appointment.check_in", _resource(current), current.patient_id, "refused")
            raise self._mismatch(current, clinician, body.patient_jurisdiction, list(decided.decision.reasons))
        location_type = "clinic" if site else (body.patient_location_type or current.patient_location_type)
        new = replace(current, patient_location_type=location_type, licensure_basis=decided.decision.basis,
                      licensure=decided.record(), confirmed_location=confirmed,
                      billing=self._billing(patient, current.modality, location_type, current.start), updated_at=now,
                      history=(*current.history, _event(now, "checked_in" if check_in else "location_confirmed",
                                                        caller)))
        if check_in:
            new = replace(new, status=Status.CHECKED_IN)
        return self._save_redecided(current, new, _entry(
            caller, "appointment.check_in" if check_in else "appointment.location_confirmed", current), records)

    def _save_redecided(self, current: Appointment, new: Appointment, entry: AuditEntry,
                        records: BookingRecords | None = None) -> Appointment:
        """Write a re-decided visit; the ledger and the audit entry move with it in the same transaction (and
        the versions of the cached records it was decided on are checked there)."""
        return self.appointments.save(current, new, self.new_id("tx"), audit=entry,
                                      fresh=records.fresh if records else ())

    def _mismatch(self, current: Appointment, clinician: Clinician, where: str, reasons: list[Reason]) -> Exception:
        alternatives = self._alternatives(current, clinician, where)
        return JurisdictionMismatch(
            f"The visit cannot go ahead as booked with the patient in {where}.",
            extra={"patient_jurisdiction": where, "alternatives": alternatives,
                   "reasons": [reason_json(r) for r in reasons]})

    # --- the start and end of care -----------------------------------------------------------
    def ready_to_start(self, caller: Caller, current: Appointment) -> CareDecision:
        """Care may start (or be completed) only on a visit that is not under review, whose patient
        confirmed where they are (telehealth), and that is lawful for that place right now."""
        self._require_not_under_review(caller, current, "appointment.start")
        if current.modality.is_telehealth and current.confirmed_location is None:
            raise LocationNotConfirmed(
                "Confirm where the patient is first: check in, or the patient joins with "
                "{patient_jurisdiction, callback_phone}.", extra={"current_status": current.status.value})
        clinician = self._clinician(caller, current.clinician_id)
        decided = self._decide_stored(current, clinician)
        if not decided.decision.allowed:
            self.audit.record(caller, "appointment.start", _resource(current), current.patient_id, "refused")
            raise self._mismatch(current, clinician, decided.place.jurisdiction, list(decided.decision.reasons))
        return decided

    def _decide_stored(self, current: Appointment, clinician: Clinician) -> CareDecision:
        """The gate's decision for a stored visit as it stands: its modality, time and what is known of
        where the patient is."""
        site = self.directory.get_site(current.tenant_id, current.site_id) if current.site_id else None
        place = self.gate.place(current.modality, site, whereabouts_of(current, None), clinician)
        return self.gate.decide(current.tenant_id, clinician, current.modality, current.start, place,
                                service=current.service, own=current)

    def redecide_for_clinician(self, caller: Caller, clinician: Clinician) -> dict[str, int]:
        """After a clinician (or a site) changed: decide every active visit from yesterday on again. A visit
        that lost its authority is flagged `needs_review` (check-in and start refused until re-decided);
        one whose authority came back is cleared. Each visit is saved with its own version check."""
        counts = {"flagged": 0, "cleared": 0}
        window = Interval(self.clock() - timedelta(days=1), self.clock() + timedelta(days=3 * 366))
        cursor: dict[str, str] | None = None
        while True:
            page, cursor = self.appointments.list_for_clinician(caller.tenant_id, clinician.clinician_id, window,
                                                                200, cursor)
            for visit in page:
                if visit.status in ACTIVE:
                    outcome = self._redecide_visit(caller, visit, clinician)
                    if outcome in counts:
                        counts[outcome] += 1
            if cursor is None:
                return counts

    def _redecide_visit(self, caller: Caller, current: Appointment, clinician: Clinician) -> str | None:
        for _ in range(3):
            decided = self._decide_stored(current, clinician)
            now = self.clock()
            if decided.decision.allowed:
                record, basis = decided.record(), decided.decision.basis
                outcome = "cleared" if current.needs_review else None
            else:
                record = replace(current.licensure or decided.record(), status="needs_review",
                                 review_reasons=notes(decided.decision))
                basis = current.licensure_basis
                outcome = None if current.needs_review else "flagged"
            if record == current.licensure and basis == current.licensure_basis:
                return None
            new = replace(current, licensure=record, licensure_basis=basis, updated_at=now,
                          history=(*current.history, _event(now, f"licensure_{outcome or 'updated'}", caller)))
            try:
                self._save_redecided(current, new, _entry(caller, f"appointment.licensure_{outcome or 'updated'}",
                                                          current))
            except Conflict:
                reread = self.appointments.get(current.tenant_id, current.appointment_id)
                if reread is None or reread.status not in ACTIVE:
                    return None
                current = reread
                continue
            return outcome
        return None

    def _require_not_under_review(self, caller: Caller, current: Appointment, action: str) -> None:
        if current.needs_review:
            self.audit.record(caller, action, _resource(current), current.patient_id, "refused")
            record = current.licensure
            raise LicensureNeedsReview(
                "A licence this visit rested on changed: reschedule, switch or re-decide it first.",
                extra={"review_reasons": [{"code": n.code, "rule_id": n.rule_id, "detail": n.detail}
                                          for n in (record.review_reasons if record else ())],
                       "redecide": f"/v1/appointments/{current.appointment_id}/licensure/redecide"})

    def start_visit(self, caller: Caller, appointment_id: str) -> Appointment:
        current = self._visible(caller, appointment_id)
        return self.start(caller, current)

    def start(self, caller: Caller, current: Appointment) -> Appointment:
        status_machine.require_transition(current.status, Status.IN_PROGRESS)
        decided = self.ready_to_start(caller, current)
        return self._move_to(caller, current, Status.IN_PROGRESS, release_locks=False, decided=decided)

    def redecide(self, caller: Caller, appointment_id: str) -> Appointment:
        """Decide an active visit again on today's records (e.g. after a licence was reinstated): cleared
        when lawful now, still flagged (with today's reasons) when not."""
        current = self._visible(caller, appointment_id)
        status_machine.require_in(current.status, ACTIVE, "re-decided")
        self._redecide_visit(caller, current, self._clinician(caller, current.clinician_id))
        return self._visible(caller, appointment_id)

    def _alternatives(self, current: Appointment, clinician: Clinician, where: str) -> list[dict[str, object]]:
        """Lawful ways to still see the patient at the booked time: another modality, or another clinician,
        each decided by the same gate as every door (telehealth from where the patient says they are)."""
        found: list[dict[str, object]] = []
        service = self.rules().service(current.service)
        policy = self.gate.policy(current.tenant_id)
        here = PatientWhereabouts(where, where)

        def lawful(who: Clinician, modality: Modality) -> bool:
            place = self.gate.place(modality, None, here, who)
            return self.gate.decide(current.tenant_id, who, modality, current.start, place,
                                    service=current.service, policy=policy).decision.allowed

        for modality in (Modality.VIDEO, Modality.PHONE):
            if modality == current.modality and current.site_id is None:
                continue
            if modality in clinician.modalities and (service is None or modality in service.modalities) \
                    and lawful(clinician, modality):
                found.append({"kind": "switch_modality", "modality": modality.value,
                              "clinician_id": clinician.clinician_id})
        interval = current.interval
        for other in self.directory.list_clinicians(current.tenant_id):
            if other.clinician_id == clinician.clinician_id or len(found) >= 6:
                continue
            if service is not None and other.discipline not in service.disciplines:
                continue
            for modality in (Modality.VIDEO, Modality.PHONE):
                if modality not in other.modalities or not lawful(other, modality):
                    continue
                blocks = self.appointments.clinician_blocks(current.tenant_id, other.clinician_id, interval)
                sites = {s: x for s in other.site_ids if (x := self.directory.get_site(current.tenant_id, s))}
                if slot_fits_rules(other, sites, interval, modality, None) and not any(
                        interval.start <= b < interval.end for b in blocks):
                    found.append({"kind": "another_clinician", "modality": modality.value,
                                  "clinician_id": other.clinician_id})
                    break
        return found

    # --- helpers -----------------------------------------------------------------------------
    def _visible(self, caller: Caller, appointment_id: str) -> Appointment:
        appointment = self.appointments.get(caller.tenant_id, appointment_id)
        if appointment is None or not may_see_appointment(caller, appointment):
            raise NotFound("No such appointment.")
        return appointment

    def _patient(self, caller: Caller, patient_id: str) -> Patient:
        patient = self.directory.get_patient(caller.tenant_id, patient_id)
        if patient is None:
            raise NotFound("No such patient.")
        return patient

    def _clinician(self, caller: Caller, clinician_id: str) -> Clinician:
        clinician = self.directory.get_clinician(caller.tenant_id, clinician_id)
        if clinician is None:
            raise NotFound("No such clinician.")
        return clinician

    def _service(self, code: str) -> ServiceDefinition:
        return self.rules().require_service(code)


def whereabouts_of(appointment: Appointment, patient: Patient | None) -> PatientWhereabouts:
    """What a stored visit knows of where its patient is: confirmed at visit time, stated at booking, home."""
    home = patient.home_jurisdiction if patient is not None else appointment.patient_jurisdiction
    return PatientWhereabouts(home, appointment.patient_jurisdiction, appointment.confirmed_location)


def _event(at: datetime, action: str, caller: Caller) -> dict[str, str]:
    return {"at": at.isoformat(), "action": action, "role": caller.primary_role}


def _found(records: BookingRecords) -> tuple[Patient, Clinician]:
    assert records.patient is not None and records.clinician is not None  # _on_records refused otherwise
    return records.patient, records.clinician


def _resource(appointment: Appointment) -> str:
    return f"appointment/{appointment.appointment_id}"


def _entry(caller: Caller, action: str, appointment: Appointment) -> AuditEntry:
    """The audit entry of a change to `appointment`, written in the change's own transaction."""
    return AuditEntry(caller, action, _resource(appointment), appointment.patient_id, "success")
