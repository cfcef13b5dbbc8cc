"""A roster answer read in process (no 271 text) reads exactly as its 271 written and parsed back."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from chalicelib.domain.eligibility import RosterBenefits, RosterMember
from chalicelib.services.eligibility.roster import RosterConnector
from chalicelib.x12.answer_in_process import as_read
from chalicelib.x12.benefits import summarize_benefits
from chalicelib.x12.envelope import Envelope
from chalicelib.x12.inquiry import Dependent
from chalicelib.x12.read_271 import parse_271
from chalicelib.x12.write_271 import write_271
from tests.x12.conftest import JANE_90834

pytestmark = pytest.mark.unit

JANE = RosterMember("W100200300", "Jane", "Doe", date(1985, 4, 12), "GOLD PPO 500", date(2026, 1, 1),
                    date(2026, 12, 31), RosterBenefits("25", "0.2", "350.5", "2100"))


class OneMember:
    def get_member(self, payer_id: str, member_id: str) -> RosterMember | None:
        return JANE if member_id == JANE.member_id else None


@pytest.mark.parametrize("inquiry", [
    JANE_90834,
    replace(JANE_90834, member_id="X1"),  # AAA 75
    replace(JANE_90834, provider_npi="1234567890"),  # AAA 43 at 2100B
    replace(JANE_90834, birth_date=None),  # AAA 58
    replace(JANE_90834, last_name="SMITH"),  # AAA 73
    replace(JANE_90834, birth_date=date(1990, 1, 1)),  # AAA 71
    replace(JANE_90834, date_of_service=date(2027, 2, 1)),  # inactive
    replace(JANE_90834, dependent=Dependent("SAM", "DOE", date(2014, 1, 1), "19"), birth_date=None),  # AAA 67
])
@pytest.mark.parametrize("asked", [["MH", "A6"], ["30"], ["A6"]])
@pytest.mark.parametrize("in_network", [None, True, False])
def test_an_in_process_answer_summarizes_like_its_271(inquiry, asked, in_network):
    response = RosterConnector(OneMember()).respond("acme", inquiry)
    text = write_271(response, Envelope("PAYER", "HCORCH", 1, 1, datetime(2026, 3, 1, 12)))

    read, parsed = as_read(response), parse_271(text)

    def summary(p):
        return summarize_benefits(p, asked, provider_in_network=in_network, procedure_code="90834",
                                  places_of_service=("10", "02"))
    assert summary(read) == summary(parsed)
    assert read.echoed_trace_numbers == parsed.echoed_trace_numbers == (inquiry.trace_number,)
