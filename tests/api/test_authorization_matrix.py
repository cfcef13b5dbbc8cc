"""Walk every route of the app with every role, own and foreign objects, and other tenants.

The matrix (chalicelib/api/route_permissions.py) is the contract: a role missing from a route gets 403; an
object the caller may not see is 404 (never 403, so ids cannot be probed); a bad token is 401.
"""

from __future__ import annotations

import re

import pytest

from app import app
from chalicelib.api.route_permissions import ACCESS, LINK, PUBLIC
from chalicelib.domain.access import ROLES
from tests.support import Api, patient_body

pytestmark = pytest.mark.api
ROUTES = sorted((method, path) for path, entries in app.routes.items() for method in entries)

# Bodies good enough to reach the object lookup, so that 404 (not 400) is what a stranger sees.
BODIES = {
    "/reschedule": {"start": "2026-03-03T11:00:00-05:00"},
    "/check-in": {"patient_jurisdiction": "US-NY"},
    "/switch-modality": {"modality": "phone"},
    "/availability": {"rules": []},
    "/members/{member_id}": {"first_name": "A", "last_name": "B", "birth_date": "1990-01-01"},
    "/video/invitations": {"role": "interpreter"},
    "/video/invitations/join": {"token": "bm90LWEtcmVhbC1pbnZpdGF0aW9u.secret-secret-secret"},
}
# Public routes whose credential is a link in the body: without a valid one they answer 404, never 401.
LINK_ROUTES = {"POST /v1/video/invitations/join"}


def _body(path):
    for suffix, body in BODIES.items():
        if path.endswith(suffix):
            return body
    return {}


def _fill(path, ids):
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "unknown-id"), path)


def _call(api, method, path, token):
    return api.call(method, path, _body(path) if method in ("POST", "PUT") else None, token=token)


def _code(r):
    """The error code: problem+json `code`, or the /v1 code a FHIR OperationOutcome carries in issue.details."""
    body = r.json
    if body.get("resourceType") == "OperationOutcome":
        return body["issue"][0]["details"]["coding"][0]["code"]
    return body["code"]


def test_every_route_has_a_matrix_entry_and_every_entry_a_route():
    assert {f"{m} {p}" for m, p in ROUTES} == set(ACCESS)


def test_no_token_is_401_on_every_route_but_the_public_ones(api):
    for method, path in ROUTES:
        r = api.call(method, _fill(path, {}), _body(path) if method in ("POST", "PUT") else None)
        if ACCESS[f"{method} {path}"] == PUBLIC and "{tenant_id}" in path:
            # A tenant's public feed: a tenant that publishes nothing publicly is not found, not 401.
            assert (r.status, _code(r)) == (404, "NOT_FOUND"), (method, path)
        elif f"{method} {path}" in LINK_ROUTES:
            assert (r.status, r.json["code"]) == (404, "NOT_FOUND"), (method, path, r.json)
        elif ACCESS[f"{method} {path}"] == PUBLIC:
            assert r.status == 200, (method, path)
        elif ACCESS[f"{method} {path}"] == LINK:
            # No bearer token needed, but nothing without the link token: a 400 naming it, never a 2xx.
            assert (r.status, r.json["code"]) == (400, "VALIDATION_ERROR"), (method, path)
            assert r.json["errors"][0]["field"] == "token"
        else:
            assert (r.status, _code(r)) == (401, "UNAUTHENTICATED"), (method, path)


def _token(api, role, tenant=None, ids=None):
    ids = ids or {}
    extra = {"patient": {"patient_id": ids.get("patient_id", "p-self")},
             "clinician": {"clinician_id": ids.get("clinician_id", "c-self")},
             "payer": {"payer_id": ids.get("payer_id", "payer-self")}}.get(role, {})
    return api.token(role, tenant=tenant, **extra)


def test_a_role_missing_from_a_route_gets_403_and_a_listed_role_never_does(api):
    for method, path in ROUTES:
        allowed = ACCESS[f"{method} {path}"]
        if allowed in (PUBLIC, LINK):
            continue
        for role in sorted(ROLES):
            r = _call(api, method, _fill(path, {}), _token(api, role))
            if role in allowed:
                assert r.status != 403, (method, path, role, r.json)
            else:
                assert (r.status, _code(r)) == (403, "FORBIDDEN"), (method, path, role)


@pytest.fixture
def objects(world, scheduler):
    a = scheduler.post("/v1/appointments", {
        "patient_id": world["patient"]["patient_id"], "clinician_id": world["clinician"]["clinician_id"],
        "service": "90834", "start": "2026-03-03T10:00:00-05:00", "modality": "video",
        "patient_jurisdiction": "US-NY"}).json
    return {"site_id": world["site"]["site_id"], "clinician_id": world["clinician"]["clinician_id"],
            "patient_id": world["patient"]["patient_id"], "appointment_id": a["appointment_id"]}


OBJECT_PARAMS = {"patient_id", "appointment_id"}


def test_another_tenant_never_sees_an_object_it_does_not_own(api, objects):
    """Same ids, a caller of another tenant with every allowed role: 404 on every object route."""
    for method, path in ROUTES:
        allowed = ACCESS[f"{method} {path}"]
        params = set(re.findall(r"\{(\w+)\}", path))
        if allowed in (PUBLIC, LINK) or not params & (OBJECT_PARAMS | {"clinician_id", "site_id"}):
            continue
        for role in allowed:
            if role == "payer":
                continue  # payers are cross-tenant by design; their own matrix test lives with eligibility
            token = _token(api, role, tenant="someone-else", ids=objects)
            r = _call(api, method, _fill(path, objects), token)
            assert r.status == 404, (method, path, role, r.status, r.json)
            assert _code(r) == "NOT_FOUND"


def test_own_only_roles_get_404_for_someone_elses_objects(api, objects, scheduler):
    other_patient = scheduler.post("/v1/patients", patient_body("Other")).json["patient_id"]
    for method, path in ROUTES:
        allowed = ACCESS[f"{method} {path}"]
        params = set(re.findall(r"\{(\w+)\}", path))
        if allowed in (PUBLIC, LINK) or not params & OBJECT_PARAMS:
            continue
        for role, scope in allowed.items():
            if scope != "own" or role == "payer":
                continue
            stranger = {"patient": {"patient_id": other_patient}, "clinician": {"clinician_id": "clin-stranger"}}
            token = api.token(role, **stranger[role])
            r = _call(api, method, _fill(path, objects), token)
            assert r.status == 404, (method, path, role, r.status, r.json)


def test_a_patient_listing_appointments_sees_only_their_own(api, objects, scheduler):
    other_patient = scheduler.post("/v1/patients", patient_body("Other")).json["patient_id"]
    me = Api(api.client, api.tenant).as_role("patient", patient_id=other_patient)
    r = me.get(f"/v1/appointments?patient_id={objects['patient_id']}")
    assert r.status == 200 and r.json["items"] == []
