"""The Directory contract (domain/ports.py), held by the in-memory fake and the DynamoDB adapter alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.domain.model import Address, Clinician, Discipline, Modality, Patient, Site


def site(tenant: str, site_id: str) -> Site:
    return Site(tenant, site_id, f"Clinic {site_id}", "America/New_York", "US-NY", Address("1 Main St", "NYC", "10001"),
                ("r1",))


def clinician(tenant: str, clinician_id: str) -> Clinician:
    return Clinician(tenant_id=tenant, clinician_id=clinician_id, name="Dr. Test", npi="1234567893",
                     discipline=Discipline("psychologist"), timezone="America/New_York",
                     modalities=frozenset({Modality.VIDEO}))


def test_records_read_back_with_version_one_and_tenants_stay_apart(directory, tenant):
    directory.add_site(site(tenant, "site_1"))
    directory.add_clinician(clinician(tenant, "clin_1"))
    directory.add_patient(Patient(tenant_id=tenant, patient_id="pat_1", name="Pat", birth_date=date(1990, 1, 2),
                                  home_jurisdiction="US-NY"))
    assert directory.get_site(tenant, "site_1") == replace(site(tenant, "site_1"), version=1)
    assert directory.get_clinician(tenant, "clin_1").version == 1
    assert directory.get_patient(tenant, "pat_1").birth_date == date(1990, 1, 2)
    assert directory.get_site(tenant + "x", "site_1") is None
    assert directory.get_clinician(tenant, "clin_missing") is None


def test_a_save_on_a_stale_version_is_a_conflict_and_keeps_the_newer_record(directory, tenant):
    directory.add_clinician(clinician(tenant, "clin_1"))
    read = directory.get_clinician(tenant, "clin_1")
    saved = directory.save_clinician(replace(read, name="Dr. New"))
    assert saved.version == 2
    with pytest.raises(Conflict):
        directory.save_clinician(replace(read, name="Dr. Stale"))
    assert directory.get_clinician(tenant, "clin_1").name == "Dr. New"


def test_pages_walk_every_site_once_and_a_foreign_cursor_is_refused(directory, tenant):
    for i in range(3):
        directory.add_site(site(tenant, f"site_{i}"))
    seen, cursor = [], None
    for _ in range(4):
        page, cursor = directory.page_sites(tenant, 2, cursor)
        seen += [s.site_id for s in page]
        if cursor is None:
            break
    assert sorted(seen) == ["site_0", "site_1", "site_2"] and len(seen) == 3
    assert sorted(s.site_id for s in directory.list_sites(tenant)) == ["site_0", "site_1", "site_2"]
    _, first = directory.page_sites(tenant, 1, None)
    with pytest.raises(ValidationFailed):
        directory.page_sites(tenant + "x", 1, first)
