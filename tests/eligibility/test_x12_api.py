"""POST /v1/eligibility/x12: a 270 in, a 271 out, answered from the roster of the payer the 270 names."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import date, datetime

import pytest

from chalicelib.x12.benefits import summarize_benefits
from chalicelib.x12.envelope import Envelope
from chalicelib.x12.read_271 import parse_271
from chalicelib.x12.syntax import Separators
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


def _270(payer_id: str, **changes) -> str:
    return write_270(replace(JANE_90834, payer_id=payer_id, **changes), ENVELOPE)


def test_a_270_gets_a_271_that_echoes_the_trace_and_carries_the_benefit_rows(payer, roster_payer):
    r = payer.post("/v1/eligibility/x12", raw=_270(roster_payer), headers=EDI)

    assert r.status == 200, r.raw
    assert r.headers["Content-Type"] == "application/edi-x12"
    text = r.raw.decode()
    assert text.startswith("ISA*00*") and "~ST*271*0001*005010X279A1~" in text
    parsed = parse_271(text)  # envelope, SE/GE/IEA counts and control numbers are checked by the reader
    assert parsed.echoed_trace_numbers == ("CHK-90834-0001",)
    assert "~TRN*2*CHK-90834-0001*" in text
    assert (parsed.envelope.sender_id, parsed.envelope.receiver_id) == ("HCORCH", "CLEARHOUSE")
    assert parsed.payer is not None and parsed.payer.id == roster_payer
    rows = [(b.code, b.service_type_codes, b.time_period, b.amount, b.percent, b.in_plan_network)
            for b in parsed.benefits]
    assert rows[0][:2] == ("1", ("30", "MH", "A6"))
    assert ("B", ("MH", "A6"), "27", 25, None, "Y") in rows  # equal rows share one EB with EB03 repeated
    assert "~EB*1*IND*30^MH^A6**GOLD PPO 500~" in text
    assert "~EB*B*IND*MH^A6***27*25*****Y~" in text
    assert "~EB*A*IND*MH^A6***27**.2****Y~" in text
    summary = summarize_benefits(parsed, ["MH", "A6"])
    assert summary.status == "active"
    assert asdict(summary.benefits) == {"copay": "25.00", "coinsurance": "0.2", "deductible_remaining": "350.50",
                                       "out_of_pocket_remaining": "2100.00", "in_network": None}
    assert (summary.plan_begin, summary.plan_end) == (date(2026, 1, 1), date(2026, 12, 31))


def test_a_scheduler_may_ask_too_and_separators_come_from_the_isa(scheduler, roster_payer):
    odd = replace(ENVELOPE, separators=Separators(element="|", repetition="!", component=">", segment="~"))
    r = scheduler.post("/v1/eligibility/x12", raw=write_270(replace(JANE_90834, payer_id=roster_payer), odd),
                       headers=EDI)

    assert r.status == 200, r.raw
    text = r.raw.decode()
    assert text.startswith("ISA|00|") and "~EB|B|IND|MH!A6|||27|25|||||Y~" in text
    assert parse_271(text).echoed_trace_numbers == ("CHK-90834-0001",)


def test_roster_outcomes_as_aaa_errors(payer, roster_payer):
    unknown = parse_271(payer.post("/v1/eligibility/x12", raw=_270(roster_payer, member_id="W999"),
                                   headers=EDI).raw.decode())
    wrong_birth = parse_271(payer.post("/v1/eligibility/x12", raw=_270(roster_payer, birth_date=date(1985, 4, 13)),
                                       headers=EDI).raw.decode())
    later = parse_271(payer.post("/v1/eligibility/x12", raw=_270(roster_payer, date_of_service=date(2027, 1, 4)),
                                 headers=EDI).raw.decode())

    assert [a.code for a in unknown.aaa_errors] == ["75"]
    assert [a.code for a in wrong_birth.aaa_errors] == ["71"]
    assert summarize_benefits(later, ["MH"]).status == "inactive"


def test_a_payer_cannot_ask_about_another_payers_roster(api, roster_payer):
    other = api.as_role("payer", payer_id="another-payer")

    r = other.post("/v1/eligibility/x12", raw=_270(roster_payer), headers=EDI)

    assert (r.status, r.json["code"]) == (404, "NOT_FOUND")
    assert "DOE" not in r.raw.decode() and "W100200300" not in r.raw.decode()


def test_wrong_content_type_bad_x12_and_unknown_payers_are_refused(payer, roster_payer, scheduler):
    wrong_type = payer.post("/v1/eligibility/x12", raw=_270(roster_payer))  # application/json
    assert (wrong_type.status, wrong_type.json["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert wrong_type.headers["Content-Type"] == "application/problem+json" and "json" not in wrong_type.json["detail"]
    garbage = payer.post("/v1/eligibility/x12", raw=b"ISA*not really x12~", headers=EDI)
    assert garbage.status == 400 and garbage.json["code"] == "VALIDATION_ERROR"
    assert garbage.json["errors"][0]["field"] == "body"
    unknown = scheduler.post("/v1/eligibility/x12", raw=_270("no-such-payer"), headers=EDI)
    assert (unknown.status, unknown.json["code"]) == (404, "NOT_FOUND")
    unauthenticated = payer.api.call("POST", "/v1/eligibility/x12", raw=_270(roster_payer), headers=EDI)
    assert (unauthenticated.status, unauthenticated.json["code"]) == (401, "UNAUTHENTICATED")
