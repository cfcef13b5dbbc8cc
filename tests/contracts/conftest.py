"""Stores under contract: each test runs on the in-memory fake (unit) and on the DynamoDB adapter (moto)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.model import Appointment, Billing, LicensureRecord, Modality, Status

STORES = [pytest.param("memory", marks=pytest.mark.unit), pytest.param("dynamodb", marks=pytest.mark.integration)]
# Tuesday 3 March 2026 15:00 UTC, after the suite's fixed clock (conftest.START).
T15 = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)


@pytest.fixture(params=STORES)
def kind(request) -> str:
    if request.param == "dynamodb":
        request.getfixturevalue("aws")  # moto only where the adapter needs it: the fake runs without AWS
    return request.param


@pytest.fixture
def audit_log(kind, request):
    """The audit log the store's audited writes go to (an AuditLog: `entries` reads them back)."""
    clock = request.getfixturevalue("clock")
    if kind == "memory":
        from tests.fakes import InMemoryAudit

        return InMemoryAudit(clock)
    from chalicelib.adapters.dynamo.audit import DynamoAuditTrail
    from chalicelib.adapters.dynamo.binding import bind_models

    return DynamoAuditTrail(clock, bind_models(request.getfixturevalue("settings")))


@pytest.fixture
def appointments(kind, request, audit_log, directory):
    if kind == "memory":
        from tests.fakes import InMemoryAppointments

        return InMemoryAppointments(audit_log, directory)
    from chalicelib.adapters.dynamo.appointments import AppointmentRepository
    from chalicelib.adapters.dynamo.binding import bind_models

    return AppointmentRepository(bind_models(request.getfixturevalue("settings")), audit_log)


@pytest.fixture
def directory(kind):
    if kind == "memory":
        from tests.fakes import InMemoryDirectory

        return InMemoryDirectory()
    from chalicelib.adapters.dynamo.directory import DirectoryRepository

    return DirectoryRepository()


@pytest.fixture
def reads(kind, request):
    """KeyedReads: the reads of several stores done together (one BatchGetItem on DynamoDB)."""
    if kind == "memory":
        from tests.fakes import InMemoryReads

        return InMemoryReads()
    from chalicelib.adapters.dynamo.binding import bind_models
    from chalicelib.adapters.dynamo.keyed_reads import MainTableReads

    return MainTableReads(bind_models(request.getfixturevalue("settings")))


@pytest.fixture
def screenings(kind, directory):
    """The screening store whose results booking_records(with_screening=True) reads with the patient."""
    if kind == "memory":
        from tests.fakes import InMemoryScreenings

        return InMemoryScreenings(directory)
    from chalicelib.adapters.dynamo.escalations import ScreeningRepository

    return ScreeningRepository()


def visit(tenant: str, appointment_id: str, *, start: datetime = T15, minutes: int = 45, clinician: str = "clin_a",
          patient: str = "pat_a", modality: Modality = Modality.VIDEO, site_id: str | None = None,
          room: str | None = None, buffer: int = 0, **changes: Any) -> Appointment:
    """A stored-visit shape as booking makes it; only what the store reads matters here."""
    record = LicensureRecord("US-NY", "stated", "America/New_York", False)
    return Appointment(
        tenant_id=tenant, appointment_id=appointment_id, patient_id=patient, clinician_id=clinician, service="90834",
        start=start, end=start + timedelta(minutes=minutes), modality=modality, site_id=site_id, room=room,
        patient_jurisdiction="US-NY", patient_location_type="clinic" if site_id else "home",
        timezone="America/New_York", status=Status.BOOKED, billing=Billing("10", ("95",)), licensure_basis=None,
        buffer_minutes=buffer, created_at=start - timedelta(days=1), updated_at=start - timedelta(days=1),
        licensure=record, **changes)


@pytest.fixture
def place_hold(kind, appointments):
    """Hold an offer's clinician blocks as the waitlist's offer write does (adapters/dynamo/waitlist.py)."""
    from chalicelib.domain.waitlist import HeldSlot

    def hold(held: HeldSlot, expires_at: datetime) -> None:
        if kind == "memory":
            appointments.hold(held, expires_at)
            return
        from pynamodb.expressions.operand import Path

        from chalicelib.adapters.dynamo.busy_weeks import hold_locks, hold_value, week_updates

        locks = hold_locks(held.tenant_id, held.clinician_id, held.start, held.held_until)
        takes = [(lk, Path([lk.attr]).does_not_exist()) for lk in locks]
        for week, actions, _, condition in week_updates(takes, hold_value(int(expires_at.timestamp()), held.hold_id)):
            week.update(actions=actions, condition=condition)

    return hold
