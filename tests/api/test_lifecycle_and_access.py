from __future__ import annotations

import time

import jwt
import pytest

from chalicelib.settings import LOCAL_DEV_JWT_SECRET
from tests.support import patient_body

pytestmark = pytest.mark.api
TUESDAY_10_NY = "2026-03-03T10:00:00-05:00"


def booking(world, **overrides):
    body = {"patient_id": world["patient"]["patient_id"], "clinician_id": world["clinician"]["clinician_id"],
            "service": "90834", "start": TUESDAY_10_NY, "modality": "video", "patient_jurisdiction": "US-NY"}
    body.update(overrides)
    return body


def test_same_idempotency_key_and_body_replays_the_first_response(world, scheduler):
    first = scheduler.post("/v1/appointments", booking(world), headers={"Idempotency-Key": "k-1"})
    replay = scheduler.post("/v1/appointments", booking(world), headers={"Idempotency-Key": "k-1"})
    assert first.status == replay.status == 201
    assert replay.json["appointment_id"] == first.json["appointment_id"]
    listed = scheduler.get(f"/v1/appointments?patient_id={world['patient']['patient_id']}").json["items"]
    assert [a["appointment_id"] for a in listed] == [first.json["appointment_id"]]


def test_same_idempotency_key_with_another_body_is_refused(world, scheduler):
    assert scheduler.post("/v1/appointments", booking(world), headers={"Idempotency-Key": "k-2"}).status == 201
    other = scheduler.post("/v1/appointments", booking(world, start="2026-03-03T13:00:00-05:00"),
                           headers={"Idempotency-Key": "k-2"})
    assert other.status == 409 and other.json["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_idempotency_keys_of_two_callers_never_collide(world, api, scheduler):
    other_scheduler = api.as_role("scheduler")  # another user (sub) of the same tenant
    a = scheduler.post("/v1/patients", patient_body("First"), headers={"Idempotency-Key": "same"}).json
    b = other_scheduler.post("/v1/patients", patient_body("Second"), headers={"Idempotency-Key": "same"}).json
    assert a["patient_id"] != b["patient_id"] and b["name"] == "Second"


def test_full_lifecycle_book_check_in_complete_and_no_further_transition(world, api, scheduler):
    a = scheduler.post("/v1/appointments", booking(world)).json
    clinician = api.as_role("clinician", clinician_id=world["clinician"]["clinician_id"])
    r = scheduler.post(f"/v1/appointments/{a['appointment_id']}/check-in",
                       {"patient_jurisdiction": "US-NY", "callback_phone": "+1 212 555 0100"})
    assert r.status == 200 and r.json["status"] == "checked_in"
    done = clinician.post(f"/v1/appointments/{a['appointment_id']}/complete")
    assert done.status == 200 and done.json["status"] == "completed"
    again = scheduler.post(f"/v1/appointments/{a['appointment_id']}/cancel", {"reason": "late"})
    assert again.status == 409 and again.json["code"] == "INVALID_TRANSITION" and again.json["status"] == 409


def test_check_in_from_an_unlicensed_state_is_a_mismatch_with_alternatives(world, admin, scheduler):
    a = scheduler.post("/v1/appointments", booking(world)).json
    r = scheduler.post(f"/v1/appointments/{a['appointment_id']}/check-in", {"patient_jurisdiction": "US-TX"})
    assert r.status == 409 and r.json["code"] == "JURISDICTION_MISMATCH"
    assert isinstance(r.json["alternatives"], list)
    assert scheduler.get(f"/v1/appointments/{a['appointment_id']}").json["status"] == "booked"


def test_booking_into_a_state_without_licence_is_422(world, scheduler):
    r = scheduler.post("/v1/appointments", booking(world, patient_jurisdiction="US-TX"))
    assert r.status == 422 and r.json["code"] == "NOT_LICENSED_IN_JURISDICTION"
    assert r.json["reasons"] and all({"code", "rule_id", "source"} <= set(x) for x in r.json["reasons"])


def test_booking_outside_the_weekly_rules_is_422(world, scheduler):
    r = scheduler.post("/v1/appointments", booking(world, start="2026-03-03T18:00:00-05:00"))
    assert r.status == 422 and r.json["code"] == "OUTSIDE_AVAILABILITY"


def test_a_start_off_the_quarter_hour_names_start(world, scheduler):
    r = scheduler.post("/v1/appointments", booking(world, start="2026-03-03T10:07:00-05:00"))
    assert r.status == 400 and [e["field"] for e in r.json["errors"]] == ["start"]


def test_switch_to_phone_changes_the_modifier_to_93(world, scheduler):
    a = scheduler.post("/v1/appointments", booking(world)).json
    r = scheduler.post(f"/v1/appointments/{a['appointment_id']}/switch-modality",
                       {"modality": "phone", "reason": "video failed"})
    assert r.status == 200 and r.json["modality"] == "phone"
    assert r.json["billing"] == {"place_of_service": "10", "modifiers": ["93"]}


def test_a_patient_sees_only_their_own_record_and_appointments(world, api, scheduler):
    mine = world["patient"]["patient_id"]
    other = scheduler.post("/v1/patients", patient_body("Someone Else")).json["patient_id"]
    me = api.as_role("patient", patient_id=mine)
    assert me.get(f"/v1/patients/{mine}").json["patient_id"] == mine
    hidden = me.get(f"/v1/patients/{other}")
    assert hidden.status == 404 and hidden.json["code"] == "NOT_FOUND"
    theirs = scheduler.post("/v1/appointments", booking(world, patient_id=other)).json
    assert me.get(f"/v1/appointments/{theirs['appointment_id']}").status == 404
    assert me.post("/v1/appointments", booking(world, patient_id=other,
                                               start="2026-03-03T13:00:00-05:00")).status == 404


def test_a_role_that_may_not_use_a_route_gets_403(world, api):
    patient = api.as_role("patient", patient_id=world["patient"]["patient_id"])
    r = patient.post("/v1/sites", {"name": "x"})
    assert r.status == 403 and r.json["code"] == "FORBIDDEN"


def test_another_tenant_cannot_see_an_appointment(world, api, scheduler):
    a = scheduler.post("/v1/appointments", booking(world)).json
    foreign = api.as_role("scheduler")
    foreign.token = api.token("scheduler", tenant="other-tenant")
    r = foreign.get(f"/v1/appointments/{a['appointment_id']}")
    assert r.status == 404


def _forge(claims: dict, key: str = LOCAL_DEV_JWT_SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


def _claims(**over):
    now = int(time.time())
    c = {"sub": "u", "iss": "hco-local", "aud": "hco-api", "iat": now, "exp": now + 600,
         "custom:tenant_id": "demo", "cognito:groups": ["scheduler"]}
    c.update(over)
    return c


@pytest.mark.parametrize("token", [
    None,
    "not-a-jwt",
    _forge(_claims(), key="wrong-key-wrong-key-wrong-key-wrong-key"),
    _forge(_claims(exp=int(time.time()) - 3600)),
    _forge(_claims(aud="someone-else")),
    _forge(_claims(**{"cognito:groups": []})),
    jwt.encode(_claims(), None, algorithm="none"),
], ids=["missing", "garbage", "forged", "expired", "wrong-audience", "no-role", "alg-none"])
def test_bad_tokens_are_401(api, token):
    r = api.call("GET", "/v1/sites", token=token)
    assert r.status == 401 and r.json["code"] == "UNAUTHENTICATED"


def test_health_needs_no_token(api):
    r = api.call("GET", "/v1/health")
    assert r.status == 200 and r.json == {"status": "ok"}
