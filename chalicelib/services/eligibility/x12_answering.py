"""POST /v1/eligibility/x12: a 271 for a 270, from the roster of the payer the 270 names (NM1*PR ... PI*payer_id)."""

from __future__ import annotations

import re
from collections.abc import Callable
from zoneinfo import ZoneInfo

from ...domain.access import Caller
from ...domain.errors import FieldError, NotFound, ValidationFailed
from ...domain.ports import Clock, ControlNumberCounter
from .checks import EligibilityChecks, owner_of
from .roster import RosterConnector


class X12Answering:
    def __init__(self, checks: EligibilityChecks, roster: RosterConnector, control_numbers: ControlNumberCounter,
                 clock: Clock) -> None:
        self.checks, self.roster, self.control_numbers, self.clock = checks, roster, control_numbers, clock

    def answer_270(self, caller: Caller, text: str, before_answer: Callable[[str], None] | None = None) -> str:
        from ...x12.read_270 import parse_270
        from ...x12.syntax import X12Error
        from ...x12.write_271 import write_271

        now = self.clock()
        try:
            parsed = parse_270(text, default_date_of_service=now.date())
        except X12Error as exc:
            raise ValidationFailed("The 270 cannot be read.", errors=[FieldError("body", str(exc))]) from exc
        payer_id = parsed.inquiry.payer_id
        owner = owner_of(caller)
        if owner.kind == "payer" and payer_id != caller.payer_id:
            raise NotFound("No such payer.")
        if (not re.fullmatch(r"[A-Za-z0-9_-]{2,64}", payer_id)
                or self.checks.payers.resolve_payer(payer_id, now.date()) is None):
            raise NotFound("No such payer.")
        if before_answer is not None:
            before_answer(payer_id)  # the per-tenant and per-payer limits, once the payer is known
        response = self.roster.respond(payer_id, parsed.inquiry)
        info = parsed.envelope
        control = self.control_numbers.next(info.receiver_qualifier, info.receiver_id)
        try:
            answer = write_271(response, parsed.envelope.reply(
                interchange_control_number=control, group_control_number=control,
                created_at=now.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)))
        except X12Error as exc:  # whatever the 271 must echo, the reader let through but the writer refuses
            raise ValidationFailed("The 270 holds values a 271 cannot echo.",
                                   errors=[FieldError("body", str(exc))]) from exc
        self.checks.audit_lookup(caller, owner, payer_id, parsed.inquiry.member_id, "eligibility.x12",
                                 f"payer/{payer_id}/x12", None, "success")
        return answer
