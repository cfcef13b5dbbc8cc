"""Checks and raw 271s are PHI: nothing identifying in keys, logs or error bodies."""

from __future__ import annotations

import logging

import boto3
import pytest

from tests.eligibility.conftest import check_body, roster_entry

pytestmark = pytest.mark.api

MEMBER, FIRST, LAST, BIRTH = "ZQPHI4242", "Zebulon", "Quixotic", "1911-11-11"
PHI = [MEMBER, FIRST.upper(), LAST.upper(), FIRST, LAST, BIRTH, "19111111"]


def test_no_phi_in_any_key_log_or_error(services, scheduler, payer, payer_id, sim, capfd, caplog):
    sim.member(MEMBER, roster_entry(first=FIRST, last=LAST, birth=BIRTH))  # the test's own call: not captured
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    payer.put(f"/v1/payers/{payer_id}", {"name": "Acme", "connector": {"kind": "x12_http", "url": f"{sim.url}/x12"}})
    payer.put(f"/v1/payers/{payer_id}/members/{MEMBER}", roster_entry(first=FIRST, last=LAST, birth=BIRTH))
    member = {"member_id": MEMBER, "first_name": FIRST, "last_name": LAST, "birth_date": BIRTH}
    done = scheduler.post("/v1/eligibility/checks", check_body(payer_id, member=member)).json
    assert done["status"] == "active" and done["cached"] is False
    assert scheduler.post("/v1/eligibility/checks", check_body(payer_id, member=member)).json["cached"] is True
    sim.knobs(delay_seconds=2)
    slow = scheduler.post("/v1/eligibility/checks", check_body(payer_id, member=member, date_of_service="2026-03-10"))
    assert slow.json["status"] == "pending"
    sim.knobs(delay_seconds=None)
    checks = "/v1/eligibility/checks"
    errors = [scheduler.post(checks, check_body(payer_id, member={**member, "birth_date": "11/11"})),
              scheduler.post(checks, check_body(payer_id, member={**member, "member_id": MEMBER + "!"})),
              payer.post("/v1/eligibility/x12", raw=f"ISA*{MEMBER}*{LAST}~",
                         headers={"Content-Type": "application/edi-x12"})]
    assert [e.status for e in errors] == [400, 400, 400]
    for e in errors:
        assert not [p for p in PHI if p in e.raw.decode()], e.raw

    settings = services.settings
    client = boto3.client("dynamodb", region_name=settings.region)
    keys = [f"{i['pk']['S']}|{i['sk']['S']}" for page in client.get_paginator("scan").paginate(
        TableName=settings.main_table, ProjectionExpression="pk, sk") for i in page["Items"]]
    ours = [k for k in keys if payer_id in k or "#ELIG" in k]
    assert any(k.startswith(f"PAYER#{payer_id}|MEMBER#") for k in ours)
    assert any("#ELIGCACHE#" + payer_id in k for k in ours)
    assert not [k for k in keys if any(p in k for p in PHI)]

    out, err = capfd.readouterr()
    printed = out + err + "\n".join(r.getMessage() + str(vars(r)) for r in caplog.records)
    assert "payer did not answer in the budget" in printed  # the slow payer was logged, by ids and codes
    assert [p for p in PHI if p in printed] == []
