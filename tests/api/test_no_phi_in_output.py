"""Run a tour with distinctive PHI and grep everything the app printed (logs, metrics) for it."""

from __future__ import annotations

import logging

import pytest

pytestmark = pytest.mark.api

NAME = "Zebulon Quixotic-Phi"
BIRTH = "1911-11-11"
MEMBER = "MEMBERPHI987654"
PHONE = "+1 555 867 5309"
EMAIL = "zq-phi@example.org"
REASON = "Zebulon moved to Quixotic"
PHI = [NAME, "Zebulon", "Quixotic", BIRTH, MEMBER, "867 5309", EMAIL]


def test_the_api_tour_prints_no_phi_and_errors_echo_none(world, api, scheduler, admin, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    patient = scheduler.post("/v1/patients", {
        "name": NAME, "birth_date": BIRTH, "home_jurisdiction": "US-NY", "phone": PHONE, "email": EMAIL,
        "coverages": [{"payer_id": "acme", "member_id": MEMBER}],
        "emergency_contact": {"name": f"{NAME} Sr", "phone": PHONE}}).json
    pid = patient["patient_id"]
    assert scheduler.get(f"/v1/patients/{pid}").json["name"] == NAME  # the caller may see it; nobody else
    booked = scheduler.post("/v1/appointments", {
        "patient_id": pid, "clinician_id": world["clinician"]["clinician_id"], "service": "90834",
        "start": "2026-03-03T10:00:00-05:00", "modality": "video", "patient_jurisdiction": "US-NY"}).json
    scheduler.post(f"/v1/appointments/{booked['appointment_id']}/cancel", {"reason": REASON})
    admin.get(f"/v1/audit?patient_id={pid}")

    errors = [
        scheduler.post("/v1/patients", {"name": NAME, "birth_date": "1911-13-45", "home_jurisdiction": "US-NY",
                                        "email": f"{NAME}@", "phone": f"call {NAME}"}),
        scheduler.post("/v1/patients", {"name": NAME, "birth_date": BIRTH, "home_jurisdiction": NAME,
                                        "coverages": [{"payer_id": "acme", "member_id": MEMBER + "!!"}]}),
        scheduler.post("/v1/appointments", raw=f'{{"patient_id": "{NAME}"'.encode()),
        api.as_role("patient", patient_id="someone").get(f"/v1/patients/{pid}"),
    ]
    assert [e.status for e in errors] == [400, 400, 400, 404]
    for e in errors:
        body = e.raw.decode()
        assert not [p for p in PHI if p in body], body

    out, err = capfd.readouterr()
    printed = out + err + "\n".join(r.getMessage() + str(vars(r)) for r in caplog.records)
    assert "POST /v1/appointments" in printed  # the app did log each request (route template, status)
    sources = {r.name for r in caplog.records if any(p in r.getMessage() + str(vars(r)) for p in PHI)}
    leaked = [p for p in [*PHI, REASON] if p in printed]
    assert not sources, sources
    assert leaked == [], f"PHI in output: {leaked}"
