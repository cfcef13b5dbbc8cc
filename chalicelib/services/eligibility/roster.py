"""The roster connector: a payer's inquiry answered from the members it uploaded, in process.

The same matching as a clearinghouse: provider NPI check digit (AAA 43), subscriber birth date
present (58), member id (75), last name (73), birth date (71); a dependent is not on a roster (67).
Inactive on the date of service: EB*6. Active: EB*1 for 30 and the asked types, then per asked
type copay (B/27), coinsurance (A/27), deductible and out-of-pocket remaining (C/29, G/29), all
in-network rows (EB12 = Y).

A check reads the answer as the 271 reader would (x12/answer_in_process.py): no 271 text is
written and tokenized again in the same process. POST /v1/eligibility/x12 writes it as a 271.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from ...domain.ports import PayerStore

if TYPE_CHECKING:
    from ...x12.inquiry import EligibilityInquiry
    from ...x12.response import EligibilityResponse

GENERIC_SERVICE_TYPE = "30"


class RosterConnector:
    def __init__(self, roster: PayerStore) -> None:
        self.roster = roster

    def respond(self, payer_id: str, inquiry: EligibilityInquiry) -> EligibilityResponse:
        from ...x12.inquiry import is_valid_npi
        from ...x12.response import BenefitRow, DateInfo, EligibilityResponse, aaa

        if not is_valid_npi(inquiry.provider_npi):
            return EligibilityResponse(inquiry, information_receiver_errors=(
                aaa("43", "C", valid_request=False, level="information_receiver"),))
        if inquiry.dependent is None and inquiry.birth_date is None:
            return EligibilityResponse(inquiry, subscriber_errors=(aaa("58", "C", valid_request=False),))
        member = self.roster.get_member(payer_id, inquiry.member_id)
        if member is None:
            return EligibilityResponse(inquiry, subscriber_errors=(aaa("75", "C"),))
        if member.last_name.upper() != inquiry.last_name.upper():
            return EligibilityResponse(inquiry, subscriber_errors=(aaa("73", "C", valid_request=False),))
        if inquiry.dependent is not None:
            return EligibilityResponse(inquiry, dependent_errors=(aaa("67", "C", level="dependent"),))
        if inquiry.birth_date != member.birth_date:
            return EligibilityResponse(inquiry, subscriber_errors=(aaa("71", "C"),))
        dates = (DateInfo("346", member.active_from),
                 *((DateInfo("347", member.active_to),) if member.active_to else ()))
        plan = (member.plan_name or "")[:50] or None
        if not member.active_on(inquiry.date_of_service):
            return EligibilityResponse(inquiry, dates=dates, benefits=(
                BenefitRow("6", "IND", (GENERIC_SERVICE_TYPE,), plan_coverage=plan),))
        asked = tuple(dict.fromkeys(inquiry.service_type_codes))
        rows = [BenefitRow("1", "IND", tuple(dict.fromkeys((GENERIC_SERVICE_TYPE, *asked))), plan_coverage=plan)]
        b = member.benefits
        for code in asked:
            for eb, period, attr, value in (("B", "27", "amount", b.copay), ("A", "27", "percent", b.coinsurance),
                                            ("C", "29", "amount", b.deductible_remaining),
                                            ("G", "29", "amount", b.out_of_pocket_remaining)):
                number = _decimal(value)
                if number is not None:
                    rows.append(replace(BenefitRow(eb, "IND", (code,), time_period=period, in_plan_network="Y"),
                                        **{attr: number}))
        return EligibilityResponse(inquiry, dates=dates, benefits=tuple(rows))


def _decimal(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None
