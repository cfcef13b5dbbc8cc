"""A booking's directory records (BookingDirectory.booking_records) and the write that proves them fresh
(AppointmentStore `fresh=`), on the fake and on DynamoDB alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from chalicelib.domain.access import Caller
from chalicelib.domain.audit_entry import AuditEntry
from chalicelib.domain.errors import StaleRecords
from chalicelib.domain.model import Patient
from chalicelib.domain.records import RecordVersion
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
