"""Booking, availability and licensure wired to the in-memory fakes: use-case tests without AWS or HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib.api.directory_inputs import availability, clinician_draft, patient_draft, site_draft
from chalicelib.domain.access import Caller
from chalicelib.domain.model import Clinician, Patient, Site
from chalicelib.rules.bundle import rulebook
from chalicelib.schemas.directory import AvailabilityIn, ClinicianIn, PatientIn, SiteIn
from chalicelib.services.availability import AvailabilityService
from chalicelib.services.booking import BookingService
from chalicelib.services.care_gate import CareGate
from chalicelib.services.directory import DirectoryService
from chalicelib.services.licensure import LicensureService
from chalicelib.services.paging import CursorScope, cursor_scope
from tests.fakes import (
    InMemoryAppointments,
    InMemoryAudit,
    InMemoryDirectory,
    InMemoryReads,
    InMemorySearchReads,
    InMemoryTenantSettings,
    sequential_ids,
)
from tests.support import clinician_body, patient_body, site_body, weekday_rules


@dataclass
class World:
    tenant: str
    admin: Caller
    scheduler: Caller
    appointments: InMemoryAppointments
    store: InMemoryDirectory
    audit: InMemoryAudit
    directory: DirectoryService
    booking: BookingService
    availability: AvailabilityService
    licensure: LicensureService
    site: Site
    clinician: Clinician
    patient: Patient

    def another_patient(self, name: str = "Other Patient", **body: Any) -> Patient:
        return self.directory.create_patient(self.scheduler, patient_draft(PatientIn.model_validate(
            patient_body(name, **body))))

    def clinician_with(self, *, licenses: list[str], **body: Any) -> Clinician:
        made = self.directory.create_clinician(self.admin, clinician_draft(ClinicianIn.model_validate(
            clinician_body("Dr. Other", licenses=licenses, site_ids=[self.site.site_id], **body))))
        return self.directory.set_availability(self.admin, made.clinician_id, availability(
            AvailabilityIn.model_validate({"rules": weekday_rules(site_id=self.site.site_id)})))


@pytest.fixture(autouse=True)
def sealed_cursors(clock) -> Iterator[None]:
    """As the API opens for each request (api/routing.py): lists seal their cursors to this scope."""
    with cursor_scope(CursorScope("unit-test-cursor-key", int(clock().timestamp()), 300, {"route": "unit"})):
        yield


@pytest.fixture
def world(clock) -> World:
    """A NY site with rooms A and B, a NY-licensed psychologist there Mon-Fri 09-17 New York time, a NY patient.
    The clock is conftest.START (Monday 2 March 2026, 12:00 UTC)."""
    tenant = "t_usecase"
    admin = Caller("admin-1", tenant, frozenset({"admin"}))
    scheduler = Caller("sched-1", tenant, frozenset({"scheduler"}))
    audit, store, settings = InMemoryAudit(clock), InMemoryDirectory(), InMemoryTenantSettings()
    appointments = InMemoryAppointments(audit, store)
    new_id = sequential_ids()
    gate = CareGate(appointments, rulebook, settings)
    booking = BookingService(store, appointments, rulebook, clock, new_id, audit, gate=gate, reads=InMemoryReads())
    directory = DirectoryService(store, audit, new_id, redecide=booking.redecide_for_clinician)
    site = directory.create_site(admin, site_draft(SiteIn.model_validate(site_body())))
    made = directory.create_clinician(admin, clinician_draft(ClinicianIn.model_validate(
        clinician_body(site_ids=[site.site_id]))))
    clinician = directory.set_availability(admin, made.clinician_id, availability(
        AvailabilityIn.model_validate({"rules": weekday_rules(site_id=site.site_id), "buffer_minutes": 0})))
    patient = directory.create_patient(scheduler, patient_draft(PatientIn.model_validate(patient_body())))
    return World(tenant, admin, scheduler, appointments, store, audit, directory, booking,
                 AvailabilityService(InMemorySearchReads(store, appointments), rulebook, clock, gate, audit),
                 LicensureService(store, rulebook, gate), site, clinician, patient)
