"""Real answers of the payer and eligibility routes fit the schemas GET /v1/openapi.json publishes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.eligibility.conftest import check_body, roster_entry

pytestmark = pytest.mark.api


@pytest.fixture(scope="module")
def document():
    from app import app  # noqa: F401 - declares every route
    from chalicelib.api.openapi import build_document

    return build_document()


def _fits(document, path, method, response):
    from jsonschema import Draft202012Validator

    answer = document["paths"][path][method]["responses"][str(response.status)]
    content_type = response.headers["Content-Type"]
    assert content_type in answer["content"], (path, method, response.status, content_type)
    schema = answer["content"][content_type]["schema"]
    if content_type != "application/json" and not content_type.endswith("+json"):
        return schema
    validator = Draft202012Validator({**schema, "components": document["components"]})
    errors = sorted(str(e) for e in validator.iter_errors(response.json))
    assert not errors, (path, method, response.status, errors)
    return schema


def test_payer_member_check_and_x12_answers_fit_the_document(document, payer, payer_id, scheduler, x12_payer, sim):
    from chalicelib.x12.write_270 import write_270
    from tests.eligibility.test_x12_api import ENVELOPE
    from tests.x12.conftest import JANE_90834

    put = payer.put(f"/v1/payers/{payer_id}", {"name": "Acme", "connector": {"kind": "x12_http",
                                                                               "url": f"{sim.url}/x12"}})
    _fits(document, "/v1/payers/{payer_id}", "put", put)
    _fits(document, "/v1/payers/{payer_id}", "get", payer.get(f"/v1/payers/{payer_id}"))
    member = payer.put(f"/v1/payers/{payer_id}/members/W100200300", roster_entry())
    _fits(document, "/v1/payers/{payer_id}/members/{member_id}", "put", member)
    refused = payer.put(f"/v1/payers/{payer_id}", {"name": "Acme", "connector": {"kind": "x12_http",
                                                                                 "url": "http://10.0.0.1/"}})
    _fits(document, "/v1/payers/{payer_id}", "put", refused)

    active = scheduler.post("/v1/eligibility/checks", check_body(payer_id))
    _fits(document, "/v1/eligibility/checks", "post", active)
    sim.knobs(http_status=503)
    pending = scheduler.post("/v1/eligibility/checks", check_body(payer_id, date_of_service="2026-03-10"))
    assert pending.json["status"] == "pending"
    _fits(document, "/v1/eligibility/checks", "post", pending)
    unknown = scheduler.post("/v1/eligibility/checks", check_body("no-such-payer"))
    _fits(document, "/v1/eligibility/checks", "post", unknown)
    read = scheduler.get(f"/v1/eligibility/checks/{active.json['check_id']}?include=raw271")
    _fits(document, "/v1/eligibility/checks/{check_id}", "get", read)
    _fits(document, "/v1/eligibility/checks/{check_id}", "get", scheduler.get("/v1/eligibility/checks/nope"))

    x12 = payer.post("/v1/eligibility/x12", raw=write_270(replace(JANE_90834, payer_id=payer_id), ENVELOPE),
                     headers={"Content-Type": "application/edi-x12"})
    assert x12.status == 200
    assert _fits(document, "/v1/eligibility/x12", "post", x12)["$ref"].endswith("/X12Text")
    wrong = payer.post("/v1/eligibility/x12", raw=b"ISA")
    _fits(document, "/v1/eligibility/x12", "post", wrong)
