"""Issue 11 probes on the eligibility side: X12 echo safety, member lookups audited and limited, local connector."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

import pytest

from chalicelib.x12.envelope import Envelope
from chalicelib.x12.write_270 import write_270
from tests.eligibility.conftest import roster_entry
from tests.x12.conftest import JANE_90834

pytestmark = pytest.mark.api
EDI = {"Content-Type": "application/edi-x12"}
ENVELOPE = Envelope(sender_id="CLEARHOUSE", receiver_id="HCORCH", interchange_control_number=4242,
                    group_control_number=77, created_at=datetime(2026, 3, 2, 9, 15))


@pytest.fixture
def roster_payer(payer, payer_id):
    assert payer.put(f"/v1/payers/{payer_id}", {"name": "Roster Plan", "connector": {"kind": "roster"}}).status == 200
    assert payer.put(f"/v1/payers/{payer_id}/members/W100200300", roster_entry()).status == 200
    return payer_id


@pytest.mark.parametrize("eq", ["EQ*MH:A6^30", "EQ*MH^A6:1", "EQ*LONGCODE"])
def test_a_270_whose_service_types_a_271_could_not_echo_is_a_400(payer, roster_payer, eq):
    text = re.sub(r"EQ\*[^~]*", eq, write_270(replace(JANE_90834, payer_id=roster_payer), ENVELOPE))
    r = payer.post("/v1/eligibility/x12", raw=text, headers=EDI)
    assert r.status == 400, r.raw[:300]
    assert r.json["code"] == "VALIDATION_ERROR" and r.json["errors"][0]["field"] == "body"


def test_a_tenants_member_lookup_lands_in_the_payers_own_log_with_a_pseudonym_and_the_asking_tenant(
        api, scheduler, payer, roster_payer):
    from tests.eligibility.conftest import check_body

    r = scheduler.post("/v1/eligibility/checks", check_body(roster_payer))
    assert r.status == 200, r.json
    text = _270(roster_payer)
    assert scheduler.post("/v1/eligibility/x12", raw=text, headers=EDI).status == 200
    own = payer.get(f"/v1/payers/{roster_payer}/audit")
    assert own.status == 200
    lookups = [e for e in own.json["items"] if e["action"] in ("eligibility.check.create", "eligibility.x12")]
    # Both happen at the same instant of the fake clock: entries of one instant have no order among them.
    assert sorted(e["action"] for e in lookups) == ["eligibility.check.create", "eligibility.x12"]
    assert all(e["asking_tenant"] == api.tenant and e["actor"]["role"] == "scheduler" for e in lookups)
    assert lookups[0]["member"] and lookups[0]["member"] == lookups[1]["member"]
    assert b"W100200300" not in own.raw and b"JANE" not in own.raw


def _270(payer_id: str) -> str:
    return write_270(replace(JANE_90834, payer_id=payer_id), ENVELOPE)


@pytest.fixture
def tight_limits(services):
    limiter = services.rate_limiter
    saved = dict(limiter.limits)
    limiter.limits.update({"eligibility": (100, 60), "eligibility_tenant": (3, 60), "eligibility_payer": (5, 60)})
    yield
    limiter.limits.clear()
    limiter.limits.update(saved)


def test_member_lookups_are_limited_per_tenant_whatever_token_asks(api, roster_payer, tight_limits):
    statuses = [api.as_role("scheduler").post("/v1/eligibility/x12", raw=_270(roster_payer), headers=EDI).status
                for _ in range(4)]  # a fresh token (new sub) each time
    assert statuses == [200, 200, 200, 429]


def test_member_lookups_are_limited_per_payer_across_tenants(api, roster_payer, tight_limits):
    statuses = []
    for tenant in ("tenant-a1", "tenant-b1", "tenant-c1"):
        scheduler = api.as_role("scheduler")
        scheduler.token = api.token("scheduler", tenant=f"{tenant}-{roster_payer}")
        statuses += [scheduler.post("/v1/eligibility/x12", raw=_270(roster_payer), headers=EDI).status
                     for _ in range(2)]
    assert statuses == [200, 200, 200, 200, 200, 429]
    r = api.as_role("scheduler").post("/v1/eligibility/x12", raw=_270(roster_payer), headers=EDI)
    assert r.status == 429 and r.json["code"] == "RATE_LIMITED"


def test_an_eligibility_check_for_an_unknown_patient_id_is_a_404_and_not_recorded(scheduler, admin, roster_payer):
    from tests.eligibility.conftest import check_body

    r = scheduler.post("/v1/eligibility/checks", check_body(roster_payer, patient_id="pat_nobody"))
    assert r.status == 404 and r.json["code"] == "NOT_FOUND"
    entries = admin.get("/v1/audit?patient_id=pat_nobody").json["items"]
    assert all(e["action"] != "eligibility.check.create" for e in entries)


def test_a_payer_answer_that_is_not_x12_is_an_error_and_is_not_stored(scheduler, payer, payer_id, sim):
    from tests.eligibility.conftest import check_body

    r = payer.put(f"/v1/payers/{payer_id}", {"name": "Odd Plan",
                                              "connector": {"kind": "x12_http", "url": f"{sim.url}/admin/reset"}})
    assert r.status == 200
    c = scheduler.post("/v1/eligibility/checks", check_body(payer_id))
    assert c.status == 200 and c.json["status"] == "error" and c.json["error"] == "x12_response_invalid"
    raw = scheduler.get(f"/v1/eligibility/checks/{c.json['check_id']}?include=raw271").json
    assert raw["raw_271"] is None
