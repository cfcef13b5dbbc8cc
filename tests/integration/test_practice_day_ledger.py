"""The temporary-practice ledger on moto: its condition, not a read in the service, keeps the day limit.

Each write reads the ledger and conditions on what it read, so a write that lost a race for the last
free day is cancelled whole (appointment and locks included), and a day comes back only when its last
visit is cancelled.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import PracticeDaysChanged
from chalicelib.domain.model import Appointment, Billing, LicensureRecord, Modality, Status

pytestmark = pytest.mark.integration
MON = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 09:00 in Austin
LEDGER = "PSYPACT#TAP#US-TX"


def visit(tenant: str, day: int, *, patient: str = "p1", hour: int = 0, limit: int = 2) -> Appointment:
    start = MON + timedelta(days=day, hours=hour)
    record = LicensureRecord("US-TX", "site", "America/Chicago", False, temporary_practice=LEDGER,
                             temporary_practice_limit=limit)
    return Appointment(
        tenant_id=tenant, appointment_id=f"apt_{uuid.uuid4().hex[:8]}", patient_id=patient, clinician_id="c1",
        service="90834", start=start, end=start + timedelta(minutes=45), modality=Modality.IN_PERSON,
        site_id=None, room=None, patient_jurisdiction="US-TX", patient_location_type="clinic",
        timezone="America/Chicago", status=Status.BOOKED, billing=Billing("11", ()), licensure_basis=None,
        licensure=record)


@pytest.fixture
def repo(services):
    return services.booking.appointments


def test_the_write_for_a_day_past_the_limit_is_cancelled_whole(repo, tenant):
    # The repository never compares counts itself: the refusal below is DynamoDB's condition
    # (day_count < limit), evaluated atomically with the appointment and its locks.
    repo.book(visit(tenant, 0))
    repo.book(visit(tenant, 0, patient="p2", hour=2))  # same day: free
    repo.book(visit(tenant, 1))
    assert sorted(repo.practice_day_counts(tenant, "c1", LEDGER, 2026).values()) == [1, 2]

    loser = visit(tenant, 2)
    with pytest.raises(PracticeDaysChanged):
        repo.book(loser)
    assert repo.get(tenant, loser.appointment_id) is None  # the appointment and its locks were not written
    assert len(repo.practice_day_counts(tenant, "c1", LEDGER, 2026)) == 2


def test_a_day_comes_back_only_when_its_last_visit_is_cancelled(repo, tenant):
    first = repo.book(visit(tenant, 0))
    second = repo.book(visit(tenant, 0, patient="p2", hour=2))
    repo.book(visit(tenant, 1))

    repo.update(first, replace(first, status=Status.CANCELLED), "tx-1", release_locks=True)
    assert len(repo.practice_day_counts(tenant, "c1", LEDGER, 2026)) == 2  # the second visit still uses day 0
    with pytest.raises(PracticeDaysChanged):
        repo.book(visit(tenant, 2))

    repo.update(second, replace(second, status=Status.CANCELLED), "tx-2", release_locks=True)
    assert len(repo.practice_day_counts(tenant, "c1", LEDGER, 2026)) == 1
    assert repo.book(visit(tenant, 2)).licensure is not None
