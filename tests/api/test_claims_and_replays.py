"""Issue 11, items 3 and 4: claims validated by type and format; idempotency replays bound to access."""

from __future__ import annotations

import time

import jwt
import pytest

from chalicelib.settings import LOCAL_DEV_JWT_SECRET
from tests.support import patient_body, site_body

pytestmark = pytest.mark.api


def _token(**over) -> str:
    now = int(time.time())
    claims = {"sub": "u-1", "iss": "hco-local", "aud": "hco-api", "iat": now, "exp": now + 600,
              "custom:tenant_id": "demo", "cognito:groups": ["admin"]}
    claims.update(over)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, LOCAL_DEV_JWT_SECRET, algorithm="HS256")


@pytest.mark.parametrize("claims", [
    {"cognito:groups": {"admin": True}},
    {"cognito:groups": "admin"},
    {"cognito:groups": ["admin", "superuser"]},
    {"cognito:groups": [["admin"]]},
    {"custom:tenant_id": "demo#x"},
    {"custom:tenant_id": "a|b"},
    {"custom:tenant_id": ".."},
    {"custom:tenant_id": "de\x00mo"},
    {"custom:tenant_id": "demo\nadmin"},
    {"custom:tenant_id": "t" * 5000},
    {"custom:tenant_id": 7},
    {"sub": ""},
    {"sub": "   "},
    {"sub": "a\nb"},
    {"sub": 12},
    {"exp": 4102444800},  # 2100-01-01
    {"custom:patient_id": "pat|x", "cognito:groups": ["patient"]},
    {"custom:payer_id": ["acme"], "cognito:groups": ["payer"]},
], ids=["groups-dict", "groups-string", "groups-unknown-role", "groups-nested", "tenant-hash", "tenant-pipe",
        "tenant-dots", "tenant-nul", "tenant-newline", "tenant-5000", "tenant-number", "sub-empty", "sub-blank",
        "sub-newline", "sub-number", "exp-2100", "patient-id-pipe", "payer-id-list"])
def test_claims_of_the_wrong_type_or_format_are_401(api, claims):
    r = api.call("GET", "/v1/sites", token=_token(**claims))
    assert r.status == 401, r.json
    assert r.json["code"] == "UNAUTHENTICATED"
    assert r.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("token", ["not-a-jwt", _token(aud="other"), _token(iss="other")])
def test_a_401_names_no_library_exception(api, token):
    detail = api.call("GET", "/v1/sites", token=token).json["detail"]
    assert "Error" not in detail and "jwt" not in detail.lower() and "(" not in detail


def test_a_well_formed_token_still_works(api):
    assert api.call("GET", "/v1/sites", token=_token(**{"custom:tenant_id": api.tenant})).status == 200


def test_a_replay_by_a_caller_with_the_same_sub_but_other_access_is_a_404_not_the_answer(world, api):
    scheduler_sub = "shared-sub-1"
    scheduler = api.as_role("scheduler")
    scheduler.token = api.token("scheduler", sub=scheduler_sub)
    body = {"patient_id": world["patient"]["patient_id"], "clinician_id": world["clinician"]["clinician_id"],
            "service": "90834", "start": "2026-03-03T10:00:00-05:00", "modality": "video",
            "patient_jurisdiction": "US-NY"}
    first = scheduler.post("/v1/appointments", body, headers={"Idempotency-Key": "k-shared"})
    assert first.status == 201
    other_patient = scheduler.post("/v1/patients", patient_body("Someone Else")).json["patient_id"]
    patient = api.as_role("patient")
    patient.token = api.token("patient", sub=scheduler_sub, patient_id=other_patient)
    replay = patient.post("/v1/appointments", body, headers={"Idempotency-Key": "k-shared"})
    assert replay.status == 404 and replay.json["code"] == "NOT_FOUND"
    assert first.json["appointment_id"].encode() not in replay.raw


def test_tenant_and_sub_with_a_separator_can_not_collide_with_another_caller(api):
    first = api.call("POST", "/v1/sites", site_body("First"), headers={"Idempotency-Key": "k"},
                     token=api.token("admin", tenant="x|y", sub="z"))
    second = api.call("POST", "/v1/sites", site_body("First"), headers={"Idempotency-Key": "k"},
                      token=api.token("admin", tenant="x", sub="y|z"))
    assert first.status == 401
    assert second.status == 201 and second.json["name"] == "First"


def test_the_idempotency_scope_is_an_injective_encoding_of_every_access_claim():
    import json

    from chalicelib.api.idempotency import idempotency_scope
    from chalicelib.domain.access import Caller

    callers = [Caller("b|c", "a", frozenset({"admin"})), Caller("c", "a|b", frozenset({"admin"})),
               Caller("s", "t", frozenset({"scheduler"})), Caller("s", "t", frozenset({"patient"}), patient_id="p1"),
               Caller("s", "t", frozenset({"patient"}), patient_id="p2")]
    scopes = {json.dumps(idempotency_scope(c, "POST /v1/appointments")) for c in callers}
    assert len(scopes) == len(callers)
