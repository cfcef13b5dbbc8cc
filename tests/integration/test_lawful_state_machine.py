"""Random sequences of book / reschedule / switch / check-in / licence change never leave an active visit
resting on a decision the check endpoint would deny for the same facts (unless it is flagged for review).

The facts: a New York site, a psychologist licensed in New York (whose licence status changes at random),
patients who live in New York or New Jersey and say they are in either state at check-in.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from chalicelib.api.appointment_inputs import (
    booking_request,
    licensure_question,
    modality_switch,
    reschedule,
    stated_location,
)
from chalicelib.api.directory_inputs import availability, clinician_changes, clinician_draft, patient_draft, site_draft
from chalicelib.domain.access import Caller
from chalicelib.domain.errors import DomainError
from chalicelib.domain.licensure import licensure_decision
from chalicelib.domain.model import Status
from chalicelib.schemas.appointments import BookingIn, CheckInIn, RescheduleIn, SwitchModalityIn
from chalicelib.schemas.directory import AvailabilityIn, ClinicianIn, ClinicianPatch, PatientIn, SiteIn
from chalicelib.schemas.licensure import LicensureCheckIn
from tests.support import clinician_body, patient_body, site_body, weekday_rules

pytestmark = pytest.mark.integration

ACTIVE = {Status.BOOKED, Status.CHECKED_IN, Status.IN_PROGRESS}
STATES = ["US-NY", "US-NJ"]
MODALITIES = ["in_person", "video", "phone"]
LICENCE = ["active", "probation", "suspended", "revoked", "inactive"]


def machine_for(services):
    class LawfulVisits(RuleBasedStateMachine):
        @initialize()
        def clinic(self) -> None:
            tenant = f"sm{uuid.uuid4().hex[:10]}"
            self.admin = Caller("adm", tenant, frozenset({"admin"}))
            self.sched = Caller("sch", tenant, frozenset({"scheduler"}))
            d = services.directory
            self.site = d.create_site(self.admin, site_draft(SiteIn.model_validate(site_body(rooms=["A", "B", "C"]))))
            self.clinician = d.create_clinician(self.admin, clinician_draft(ClinicianIn.model_validate(
                clinician_body(site_ids=[self.site.site_id]))))
            d.set_availability(self.admin, self.clinician.clinician_id, availability(AvailabilityIn.model_validate(
                {"rules": weekday_rules(site_id=self.site.site_id, modalities=MODALITIES)})))
            self.patients = [
                d.create_patient(self.sched, patient_draft(PatientIn.model_validate(patient_body(f"P{i}", home=h))))
                for i, h in enumerate(STATES)]
            self.visits: list[str] = []
            # Tuesday 3 March 2026 onwards, 10:00 New York, one slot per hour and day
            self.base = services.clock().replace(hour=15, minute=0) + timedelta(days=1)

        def _start(self, day: int, hour: int):
            return self.base + timedelta(days=day * 7, hours=hour)  # same weekday: inside availability

        @rule(patient=st.integers(0, 1), modality=st.sampled_from(MODALITIES), where=st.sampled_from(STATES),
              day=st.integers(0, 2), hour=st.integers(0, 5))
        def book(self, patient, modality, where, day, hour) -> None:
            body = {"patient_id": self.patients[patient].patient_id, "clinician_id": self.clinician.clinician_id,
                    "service": "90834", "start": self._start(day, hour).isoformat(), "modality": modality,
                    "patient_jurisdiction": where,
                    "site_id": self.site.site_id if modality == "in_person" else None}
            with contextlib.suppress(DomainError):  # refusals are part of the walk
                booked = services.booking.book(self.sched, booking_request(BookingIn.model_validate(body)))
                self.visits.append(booked.appointment_id)

        @rule(pick=st.integers(0, 50), day=st.integers(0, 2), hour=st.integers(0, 5),
              modality=st.sampled_from([None, *MODALITIES]))
        def reschedule(self, pick, day, hour, modality) -> None:
            if self.visits:
                body = {"start": self._start(day, hour).isoformat(), "modality": modality,
                        "site_id": self.site.site_id if modality == "in_person" else None}
                self._try(lambda: services.booking.reschedule(self.sched, self.visits[pick % len(self.visits)],
                                                              reschedule(RescheduleIn.model_validate(body))))

        @rule(pick=st.integers(0, 50), modality=st.sampled_from(MODALITIES))
        def switch(self, pick, modality) -> None:
            if self.visits:
                body = {"modality": modality, "site_id": self.site.site_id if modality == "in_person" else None}
                self._try(lambda: services.booking.switch_modality(
                    self.sched, self.visits[pick % len(self.visits)],
                    modality_switch(SwitchModalityIn.model_validate(body))))

        @rule(pick=st.integers(0, 50), where=st.sampled_from(STATES))
        def check_in(self, pick, where) -> None:
            if self.visits:
                self._try(lambda: services.booking.check_in(
                    self.sched, self.visits[pick % len(self.visits)],
                    stated_location(CheckInIn.model_validate({"patient_jurisdiction": where}))))

        @rule(status=st.sampled_from(LICENCE), with_nj=st.booleans())
        def licence_change(self, status, with_nj) -> None:
            licences = [{"jurisdiction": "US-NY", "type": "psychologist", "number": "NY-1",
                         "expires_on": "2030-12-31", "status": status}]
            if with_nj:
                licences.append({"jurisdiction": "US-NJ", "type": "psychologist", "number": "NJ-1",
                                 "expires_on": "2030-12-31"})
            self.clinician, _ = services.directory.patch_clinician(
                self.admin, self.clinician.clinician_id,
                clinician_changes(ClinicianPatch.model_validate({"licenses": licences})), None)

        @staticmethod
        def _try(action) -> None:
            with contextlib.suppress(DomainError):
                action()

        @invariant()
        def no_active_visit_rests_on_a_denied_decision(self) -> None:
            if not getattr(self, "visits", None):
                return
            rules = services.booking.rules()
            clinician = services.directory.repo.get_clinician(self.sched.tenant_id, self.clinician.clinician_id)
            for appointment_id in self.visits:
                a = services.booking.appointments.get(self.sched.tenant_id, appointment_id)
                if a.status not in ACTIVE or a.needs_review:
                    continue
                record = a.licensure
                assert record is not None
                if a.modality.value != "in_person":
                    assert record.jurisdiction != self.site.jurisdiction or record.location_source != "site"
                on = a.start.astimezone(ZoneInfo(record.zone)).date()
                check = services.licensure.check(self.sched, licensure_question(LicensureCheckIn.model_validate({
                    "clinician_id": clinician.clinician_id, "patient_jurisdiction": record.jurisdiction,
                    "modality": a.modality.value, "service": a.service, "date": on.isoformat()})))
                direct = licensure_decision(clinician, record.jurisdiction, a.modality, on, rules, service=a.service)
                assert check.allowed and direct.allowed, (a.modality, record, check.codes)

    return LawfulVisits


def test_no_sequence_of_doors_leaves_an_unlawful_active_visit(services):
    from hypothesis.stateful import run_state_machine_as_test

    machine = machine_for(services)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=8, stateful_step_count=10, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
