"""The OpenAPI document stays in step with the routes, validates as OpenAPI 3.1, and real answers fit it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.api.route_permissions import ACCESS, LINK
from tests.support import Api

pytestmark = pytest.mark.api

ROOT = Path(__file__).resolve().parents[2]
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
TUESDAY_10_NY = "2026-03-03T10:00:00-05:00"


@pytest.fixture(scope="module")
def document():
    from app import app  # noqa: F401 - declares every route
    from chalicelib.api.openapi import build_document

    return build_document()


def _schema_validator(document, ref):
    from jsonschema import Draft202012Validator

    return Draft202012Validator({"$ref": ref["$ref"], "components": document["components"]})


def _assert_fits(document, path, method, status, response):
    op = document["paths"][path][method]
    answer = op["responses"][str(status)]
    content_type = response.headers["Content-Type"]
    assert content_type in answer["content"], (path, method, status, content_type)
    errors = sorted(str(e) for e in _schema_validator(document, answer["content"][content_type]["schema"])
                    .iter_errors(response.json))
    assert not errors, (path, method, status, errors)


def _all_roles_token(api: Api, **ids: str) -> str:
    """One caller holding every role, so no route answers 403 before it has looked at the request."""
    return api.token("admin", extra_claims={
        "cognito:groups": ["admin", "scheduler", "clinician", "patient", "payer", "ops"],
        "custom:patient_id": ids.get("patient_id", "p_none"), "custom:clinician_id": ids.get("clinician_id", "c_none"),
        "custom:payer_id": ids.get("payer_id", "acme")})


def test_every_chalice_route_is_documented_with_the_same_methods_and_nothing_else(document):
    from app import app

    routes = {path: {m.lower() for m in entries} for path, entries in app.routes.items()}
    documented = {path: {m for m in ops if m in METHODS} for path, ops in document["paths"].items()}
    assert documented == routes


def test_every_route_has_a_success_schema_and_documents_its_problems(document):
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            success = [s for s in op["responses"] if s.startswith("2")]
            assert success, f"{method.upper()} {path} has no 2xx response"
            for status in success:
                content = op["responses"][status].get("content", {})
                schema = content.get("application/json", next(iter(content.values()), {})).get("schema")
                assert schema, f"{method.upper()} {path} {status} has no response schema"
            for status, answer in op["responses"].items():
                if status.startswith(("4", "5")) and status != "415":
                    # FHIR routes answer errors as OperationOutcome (FHIR's own error resource).
                    expected = "application/fhir+json" if path.startswith("/fhir/") else "application/problem+json"
                    assert set(answer["content"]) == {expected}, (path, method, status)
            public = op.get("security") == []
            assert public or {"401", "403"} <= set(op["responses"]), f"{method.upper()} {path} hides 401/403"
            if "{" in path:
                assert "404" in op["responses"], f"{method.upper()} {path} hides 404"
                assert [p["name"] for p in op["parameters"] if p["in"] == "path"] == \
                    [seg.strip("{}") for seg in path.split("/") if seg.startswith("{")]


def test_only_health_this_document_and_link_routes_are_public(document):
    public = {f"{m.upper()} {p}" for p, ops in document["paths"].items() for m, op in ops.items()
              if op.get("security") == []}
    link_token = {route for route, allowed in ACCESS.items() if allowed == LINK}
    assert link_token == {"POST /v1/appointments/{appointment_id}/confirm",
                          "POST /v1/appointments/{appointment_id}/decline"}
    assert public == {"GET /v1/health", "GET /v1/openapi.json", "GET /fhir/R4/metadata",
                      # the SMART Scheduling Links feed: public only when the tenant's settings say so
                      "GET /fhir/R4/public/{tenant_id}/$bulk-publish",
                      "GET /fhir/R4/public/{tenant_id}/files/{file_name}",
                      # an invitation link is its own credential (single use, 404 otherwise): API.md, Video
                      "POST /v1/video/invitations/join"} | link_token
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        **document["components"]["securitySchemes"]["bearerAuth"], "type": "http", "scheme": "bearer"}


def test_every_route_that_reads_a_json_body_declares_its_schema(document, api, services, tenant):
    """Behaviour, not bookkeeping: a route whose view parses the body answers malformed JSON with a 400 naming
    `body`; exactly those routes must carry a requestBody."""
    token = _all_roles_token(api)
    declared, parsing = set(), set()
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            if method not in {"post", "put", "patch"}:
                continue
            key = f"{method.upper()} {path}"
            content = op.get("requestBody", {}).get("content", {})
            if content:
                declared.add(key)
                assert all(c.get("schema") for c in content.values()), key
            if content and "application/json" not in content:
                parsing.add(key)  # a non-JSON body (e.g. X12) is declared by its own content type
                continue
            url = path.replace("{", "x").replace("}", "")  # any id: parsing comes before lookups
            r = api.call(method, url, raw=b"{not json", token=token)
            if r.status == 400 and "body" in _error_fields(r.json):
                parsing.add(key)
    assert declared == parsing


def _error_fields(body):
    """The fields a 400 names: problem+json errors[].field, or a FHIR OperationOutcome's issue[].expression."""
    if body.get("resourceType") == "OperationOutcome":
        return {x for issue in body["issue"] for x in issue.get("expression", [])}
    return {e["field"] for e in body.get("errors", [])}


def test_query_parameters_come_from_the_validating_models(document):
    params = {p["name"]: p for p in document["paths"]["/v1/availability"]["get"]["parameters"]}
    assert {"service", "from", "to", "patient_id", "patient_jurisdiction", "modality", "clinician_id", "limit",
            "cursor"} <= set(params)
    assert params["service"]["required"] and params["from"]["required"] and params["to"]["required"]
    assert not params["patient_id"]["required"]
    assert params["limit"]["schema"]["maximum"] == 200
    assert "anyOf" not in params["patient_id"]["schema"]  # `| None` means "may be left out", not null


def test_the_document_is_valid_openapi_3_1(document):
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation import OpenAPIV31SpecValidator

    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)
    assert any(s["url"].startswith("http://127.0.0.1") for s in document["servers"])


def test_the_route_serves_the_document_without_a_token(api, services, document):
    r = api.call("GET", "/v1/openapi.json")
    assert r.status == 200 and r.headers["Content-Type"] == "application/json"
    assert r.json == json.loads(json.dumps(document))


def test_real_answers_validate_against_their_schemas(document, world, scheduler, admin, api):
    body = {"patient_id": world["patient"]["patient_id"], "clinician_id": world["clinician"]["clinician_id"],
            "service": "90834", "start": TUESDAY_10_NY, "modality": "video", "site_id": None,
            "patient_jurisdiction": "US-NY"}
    booked = scheduler.post("/v1/appointments", body, headers={"Idempotency-Key": "openapi-contract-1"})
    assert booked.status == 201, booked.json
    _assert_fits(document, "/v1/appointments", "post", 201, booked)
    appointment_id = booked.json["appointment_id"]
    site_id, clinician_id = world["site"]["site_id"], world["clinician"]["clinician_id"]
    patient_id = world["patient"]["patient_id"]

    for path, template, who in [
        (f"/v1/appointments/{appointment_id}", "/v1/appointments/{appointment_id}", scheduler),
        (f"/v1/appointments?patient_id={patient_id}", "/v1/appointments", scheduler),
        (f"/v1/availability?patient_id={patient_id}&service=90834&from=2026-03-03T00:00:00Z"
         f"&to=2026-03-04T00:00:00Z&limit=5", "/v1/availability", scheduler),
        (f"/v1/sites/{site_id}", "/v1/sites/{site_id}", admin),
        ("/v1/sites", "/v1/sites", admin),
        (f"/v1/clinicians/{clinician_id}", "/v1/clinicians/{clinician_id}", admin),
        ("/v1/clinicians", "/v1/clinicians", admin),
        (f"/v1/patients/{patient_id}", "/v1/patients/{patient_id}", scheduler),
    ]:
        r = who.get(path)
        assert r.status == 200, (path, r.json)
        _assert_fits(document, template, "get", 200, r)

    cancelled = scheduler.post(f"/v1/appointments/{appointment_id}/cancel", {"reason": "contract test"})
    _assert_fits(document, "/v1/appointments/{appointment_id}/cancel", "post", 200, cancelled)
    again = scheduler.post(f"/v1/appointments/{appointment_id}/cancel", {})
    assert again.status == 409
    _assert_fits(document, "/v1/appointments/{appointment_id}/cancel", "post", 409, again)
    missing = scheduler.get("/v1/appointments/nope")
    _assert_fits(document, "/v1/appointments/{appointment_id}", "get", 404, missing)
    invalid = scheduler.post("/v1/appointments", {"patient_id": 5})
    _assert_fits(document, "/v1/appointments", "post", 400, invalid)
    _assert_fits(document, "/v1/health", "get", 200, api.call("GET", "/v1/health"))
    unauthenticated = api.call("GET", "/v1/sites")
    _assert_fits(document, "/v1/sites", "get", 401, unauthenticated)
    forbidden = admin.post("/v1/appointments", body)
    _assert_fits(document, "/v1/appointments", "post", 403, forbidden)


def test_importing_the_app_builds_no_schema():
    """`import app` is the Lambda cold start: no JSON schema generation, no response models, no jsonschema."""
    probe = ("import sys, app\n"
             "from chalicelib.api import openapi\n"
             "loaded = [m for m in ('jsonschema', 'openapi_spec_validator', 'chalicelib.schemas.responses', "
             "'fhir', 'fhir.resources', 'chalicelib.fhir', 'chalicelib.fhir.resources') "
             "if m in sys.modules]\n"
             "print(loaded, openapi._cached is None)\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "HCO_STAGE": "local"})
    assert out.stdout.strip() == "[] True"
