"""Issue 11 probes on the eligibility side: X12 echo safety, member lookups audited and limited, local connector."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

import pytest

from chalicelib.adapters.x12 import Envelope, write_270
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
