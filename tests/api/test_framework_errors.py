"""The framework's own answers (before any view runs) are problem+json like every other error, a body-less POST
is not refused for its Content-Type, and every Lambda handler logs with its Lambda context (api/middleware.py)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.api

FORM = "application/x-www-form-urlencoded"


def _raw(api, method, path, headers, body=None):
    """Straight through chalice.test.Client: no default Content-Type added."""
    result = getattr(api.client.http, method.lower())(path, headers=headers, body=body)
    return result.status_code, dict(result.headers), json.loads(result.body) if result.body else None


def test_a_method_the_route_does_not_take_is_a_405_problem_naming_what_it_takes(api):
    token = api.token("admin")
    status, headers, body = _raw(api, "PATCH", "/v1/sites", {"Authorization": f"Bearer {token}",
                                                             "Content-Type": "application/json"}, b"{}")
    assert status == 405
    assert headers["Content-Type"] == "application/problem+json"
    assert body["code"] == "METHOD_NOT_ALLOWED" and body["status"] == 405 and body["errors"] == []
    assert body["type"].endswith("/method-not-allowed")
    assert "PATCH" not in json.dumps(body) and "Code" not in body
    assert {m.strip() for m in headers["Allow"].split(",")} == {"GET", "POST"}


def test_a_405_under_fhir_is_an_operation_outcome(api):
    token = api.token("admin")
    status, headers, body = _raw(api, "DELETE", "/fhir/R4/Patient", {"Authorization": f"Bearer {token}"})
    assert status == 405
    assert headers["Content-Type"] == "application/fhir+json"
    assert body["resourceType"] == "OperationOutcome"
    assert "METHOD_NOT_ALLOWED" in json.dumps(body)


def test_a_body_in_a_type_the_route_does_not_take_is_a_415_problem_that_echoes_nothing(api):
    token = api.token("admin")
    status, headers, body = _raw(api, "POST", "/v1/sites", {"Authorization": f"Bearer {token}",
                                                            "Content-Type": f"{FORM}; x-probe=echo-me"},
                                 b"name=Clinic&x=echo-me")
    assert status == 415
    assert headers["Content-Type"] == "application/problem+json"
    assert body["code"] == "UNSUPPORTED_MEDIA_TYPE" and body["status"] == 415
    assert body["title"] == "Unsupported media type" and "Code" not in body
    assert "echo-me" not in json.dumps(body) and FORM not in json.dumps(body)


@pytest.mark.parametrize("content_type", [None, FORM, "text/plain", "application/json"])
def test_a_body_less_post_reaches_the_view_whatever_its_content_type(api, content_type):
    """No body, nothing to misread: the view answers (here: the required fields are missing), never a 415."""
    headers = {"Authorization": f"Bearer {api.token('admin')}"}
    if content_type:
        headers["Content-Type"] = content_type
    status, answer_headers, body = _raw(api, "POST", "/v1/sites", headers)
    assert status == 400, body
    assert answer_headers["Content-Type"] == "application/problem+json"
    assert body["code"] == "VALIDATION_ERROR"
    assert {"name", "timezone", "jurisdiction"} <= {e["field"] for e in body["errors"]}


@pytest.mark.parametrize("content_type", [None, FORM])
def test_a_body_less_post_to_a_route_of_another_type_reaches_the_view_too(api, content_type):
    """The X12 route takes application/edi-x12: without a body it answers for the missing 270, not for a type."""
    headers = {"Authorization": f"Bearer {api.token('payer', payer_id='pyframework')}"}
    if content_type:
        headers["Content-Type"] = content_type
    status, answer_headers, body = _raw(api, "POST", "/v1/eligibility/x12", headers)
    assert status == 400, body
    assert answer_headers["Content-Type"] == "application/problem+json"
    assert body["code"] == "VALIDATION_ERROR"


def test_http_and_scheduled_handlers_log_with_their_lambda_context(api):
    """Powertools keeps the context as keys of the shared logger's formatter: every line after carries them."""
    from app import app
    from chalicelib.api.middleware import lambda_context
    from chalicelib.observability import logger

    assert (lambda_context, "all") in app.middleware_handlers
    context_keys = ["function_name", "function_request_id", "cold_start"]
    logger.remove_keys(context_keys)
    assert api.call("GET", "/v1/health").status == 200
    keys = logger.get_current_keys()
    assert keys["function_name"] == "api_handler" and keys["function_request_id"] and "cold_start" in keys
    http_request = keys["function_request_id"]

    logger.remove_keys(context_keys)
    answer = api.client.lambda_.invoke("escalations-overdue", api.client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))
    assert answer.payload is not None
    keys = logger.get_current_keys()
    assert keys["function_name"] == "escalations-overdue"
    assert keys["function_request_id"] and keys["function_request_id"] != http_request


def test_the_document_lists_the_problem_shape_of_a_415_and_keeps_the_old_one(api):
    document = api.call("GET", "/v1/openapi.json").json
    content = document["paths"]["/v1/sites"]["post"]["responses"]["415"]["content"]
    assert content["application/problem+json"]["schema"]["$ref"].endswith("/Problem")
    assert content["application/json"]["schema"]["$ref"].endswith("/GatewayError")
    fhir = document["paths"]["/fhir/R4/Appointment"]["post"]["responses"]["415"]["content"]
    assert fhir["application/fhir+json"]["schema"]["$ref"].endswith("/OperationOutcome")
