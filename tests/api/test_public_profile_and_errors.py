"""Issue 11, item 7: patients get a clinician's public profile; error texts name no library internals."""

from __future__ import annotations

import pytest

from tests.support import clinician_body

pytestmark = pytest.mark.api

DEA = [{"jurisdiction": "US-NY", "number": "AB1234563", "schedules": ["II", "III"], "expires_on": "2030-01-01"}]


@pytest.fixture
def prescriber(admin):
    body = clinician_body("Dr. Prescriber", discipline="psychiatrist", dea_registrations=DEA)
    body["licenses"][0]["type"] = "physician"
    r = admin.post("/v1/clinicians", body)
    assert r.status == 201, r.json
    return r.json


def test_a_patient_sees_the_public_profile_without_licence_or_dea_numbers(api, prescriber):
    patient = api.as_role("patient", patient_id="pat_any")
    for r in (patient.get(f"/v1/clinicians/{prescriber['clinician_id']}"), patient.get("/v1/clinicians")):
        assert r.status == 200
        assert b"AB1234563" not in r.raw and b"LIC-NY-1" not in r.raw
    one = patient.get(f"/v1/clinicians/{prescriber['clinician_id']}").json
    assert one["profile"] == "public" and "dea_registrations" not in one
    # Board standing is public (state licence look-ups show it); the number is not.
    assert one["licenses"] == [{"jurisdiction": "US-NY", "type": "physician", "expires_on": "2030-12-31",
                                "status": "active", "effective_from": None}]
    assert one["name"] == "Dr. Prescriber" and one["npi"] == prescriber["npi"]


def test_staff_still_see_the_whole_record(api, admin, scheduler, prescriber):
    for caller in (admin, scheduler, api.as_role("clinician", clinician_id=prescriber["clinician_id"])):
        r = caller.get(f"/v1/clinicians/{prescriber['clinician_id']}").json
        assert r["profile"] == "full" and r["dea_registrations"][0]["number"] == "AB1234563"
        assert r["licenses"][0]["number"] == "LIC-NY-1"


def test_the_request_log_carries_the_route_template_not_the_raw_path(api, caplog):
    payer = api.as_role("payer", payer_id="pylogtpl")
    with caplog.at_level("INFO"):
        payer.put("/v1/payers/pylogtpl/members/MEMBERSECRET777", {"first_name": "A"})
    assert "MEMBERSECRET777" not in caplog.text
    assert "MEMBERSECRET777" not in str([vars(r) for r in caplog.records])
    assert [getattr(r, "route", None) for r in caplog.records if r.getMessage() == "request"] == [
        "PUT /v1/payers/{payer_id}/members/{member_id}"]
