from __future__ import annotations

import pytest

from tests.support import after_commit

pytestmark = pytest.mark.api

# Tuesday 3 March 2026, 10:00 in New York (EST, UTC-5) = 15:00 UTC.
TUESDAY_10_NY = "2026-03-03T10:00:00-05:00"


def booking(world, **overrides):
    body = {"patient_id": world["patient"]["patient_id"], "clinician_id": world["clinician"]["clinician_id"],
            "service": "90834", "start": TUESDAY_10_NY, "modality": "video", "site_id": None,
            "patient_jurisdiction": "US-NY"}
    body.update(overrides)
    return body


def test_booking_a_free_video_slot_returns_the_appointment_with_billing_facts(world, scheduler):
    r = scheduler.post("/v1/appointments", booking(world))
    assert r.status == 201, r.json
    a = r.json
    assert a["status"] == "booked"
    assert a["start"] == "2026-03-03T15:00:00Z" and a["end"] == "2026-03-03T15:45:00Z"
    assert a["billing"] == {"place_of_service": "10", "modifiers": ["95"]}
    assert a["licensure"]["allowed"] is True and a["licensure"]["basis"]["kind"] == "license"
    assert a["eligibility"]["status"] == "pending"  # a coverage to check: the payer is asked after commit
    fetched = scheduler.get(f"/v1/appointments/{a['appointment_id']}").json
    assert fetched["appointment_id"] == a["appointment_id"] and fetched["start"] == a["start"]
    after_commit()  # acme has no connector in this test: nobody can confirm either way
    assert scheduler.get(f"/v1/appointments/{a['appointment_id']}").json["eligibility"]["status"] == "unknown"


def test_second_booking_of_the_same_slot_is_slot_taken(world, scheduler, admin):
    assert scheduler.post("/v1/appointments", booking(world)).status == 201
    other = scheduler.post("/v1/patients", {"name": "Other Person", "birth_date": "1980-01-01",
                                            "home_jurisdiction": "US-NY"}).json
    r = scheduler.post("/v1/appointments", booking(world, patient_id=other["patient_id"]))
    assert r.status == 409
    assert r.json["code"] == "SLOT_TAKEN"
    assert r.headers["Content-Type"] == "application/problem+json"


def test_in_person_booking_takes_a_room_and_bills_office(world, scheduler):
    r = scheduler.post("/v1/appointments", booking(world, modality="in_person", site_id=world["site"]["site_id"]))
    assert r.status == 201, r.json
    assert r.json["room"] in {"A", "B"}
    assert r.json["billing"] == {"place_of_service": "11", "modifiers": []}
    assert r.json["timezone"] == "America/New_York"


def test_availability_offers_lawful_free_slots_and_hides_booked_time(world, scheduler):
    params = (f"/v1/availability?patient_id={world['patient']['patient_id']}&service=90834"
              f"&from=2026-03-03T00:00:00Z&to=2026-03-04T00:00:00Z&modality=video&limit=200")
    before = scheduler.get(params).json["items"]
    starts = {i["start"] for i in before}
    assert "2026-03-03T14:00:00Z" in starts and "2026-03-03T15:00:00Z" in starts
    assert all(i["licensure"]["allowed"] for i in before)
    assert scheduler.post("/v1/appointments", booking(world)).status == 201
    after = {i["start"] for i in scheduler.get(params).json["items"]}
    # 15:00-15:45 is taken, and so is every start whose 45 minutes would overlap it.
    assert {"2026-03-03T14:30:00Z", "2026-03-03T15:00:00Z", "2026-03-03T15:30:00Z"}.isdisjoint(after)
    assert "2026-03-03T14:15:00Z" in after and "2026-03-03T15:45:00Z" in after


def test_cancel_frees_the_slot_for_someone_else(world, scheduler):
    a = scheduler.post("/v1/appointments", booking(world)).json
    r = scheduler.post(f"/v1/appointments/{a['appointment_id']}/cancel", {"reason": "conflict"})
    assert r.status == 200 and r.json["status"] == "cancelled"
    again = scheduler.post("/v1/appointments", booking(world))
    assert again.status == 201, again.json


def test_malformed_json_names_the_body(world, scheduler):
    r = scheduler.post("/v1/appointments", raw=b"{not json")
    assert r.status == 400
    assert r.json["code"] == "VALIDATION_ERROR" and r.json["errors"][0]["field"] == "body"


def test_missing_and_wrong_typed_fields_are_each_named(world, scheduler):
    r = scheduler.post("/v1/appointments", {"patient_id": 5, "service": "90834", "start": "tomorrow",
                                            "modality": "hologram"})
    assert r.status == 400
    fields = {e["field"] for e in r.json["errors"]}
    assert {"patient_id", "clinician_id", "start", "modality"} <= fields


def test_directory_lists_are_paged_and_a_foreign_cursor_is_refused(api, admin):
    from tests.support import VALID_NPIS, clinician_body

    for i in range(3):
        assert admin.post("/v1/clinicians", clinician_body(f"Dr {i}", npi=VALID_NPIS[i])).status == 201
    first = admin.get("/v1/clinicians?limit=2").json
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = admin.get(f"/v1/clinicians?limit=2&cursor={first['next_cursor']}").json
    names = {c["name"] for c in first["items"] + rest["items"]}
    assert names == {"Dr 0", "Dr 1", "Dr 2"} and rest["next_cursor"] is None
    foreign = api.as_role("admin")
    foreign.token = api.token("admin", tenant="another-tenant")
    r = foreign.get(f"/v1/clinicians?limit=2&cursor={first['next_cursor']}")
    assert r.status == 400 and r.json["errors"][0]["field"] == "cursor"
    assert admin.get("/v1/sites?limit=500").status == 400


def test_a_crafted_cursor_on_appointment_lists_is_a_400_not_a_crash(world, scheduler):
    import base64
    import json

    forged = base64.urlsafe_b64encode(json.dumps(
        {"pk": {"S": "T#other#APPT#x"}, "sk": {"S": "APPT"}, "gsi2pk": {"S": "T#other#PAT#x"},
         "gsi2sk": {"S": "2026"}}).encode()).decode().rstrip("=")
    r = scheduler.get(f"/v1/appointments?patient_id={world['patient']['patient_id']}&cursor={forged}")
    assert r.status == 400 and r.json["errors"][0]["field"] == "cursor"
    assert scheduler.get("/v1/appointments?patient_id=x&cursor=!!notbase64").status == 400
