"""Issue 11, item 6: availability by patient, refused attempts on PHI routes, payer actions in the payer's log."""

from __future__ import annotations

import pytest

from tests.support import patient_body

pytestmark = pytest.mark.api


def _actions(admin, patient_id: str) -> list[tuple[str, str]]:
    return [(e["action"], e["outcome"]) for e in admin.get(f"/v1/audit?patient_id={patient_id}").json["items"]]


def test_availability_for_a_patient_is_audited_as_a_read_of_that_patient(world, scheduler, admin):
    pid = world["patient"]["patient_id"]
    r = scheduler.get(f"/v1/availability?patient_id={pid}&service=90834&from=2026-03-03T00:00:00Z"
                      "&to=2026-03-04T00:00:00Z")
    assert r.status == 200 and r.json["items"]
    assert ("availability.search", "success") in _actions(admin, pid)


def test_a_refused_read_of_another_patient_is_audited_as_denied(world, api, scheduler, admin):
    me = world["patient"]["patient_id"]
    other = scheduler.post("/v1/patients", patient_body("Other Person")).json["patient_id"]
    patient = api.as_role("patient", patient_id=me)
    assert patient.get(f"/v1/patients/{other}").status == 404
    assert patient.get(f"/v1/appointments?patient_id={other}").status == 200  # scoped to self, not refused
    entries = admin.get(f"/v1/audit?patient_id={other}").json["items"]
    denied = [e for e in entries if e["outcome"] == "denied"]
    assert [(e["action"], e["actor"]["role"], e["resource"]) for e in denied] == [
        ("GET /v1/patients/{patient_id}", "patient", f"patient_id={other}")]


def test_a_role_refused_a_phi_route_is_audited_as_denied_and_a_public_directory_refusal_is_not(api, admin):
    clinician = api.as_role("clinician", clinician_id="clin_x")
    assert clinician.get("/v1/audit").status == 403
    assert clinician.post("/v1/sites", {}).status == 403
    entries = admin.get("/v1/audit").json["items"]
    denied = [(e["action"], e["outcome"]) for e in entries if e["actor"]["role"] == "clinician"]
    assert denied == [("GET /v1/audit", "denied")]


def test_a_payer_token_writes_into_the_payers_log_whatever_tenant_it_names(api, admin):
    payer_id = "pyauditlog1"
    payer = api.as_role("payer", payer_id=payer_id)  # its tenant claim names this test's tenant
    assert payer.put(f"/v1/payers/{payer_id}", {"name": "Plan", "connector": {"kind": "roster"}}).status == 200
    member = {"first_name": "JANE", "last_name": "DOE", "birth_date": "1985-04-12", "plan": {"name": "P"},
              "active_from": "2026-01-01", "benefits": {}}
    assert payer.put(f"/v1/payers/{payer_id}/members/W1", member).status == 200
    assert all(e["actor"]["role"] != "payer" for e in admin.get("/v1/audit").json["items"])
    own = payer.get(f"/v1/payers/{payer_id}/audit")
    assert own.status == 200
    assert ("payer.roster.write", "success") in [(e["action"], e["outcome"]) for e in own.json["items"]]
    assert api.as_role("payer", payer_id="someone-else").get(f"/v1/payers/{payer_id}/audit").status == 404
