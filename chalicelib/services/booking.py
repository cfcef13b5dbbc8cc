"""Booking and the appointment lifecycle: book, read, list, cancel, reschedule, check in, finish."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..adapters.dynamo.appointments import AppointmentRepository
from ..adapters.dynamo.directory import DirectoryRepository
from ..domain import status as status_machine
from ..domain.access import Caller, may_see_appointment, require_patient_access
from ..domain.availability import Busy, free_room, slot_fits_rules
from ..domain.billing import billing_facts
from ..domain.eligibility_hook import EligibilityRecorder, NoEligibilityRecorder
from ..domain.errors import (
    FieldError,
    FieldErrors,
    JurisdictionMismatch,
    ModalityNotOffered,
    NotFound,
    NotLicensed,
    OutsideAvailability,
    RoomUnavailable,
    ServiceNotOffered,
    ValidationFailed,
)
from ..domain.jurisdictions import care_zone
from ..domain.licensure import LicensureDecision, licensure_decision
from ..domain.model import Appointment, Clinician, Interval, Modality, Patient, Site, Status
from ..domain.ports import AuditTrail, Clock, IdFactory
from ..domain.rulebook import RuleBook, ServiceDefinition
from ..domain.timeblocks import blocks_covering, is_aligned
from ..schemas.appointments import BookingIn, CheckInIn, RescheduleIn, SwitchModalityIn
from .paging import decode_cursor, encode_cursor

ROOM_ATTEMPTS = 3


@dataclass(frozen=True)
class VisitPlan:
    start: datetime
    end: datetime
    modality: Modality
    site: Site | None
    where: str
    location_type: str
    decision: LicensureDecision
    timezone: str


class BookingService:
    def __init__(self, directory: DirectoryRepository, appointments: AppointmentRepository,
                 rules: Callable[[], RuleBook], clock: Clock, new_id: IdFactory, audit: AuditTrail,
                 eligibility: EligibilityRecorder | None = None) -> None:
        self.directory = directory
        self.appointments = appointments
        self.rules = rules
        self.clock = clock
        self.new_id = new_id
        self.audit = audit
        # Eligibility is recorded after the write and never fails or undoes a booking (services/eligibility.py).
        self.eligibility = eligibility or NoEligibilityRecorder()

    # --- booking -----------------------------------------------------------------------------
    def book(self, caller: Caller, body: BookingIn) -> Appointment:
        require_patient_access(caller, body.patient_id)
        patient = self._patient(caller, body.patient_id)
        clinician = self._clinician(caller, body.clinician_id)
        service = self._service(body.service)
        where = body.patient_jurisdiction or patient.home_jurisdiction
        plan = self._plan(caller.tenant_id, patient, clinician, service, body.start, body.modality, body.site_id,
                          where, body.patient_location_type)
        now = self.clock()
        appointment = Appointment(
            tenant_id=caller.tenant_id, appointment_id=self.new_id("apt"), patient_id=patient.patient_id,
            clinician_id=clinician.clinician_id, service=service.code, start=plan.start, end=plan.end,
            modality=plan.modality, site_id=plan.site.site_id if plan.site else None, room=None,
            patient_jurisdiction=plan.where, patient_location_type=plan.location_type, timezone=plan.timezone,
            status=Status.BOOKED, billing=billing_facts(plan.modality, plan.location_type),
            licensure_basis=plan.decision.basis, eligibility_status="unknown",
            buffer_minutes=clinician.availability.buffer_minutes, created_at=now, updated_at=now,
            history=(_event(now, "booked", caller),),
        )
        booked = self._with_room(plan, appointment, lambda a: self.appointments.book(a))
        self.audit.record(caller, "appointment.book", _resource(booked), booked.patient_id, "success")
        return self.eligibility.record(caller, booked, patient, clinician)

    def _with_room(self, plan: VisitPlan, appointment: Appointment,
                   write: Callable[[Appointment], Appointment], own: Appointment | None = None) -> Appointment:
        """Pick a free room and write; if a racing booking takes it first, pick again."""
        if plan.site is None:
            return write(appointment)
        for attempt in range(ROOM_ATTEMPTS):
            room = self._free_room(plan.site, appointment.interval, own)
            if room is None:
                raise RoomUnavailable("No room is free at that site for the whole visit.")
            try:
                return write(replace(appointment, room=room))
            except RoomUnavailable:
                if attempt == ROOM_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _free_room(self, site: Site, interval: Interval, own: Appointment | None) -> str | None:
        taken = self.appointments.rooms_taken(site.tenant_id, site.site_id, interval)
        keep = own.room if own is not None and own.site_id == site.site_id and own.room in site.rooms else None
        if keep is not None and own is not None:
            # The room this visit holds now is free for its own move; prefer it so the visit keeps its room.
            ours = set(blocks_covering(own.start, own.end))
            taken = {b: rooms - {keep} if b in ours else rooms for b, rooms in taken.items()}
            site = replace(site, rooms=(keep, *(r for r in site.rooms if r != keep)))
        return free_room(site, interval, Busy(rooms_taken={site.site_id: taken}))

    def _plan(self, tenant: str, patient: Patient, clinician: Clinician, service: ServiceDefinition,
              start: datetime, modality: Modality, site_id: str | None, where: str,
              location_type: str | None) -> VisitPlan:
        errors = FieldErrors()
        if not is_aligned(start):
            errors.add("start", "must be on a 15-minute boundary (:00, :15, :30, :45)")
        site = None
        if modality is Modality.IN_PERSON:
            if not site_id:
                errors.add("site_id", "is required for an in_person visit")
            else:
                site = self.directory.get_site(tenant, site_id)
                if site is None:
                    errors.add("site_id", "no such site in this tenant")
        errors.raise_if_any()
        end = start + timedelta(minutes=service.duration_minutes)
        rules = self.rules()
        place = site.jurisdiction if site else where
        zone = site.timezone if site else care_zone(rules.tables, where, clinician.timezone)
        on = start.astimezone(ZoneInfo(zone)).date()  # the date where care happens, not the UTC date
        if not service.in_effect(on):
            raise ServiceNotOffered(f"Service {service.code} is not offered on that date.")
        if clinician.discipline not in service.disciplines:
            raise ServiceNotOffered(f"A {clinician.discipline.value} may not deliver service {service.code}.")
        if modality not in service.modalities or modality not in clinician.modalities:
            raise ModalityNotOffered(f"{modality.value} is not offered for this clinician and service.")
        if modality is Modality.VIDEO and not patient.video_capable:
            raise ModalityNotOffered("The patient has no video access; offer phone or in_person.")
        if site is not None and site.site_id not in clinician.site_ids:
            raise ModalityNotOffered("The clinician does not see patients at that site.")
        if start <= self.clock():
            raise OutsideAvailability("The start time is in the past.")
        sites = {s: x for s in clinician.site_ids if (x := self.directory.get_site(tenant, s)) is not None}
        if not slot_fits_rules(clinician, sites, Interval(start, end), modality, site.site_id if site else None):
            raise OutsideAvailability("That time is outside the clinician's availability for this modality.")
        decision = licensure_decision(clinician, place, modality, on, rules, service=service.code)
        if not decision.allowed:
            raise NotLicensed(f"The clinician may not deliver {modality.value} care to a patient in {place}.",
                              extra={"reasons": [_reason_json(r) for r in decision.reasons],
                                     "rules_version": decision.rules_version})
        location = "clinic" if site else (location_type or "home")
        return VisitPlan(start, end, modality, site, place, location, decision, zone)

    # --- reads -------------------------------------------------------------------------------
    def get(self, caller: Caller, appointment_id: str) -> Appointment:
        appointment = self._visible(caller, appointment_id)
        self.audit.record(caller, "appointment.read", _resource(appointment), appointment.patient_id, "success")
        return appointment

    def list(self, caller: Caller, clinician_id: str | None, patient_id: str | None, window: Interval,
             limit: int, cursor: str | None) -> tuple[list[Appointment], str | None]:
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
            return may_see_appointment(caller, a) and (not clinician_id or a.clinician_id == clinician_id)

        if patient_id:
            items, last = self.appointments.list_for_patient(caller.tenant_id, patient_id, window, limit, start_key,
                                                             keep=visible)
        else:
            assert clinician_id is not None
            items, last = self.appointments.list_for_clinician(caller.tenant_id, clinician_id, window, limit,
                                                               start_key, keep=visible)
        for a in items:
            self.audit.record(caller, "appointment.list", _resource(a), a.patient_id, "success")
        return items, encode_cursor(last)

    # --- lifecycle ---------------------------------------------------------------------------
    def cancel(self, caller: Caller, appointment_id: str, reason: str | None) -> Appointment:
        current = self._visible(caller, appointment_id)
        status_machine.require_transition(current.status, Status.CANCELLED)
        now = self.clock()
        new = replace(current, status=Status.CANCELLED, cancel_reason=reason, updated_at=now,
                      history=(*current.history, _event(now, "cancelled", caller)))
        done = self.appointments.update(current, new, self.new_id("tx"), release_locks=True)
        self.audit.record(caller, "appointment.cancel", _resource(done), done.patient_id, "success")
        return done

    def complete(self, caller: Caller, appointment_id: str) -> Appointment:
        return self._move(caller, appointment_id, Status.COMPLETED, release_locks=False)

    def no_show(self, caller: Caller, appointment_id: str) -> Appointment:
        return self._move(caller, appointment_id, Status.NO_SHOW, release_locks=True)

    def start_visit(self, caller: Caller, appointment_id: str) -> Appointment:
        return self._move(caller, appointment_id, Status.IN_PROGRESS, release_locks=False)

    def _move(self, caller: Caller, appointment_id: str, target: Status, *, release_locks: bool) -> Appointment:
        current = self._visible(caller, appointment_id)
        status_machine.require_transition(current.status, target)
        now = self.clock()
        new = replace(current, status=target, updated_at=now,
                      history=(*current.history, _event(now, target.value, caller)))
        done = self.appointments.update(current, new, self.new_id("tx"), release_locks=release_locks)
        self.audit.record(caller, f"appointment.{target.value}", _resource(done), done.patient_id, "success")
        return done

    def reschedule(self, caller: Caller, appointment_id: str, body: RescheduleIn) -> Appointment:
        current = self._visible(caller, appointment_id)
        status_machine.require_in(current.status, status_machine.RESCHEDULABLE, "rescheduled")
        modality = body.modality or current.modality
        site_id = body.site_id if body.site_id is not None else current.site_id
        return self._change_visit(caller, current, body.start, modality, site_id, "rescheduled",
                                  current.patient_jurisdiction, None)

    def switch_modality(self, caller: Caller, appointment_id: str, body: SwitchModalityIn) -> Appointment:
        current = self._visible(caller, appointment_id)
        status_machine.require_in(current.status, status_machine.CHANGEABLE, "switched to another modality")
        site_id = body.site_id if body.site_id is not None else current.site_id
        where = current.patient_jurisdiction
        return self._change_visit(caller, current, current.start, body.modality, site_id,
                                  f"modality:{current.modality.value}->{body.modality.value}", where, None)

    def _change_visit(self, caller: Caller, current: Appointment, start: datetime, modality: Modality,
                      site_id: str | None, action: str, where: str, location_type: str | None) -> Appointment:
        patient = self._patient(caller, current.patient_id)
        clinician = self._clinician(caller, current.clinician_id)
        service = self._service(current.service)
        if modality is not Modality.IN_PERSON:
            site_id = None
        previous_location = None if current.patient_location_type == "clinic" else current.patient_location_type
        plan = self._plan(current.tenant_id, patient, clinician, service, start, modality, site_id, where,
                          location_type or previous_location)
        now = self.clock()
        new = replace(current, start=plan.start, end=plan.end, modality=plan.modality,
                      site_id=plan.site.site_id if plan.site else None, room=None,
                      patient_location_type=plan.location_type, timezone=plan.timezone,
                      billing=billing_facts(plan.modality, plan.location_type), licensure_basis=plan.decision.basis,
                      buffer_minutes=clinician.availability.buffer_minutes, updated_at=now,
                      history=(*current.history, _event(now, action, caller)))
        token = self.new_id("tx")
        done = self._with_room(plan, new, lambda a: self.appointments.replace_visit(current, a, token), own=current)
        self.audit.record(caller, "appointment.change", _resource(done), done.patient_id, "success")
        return self.eligibility.record(caller, done, patient, clinician, previous=current)

    def check_in(self, caller: Caller, appointment_id: str, body: CheckInIn) -> Appointment:
        """Re-verify licensure where the patient actually is, then check in."""
        current = self._visible(caller, appointment_id)
        status_machine.require_transition(current.status, Status.CHECKED_IN)
        clinician = self._clinician(caller, current.clinician_id)
        rules = self.rules()
        where = body.patient_jurisdiction
        site = self.directory.get_site(current.tenant_id, current.site_id) if current.site_id else None
        on = current.start.astimezone(ZoneInfo(care_zone(rules.tables, where, current.timezone))).date()
        if site is not None and where != site.jurisdiction:
            decision = None  # the patient is not at the clinic: an in-person visit cannot happen
        else:
            decision = licensure_decision(clinician, where, current.modality, on, rules, service=current.service)
        if decision is None or not decision.allowed:
            alternatives = self._alternatives(current, clinician, where, on, rules)
            self.audit.record(caller, "appointment.check_in", _resource(current), current.patient_id, "refused")
            raise JurisdictionMismatch(
                f"The visit cannot go ahead as booked with the patient in {where}.",
                extra={"patient_jurisdiction": where, "alternatives": alternatives,
                       "reasons": [_reason_json(r) for r in decision.reasons] if decision else []})
        now = self.clock()
        location_type = "clinic" if site else (body.patient_location_type or current.patient_location_type)
        new = replace(current, status=Status.CHECKED_IN, patient_jurisdiction=where,
                      patient_location_type=location_type, licensure_basis=decision.basis,
                      billing=billing_facts(current.modality, location_type), updated_at=now,
                      history=(*current.history, _event(now, "checked_in", caller)))
        done = self.appointments.save(current, new, self.new_id("tx"))
        self.audit.record(caller, "appointment.check_in", _resource(done), done.patient_id, "success")
        return done

    def _alternatives(self, current: Appointment, clinician: Clinician, where: str, on: date,
                      rules: RuleBook) -> list[dict[str, object]]:
        """Lawful ways to still see the patient at the booked time: another modality, or another clinician."""
        found: list[dict[str, object]] = []
        service = rules.service(current.service)
        for modality in (Modality.VIDEO, Modality.PHONE):
            if modality == current.modality and current.site_id is None:
                continue
            if modality in clinician.modalities and (service is None or modality in service.modalities):
                decision = licensure_decision(clinician, where, modality, on, rules, service=current.service)
                if decision.allowed:
                    found.append({"kind": "switch_modality", "modality": modality.value,
                                  "clinician_id": clinician.clinician_id})
        interval = current.interval
        for other in self.directory.list_clinicians(current.tenant_id):
            if other.clinician_id == clinician.clinician_id or len(found) >= 6:
                continue
            if service is not None and other.discipline not in service.disciplines:
                continue
            for modality in (Modality.VIDEO, Modality.PHONE):
                if modality not in other.modalities:
                    continue
                if not licensure_decision(other, where, modality, on, rules, service=current.service).allowed:
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
        service = self.rules().service(code)
        if service is None:
            raise ValidationFailed("Unknown service", errors=[FieldError("service", "is not in the service catalog")])
        return service


def _event(at: datetime, action: str, caller: Caller) -> dict[str, str]:
    return {"at": at.isoformat(), "action": action, "role": caller.primary_role}


def _resource(appointment: Appointment) -> str:
    return f"appointment/{appointment.appointment_id}"


def _reason_json(reason: object) -> dict[str, str]:
    return {"code": reason.code, "rule_id": reason.rule_id, "source": reason.source}  # type: ignore[attr-defined]
