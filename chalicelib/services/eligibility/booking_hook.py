"""Booking's EligibilityRecorder: checks the patient's first coverage for the visit, records the status.

Never raises and never rolls anything back: a payer problem leaves the status ``unknown`` (or
``pending``). The check id goes into the appointment's history (action ``eligibility_checked``),
so schedulers can read the check; a pending check that a later GET completes updates the visit
(``settle``, which bootstrap hands to the checks as their ``on_settled``).

Known cost: booking commits the visit, then ``record`` saves it once more with the status and the
history event (a second write of the appointment). Folding the outcome into booking's own write
means booking.py asking before its transaction (a payer call before the answer) or a stream
consumer making the one update; both change booking.py, so it is left to that work (issue 12).

The eligibility service is reached through ``service()``: bootstrap builds it on first use, and a
booking of a patient without coverage never builds it. This module is made at every cold start, so
it imports the eligibility domain (a dozen dataclasses) only when a visit has a payer to ask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ...domain.access import Caller
from ...domain.billing import TelehealthPolicy
from ...domain.eligibility_hook import HISTORY_ACTION, last_eligibility_event
from ...domain.model import Appointment, Clinician, Modality, Patient
from ...domain.ports import Clock, IdFactory, VisitRecords
from ...observability import logger

if TYPE_CHECKING:
    from ...domain.eligibility import EligibilityCheck
    from .service import EligibilityService


class AppointmentEligibility:
    def __init__(self, service: Callable[[], EligibilityService], appointments: VisitRecords, clock: Clock,
                 new_id: IdFactory) -> None:
        self.service, self.appointments, self.clock, self.new_id = service, appointments, clock, new_id

    def record(self, caller: Caller, appointment: Appointment, patient: Patient, clinician: Clinician,
               previous: Appointment | None = None) -> Appointment:
        try:
            return self._record(caller, appointment, patient, clinician, previous)
        except Exception as exc:  # the booking stands whatever the payer or this hook does
            logger.warning("eligibility not recorded", extra={"appointment_id": appointment.appointment_id,
                                                              "error": type(exc).__name__})
            return appointment

    def _record(self, caller: Caller, appointment: Appointment, patient: Patient, clinician: Clinician,
                previous: Appointment | None) -> Appointment:
        from ...domain.eligibility import appointment_status

        day = local_day(appointment)
        if previous is not None and not self._needs_recheck(previous, appointment, day):
            return appointment
        coverage = patient.coverages[0] if patient.coverages else None
        check = (self.service().checks.check_for_visit(caller, appointment, patient, clinician, coverage, day)
                 if coverage else None)
        status = (appointment_status(check.status, check.telehealth, appointment.modality, check.answer)
                  if check else "unknown")
        if check is None and status == appointment.eligibility_status:
            return appointment
        return self._store(caller, appointment, status, check.check_id if check else "")

    def billing_policy(self, patient: Patient, on: date) -> TelehealthPolicy | None:
        """The payer's own telehealth billing (PUT /v1/payers/{id} or its rules entry) for the visit's billing facts."""
        if not patient.coverages:
            return None  # no payer: nothing to build
        try:
            payer = self.service().resolve_payer(patient.coverages[0].payer_id, on)
        except Exception as exc:  # billing falls back to the CMS conventions; the booking stands
            logger.warning("payer billing policy not read", extra={"error": type(exc).__name__})
            return None
        if payer is None:
            return None
        t = payer.policy.terms
        return TelehealthPolicy(t.place_of_service_home, t.place_of_service_other,
                                {Modality.VIDEO: t.modifiers_video, Modality.PHONE: t.modifiers_phone})

    def _needs_recheck(self, previous: Appointment, current: Appointment, day: date) -> bool:
        from ...domain.eligibility import Owner, needs_recheck

        begin = end = None
        last = last_eligibility_event(previous.history)
        if last and last.get("check_id"):
            check = self.service().checks.checks.get_check(Owner("tenant", previous.tenant_id), last["check_id"])
            if check is not None and check.answer is not None:
                begin, end = check.answer.plan_begin, check.answer.plan_end
        return needs_recheck(previous.eligibility_status, previous.modality, current.modality, local_day(previous),
                             day, begin, end)

    def _store(self, caller: Caller, appointment: Appointment, status: str, check_id: str) -> Appointment:
        now = self.clock()
        event = {"at": now.isoformat(), "action": HISTORY_ACTION, "role": caller.primary_role,
                 "status": status, "check_id": check_id}
        new = replace(appointment, eligibility_status=status, history=(*appointment.history, event))
        return self.appointments.save(appointment, new, self.new_id("tx"))

    def settle(self, caller: Caller, check: EligibilityCheck) -> None:
        """A pending check of a visit became final on a later read: record the new status on the visit."""
        from ...domain.eligibility import appointment_status

        try:
            if check.owner.kind != "tenant" or not check.appointment_id:
                return
            appointment = self.appointments.get(check.owner.id, check.appointment_id)
            last = last_eligibility_event(appointment.history) if appointment else None
            if appointment is None or last is None or last.get("check_id") != check.check_id:
                return  # the visit was changed and checked again since
            status = appointment_status(check.status, check.telehealth, appointment.modality, check.answer)
            if status != appointment.eligibility_status:
                self._store(caller, appointment, status, check.check_id)
        except Exception as exc:
            logger.warning("eligibility settle not recorded", extra={"check_id": check.check_id,
                                                                     "error": type(exc).__name__})


def local_day(appointment: Appointment) -> date:
    return appointment.start.astimezone(ZoneInfo(appointment.timezone)).date()
