"""A booking's directory records (BookingDirectory.booking_records) and the write that proves them fresh
(AppointmentStore `fresh=`), on the fake and on DynamoDB alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain.access import Caller
from chalicelib.domain.audit_entry import AuditEntry
from chalicelib.domain.errors import StaleRecords
from chalicelib.domain.model import Patient
from chalicelib.domain.records import RecordVersion
from chalicelib.domain.screening import ScreeningResult
from tests.contracts.conftest import visit
from tests.contracts.test_audited_writes import AROUND
from tests.contracts.test_directory_store import clinician, site


def _seed(directory, tenant):
    directory.add_site(site(tenant, "site_1"))
    directory.add_site(site(tenant, "site_2"))
    directory.add_clinician(replace(clinician(tenant, "clin_a"), site_ids=("site_1",)))
    directory.add_patient(Patient(tenant_id=tenant, patient_id="pat_a", name="Pat", birth_date=date(1990, 1, 2),
                                  home_jurisdiction="US-NY"))


def test_booking_records_hold_the_patient_the_clinician_the_asked_for_and_the_clinicians_sites(directory, tenant):
    _seed(directory, tenant)
    records = directory.booking_records(tenant, "pat_a", "clin_a", ["site_2"])
    assert records.patient.patient_id == "pat_a" and records.clinician.clinician_id == "clin_a"
    assert set(records.sites) == {"site_1", "site_2"}
    assert all(rv.version == 1 for rv in records.fresh)
    missing = directory.booking_records(tenant, "pat_missing", "clin_missing", ["site_missing"])
    assert (missing.patient, missing.clinician, dict(missing.sites)) == (None, None, {})


def test_a_write_decided_on_a_record_that_changed_since_is_refused_whole(appointments, directory, audit_log,
                                                                          tenant):
    _seed(directory, tenant)
    read = directory.get_clinician(tenant, "clin_a")
    directory.save_clinician(replace(read, name="Dr. Changed"))  # another request saved it meanwhile
    stale = (RecordVersion("clinician", tenant, "clin_a", read.version),)
    entry = AuditEntry(Caller("s", tenant, frozenset({"scheduler"})), "appointment.book", "appointment/apt_1",
                       "pat_a")
    with pytest.raises(StaleRecords):
        appointments.book(visit(tenant, "apt_1"), audit=entry, fresh=stale)
    assert appointments.get(tenant, "apt_1") is None
    assert audit_log.entries(tenant, AROUND, None, 10, None)[0] == []
    current = (RecordVersion("clinician", tenant, "clin_a", read.version + 1),
               RecordVersion("patient", tenant, "pat_a", 1), RecordVersion("site", tenant, "site_1", 1))
    assert appointments.book(visit(tenant, "apt_1"), audit=entry, fresh=current).version == 1
    assert len(audit_log.entries(tenant, AROUND, None, 10, None)[0]) == 1


def test_a_reschedule_checks_its_records_too(appointments, directory, tenant):
    _seed(directory, tenant)
    booked = appointments.book(visit(tenant, "apt_1"))
    patient = directory.get_patient(tenant, "pat_a")
    directory.save_patient(replace(patient, name="Pat Renamed"))
    moved = replace(booked, cancel_reason="moved")
    with pytest.raises(StaleRecords):
        appointments.replace_visit(booked, moved, "tx_1", fresh=(RecordVersion("patient", tenant, "pat_a", 1),))
    assert appointments.get(tenant, "apt_1") == booked


def _screening(instrument: str, risk: str, at: datetime) -> ScreeningResult:
    return ScreeningResult(instrument, 3, "mild", risk, "rule", (f"{instrument} score 3: mild",), at=at)


def test_with_screening_the_patient_comes_afresh_with_their_latest_screening(directory, screenings, tenant):
    _seed(directory, tenant)
    assert directory.booking_records(tenant, "pat_a", "clin_a", with_screening=True).screenings == ()
    at = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    for n, risk in enumerate(["low", "high", "moderate"]):  # the newest (moderate) is not the last in time order
        screenings.add(tenant, "pat_a", _screening("PHQ-9", risk, at + timedelta(days=[0, 2, 1][n])))
    records = directory.booking_records(tenant, "pat_a", "clin_a", with_screening=True)
    assert [s.implied_risk for s in records.screenings] == ["high"]
    assert records.patient.patient_id == "pat_a" and records.patient.version == 1
    # read afresh, so the write need not check it; the clinician and sites still come with their versions
    assert "patient" not in {rv.kind for rv in records.fresh}
    assert [s.implied_risk for s in screenings.latest(tenant, "pat_a", 3)] == ["high", "moderate", "low"]
    assert directory.booking_records(tenant, "pat_a", "clin_a").screenings is None  # not asked: not read
    missing = directory.booking_records(tenant, "pat_missing", "clin_a", with_screening=True)
    assert missing.patient is None and missing.screenings == ()


def test_a_patient_changed_elsewhere_is_seen_at_once_by_a_read_with_screening(directory, kind, tenant):
    _seed(directory, tenant)
    directory.booking_records(tenant, "pat_a", "clin_a")  # the patient may now sit in this process's cache
    elsewhere = directory if kind == "memory" else type(directory)()  # another process: its own cache
    elsewhere.save_patient(replace(elsewhere.get_patient(tenant, "pat_a"), name="Pat Renamed"))
    assert directory.booking_records(tenant, "pat_a", "clin_a").patient.version == (2 if kind == "memory" else 1)
    records = directory.booking_records(tenant, "pat_a", "clin_a", with_screening=True)
    assert records.patient.name == "Pat Renamed" and records.patient.version == 2
