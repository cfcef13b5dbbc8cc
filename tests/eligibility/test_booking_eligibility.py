"""Booking records the eligibility status of the visit; the payer never fails or undoes a booking."""

from __future__ import annotations

import pytest

from tests.eligibility.conftest import new_patient
from tests.support import weekday_rules

pytestmark = pytest.mark.api

TUESDAY_10_NY = "2026-03-03T10:00:00-05:00"


def booking(world, patient_id, **overrides):
    body = {"patient_id": patient_id, "clinician_id": world["clinician"]["clinician_id"], "service": "90834",
            "start": TUESDAY_10_NY, "modality": "video", "patient_jurisdiction": "US-NY"}
    body.update(overrides)
    return body


def _events(appointment):
    return [e for e in appointment["history"] if e["action"] == "eligibility_checked"]


def test_an_active_member_with_covered_video_is_verified_and_the_check_is_linked(world, scheduler, x12_payer, sim):
    patient_id = new_patient(scheduler, x12_payer)

    r = scheduler.post("/v1/appointments", booking(world, patient_id))

    assert r.status == 201, r.json
    assert r.json["eligibility"] == {"status": "verified"}
    [event] = _events(r.json)
    assert event["status"] == "verified" and event["check_id"].startswith("elg_")
    check = scheduler.get(f"/v1/eligibility/checks/{event['check_id']}").json
    assert (check["status"], check["service"], check["modality"]) == ("active", "90834", "video")
    assert check["date_of_service"] == "2026-03-03" and check["service_type_codes"] == ["MH", "A6"]
    assert scheduler.get(f"/v1/appointments/{r.json['appointment_id']}").json["eligibility"] == {"status": "verified"}
    assert sim.received == 1


def test_the_date_of_service_is_the_local_date_of_the_visit_not_the_utc_date(world, admin, scheduler, x12_payer):
    clinician_id = world["clinician"]["clinician_id"]
    admin.put(f"/v1/clinicians/{clinician_id}/availability",
              {"rules": weekday_rules("09:00", "23:00", site_id=world["site"]["site_id"]), "buffer_minutes": 0})
    patient_id = new_patient(scheduler, x12_payer)

    r = scheduler.post("/v1/appointments", booking(world, patient_id, start="2026-03-03T21:30:00-05:00"))

    assert r.status == 201 and r.json["start"] == "2026-03-04T02:30:00Z"
    check = scheduler.get(f"/v1/eligibility/checks/{_events(r.json)[0]['check_id']}").json
    assert check["date_of_service"] == "2026-03-03"


def _record_uncovered_modalities(admin) -> None:
    # By default the routing rule refuses a modality the payer does not cover (tests/api/test_routing.py);
    # a tenant that lets the scheduler decide switches it off, and booking records not_covered instead.
    assert admin.put("/v1/tenant/settings", {"routing": {"disabled_rules": ["route-payer-telehealth-coverage"]}}
                     ).status == 200


def test_a_modality_the_payer_does_not_cover_is_not_covered(world, scheduler, admin, payer, x12_payer, sim):
    _record_uncovered_modalities(admin)
    payer.put(f"/v1/payers/{x12_payer}", {"name": "Acme", "connector": {"kind": "x12_http", "url": f"{sim.url}/x12"},
                                          "telehealth_policy": {"phone": {"covered": False}}})
    patient_id = new_patient(scheduler, x12_payer)

    r = scheduler.post("/v1/appointments", booking(world, patient_id, modality="phone"))

    assert r.status == 201 and r.json["eligibility"] == {"status": "not_covered"}
    assert r.json["status"] == "booked"  # recorded, not refused: the scheduler decides what to do


def test_an_inactive_member_is_not_covered_and_no_coverage_is_unknown(world, scheduler, x12_payer):
    inactive = new_patient(scheduler, x12_payer, member_id="W100200301", name="John Roe", birth="1970-01-01")
    uninsured = new_patient(scheduler, None, name="Nora None")

    a = scheduler.post("/v1/appointments", booking(world, inactive)).json
    b = scheduler.post("/v1/appointments", booking(world, uninsured, start="2026-03-03T11:00:00-05:00")).json

    assert a["eligibility"] == {"status": "not_covered"}
    assert b["eligibility"] == {"status": "unknown"} and _events(b) == []


def test_a_payer_that_is_down_leaves_the_visit_booked_and_pending_until_a_later_read(world, scheduler, x12_payer,
                                                                                      sim, clock):
    sim.knobs(http_status=503)
    patient_id = new_patient(scheduler, x12_payer)

    r = scheduler.post("/v1/appointments", booking(world, patient_id))

    assert r.status == 201 and r.json["eligibility"] == {"status": "pending"}
    check_id = _events(r.json)[0]["check_id"]
    sim.knobs(http_status=None)
    clock.advance(seconds=10)
    assert scheduler.get(f"/v1/eligibility/checks/{check_id}").json["status"] == "active"
    after = scheduler.get(f"/v1/appointments/{r.json['appointment_id']}").json
    assert after["eligibility"] == {"status": "verified"}
    assert [e["status"] for e in _events(after)] == ["pending", "verified"]


def test_a_payer_error_or_an_unreachable_payer_never_fails_the_booking(world, scheduler, payer, payer_id, sim):
    payer.put(f"/v1/payers/{payer_id}", {"name": "Gone", "connector": {"kind": "x12_http",
                                                                       "url": "http://127.0.0.1:9/x12"}})
    unreachable = new_patient(scheduler, payer_id)
    a = scheduler.post("/v1/appointments", booking(world, unreachable))
    payer.put(f"/v1/payers/{payer_id}", {"name": "Refuses", "connector": {"kind": "x12_http",
                                                                          "url": f"{sim.url}/x12"}})
    sim.knobs(http_status=400)
    refusing = new_patient(scheduler, payer_id, name="Jane Other")
    b = scheduler.post("/v1/appointments", booking(world, refusing, start="2026-03-03T11:00:00-05:00"))

    assert (a.status, a.json["eligibility"]) == (201, {"status": "pending"})
    assert (b.status, b.json["eligibility"]) == (201, {"status": "unknown"})
    assert scheduler.get(f"/v1/eligibility/checks/{_events(b.json)[0]['check_id']}").json["error"] == "http_400"


def test_switching_modality_asks_again(world, scheduler, admin, payer, x12_payer, sim):
    _record_uncovered_modalities(admin)
    payer.put(f"/v1/payers/{x12_payer}", {"name": "Acme", "connector": {"kind": "x12_http", "url": f"{sim.url}/x12"},
                                          "telehealth_policy": {"phone": {"covered": False}}})
    patient_id = new_patient(scheduler, x12_payer)
    a = scheduler.post("/v1/appointments", booking(world, patient_id)).json
    assert a["eligibility"] == {"status": "verified"}

    r = scheduler.post(f"/v1/appointments/{a['appointment_id']}/switch-modality", {"modality": "phone"})

    assert r.status == 200 and r.json["modality"] == "phone"
    assert r.json["eligibility"] == {"status": "not_covered"}
    assert [e["status"] for e in _events(r.json)] == ["verified", "not_covered"]
    # Same member, service and date: the payer's answer comes from the cache; the policy decides the modality.
    assert sim.received == 1


def test_rescheduling_asks_again_only_when_the_visit_moves_into_another_plan_year(world, scheduler, x12_payer, sim):
    patient_id = new_patient(scheduler, x12_payer)
    a = scheduler.post("/v1/appointments", booking(world, patient_id)).json

    same_year = scheduler.post(f"/v1/appointments/{a['appointment_id']}/reschedule",
                               {"start": "2026-03-05T10:00:00-05:00"})
    assert same_year.status == 200, same_year.json
    assert same_year.json["eligibility"] == {"status": "verified"} and len(_events(same_year.json)) == 1
    assert sim.received == 1

    next_year = scheduler.post(f"/v1/appointments/{a['appointment_id']}/reschedule",
                               {"start": "2027-01-05T10:00:00-05:00"})

    assert next_year.status == 200, next_year.json
    assert next_year.json["eligibility"] == {"status": "not_covered"}  # the plan ends 2026-12-31
    assert [e["status"] for e in _events(next_year.json)] == ["verified", "not_covered"]
    assert sim.received == 2
