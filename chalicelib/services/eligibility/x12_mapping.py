"""A check as X12 (the 270's inquiry and envelope) and a payer's answer as a check's PayerAnswer.

The X12 codec (chalicelib/x12) is imported here on first use only: it is never part of a cold start.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ...domain.eligibility import (
    AaaEntry,
    AckEntry,
    CheckRequest,
    PayerAnswer,
    Rejection,
    places_of_service,
)
from ...domain.errors import DomainError, FieldError
from ...domain.ports import ControlNumberCounter
from ...observability import logger
from .payers import ResolvedPayer

if TYPE_CHECKING:
    from ...settings import EligibilitySettings
    from ...x12.envelope import Envelope
    from ...x12.inquiry import EligibilityInquiry
    from ...x12.response import Parsed271


class NotSendable(DomainError):
    """A value that the payer's X12 connection cannot carry (a letter its character set lacks, a
    delimiter in a member id): refused and named, never silently mangled."""

    code = "X12_VALUE_NOT_SENDABLE"
    status = 422
    title = "A value cannot be sent to this payer"


def trace_number(check_id: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", check_id.upper())[:50]


def _charset(payer: ResolvedPayer) -> str:
    assert payer.connector is not None
    return "extended" if payer.connector.x12.character_set == "extended" else "basic"


def inquiry_for(payer: ResolvedPayer, r: CheckRequest, trace: str) -> EligibilityInquiry:
    """The 270's content in the connector's character set (raises NotRepresentable)."""
    from ...x12.inquiry import Dependent, EligibilityInquiry
    from ...x12.text import x12_text

    assert payer.connector is not None
    partner = payer.connector.x12
    charset = _charset(payer)

    def text(value: str, length: int) -> str:
        return x12_text(value, length, charset)  # type: ignore[arg-type]

    if partner.provider_entity == "organization":
        provider_name = text(partner.organization_name or r.provider_name, 60)
        provider_first, npi = None, partner.organization_npi or r.provider_npi
    else:
        provider_name = text(r.provider_name, 60)
        provider_first = text(r.provider_first_name, 35) if r.provider_first_name else None
        npi = r.provider_npi
    d = r.dependent
    dependent = (Dependent(text(d.first_name, 35), text(d.last_name, 60), d.birth_date, d.relationship)
                 if d else None)
    return EligibilityInquiry(
        payer_id=payer.payer_id, payer_name=text(payer.name, 60), provider_npi=npi,
        provider_name=provider_name, provider_first_name=provider_first, member_id=r.member_id.upper(),
        first_name=text(r.first_name, 35), last_name=text(r.last_name, 60),
        birth_date=None if d else r.birth_date, dependent=dependent,
        date_of_service=r.date_of_service, service_type_codes=r.service_type_codes, trace_number=trace)


def vet_sendable(payer: ResolvedPayer, r: CheckRequest) -> None:
    """A JSON check whose names or member id the payer's connection cannot carry: 422 naming them."""
    from ...x12.text import NotRepresentable, x12_text

    charset = _charset(payer)
    fields = [("member.first_name", r.first_name), ("member.last_name", r.last_name)]
    if r.dependent:
        fields += [("dependent.first_name", r.dependent.first_name),
                   ("dependent.last_name", r.dependent.last_name)]
    errors = []
    for name, value in fields:
        try:
            x12_text(value, 60, charset)  # type: ignore[arg-type]
        except NotRepresentable:
            errors.append(FieldError(name, "has letters this payer's X12 character set cannot carry"))
    if not re.fullmatch(r"[A-Z0-9-]{2,80}", r.member_id.upper()):
        errors.append(FieldError("member.member_id", "must be 2 to 80 letters, digits or hyphens"))
    if errors:
        raise NotSendable("A value cannot be sent to this payer.", errors=errors)


def envelope_for(payer: ResolvedPayer, now: datetime, settings: EligibilitySettings,
                 control_numbers: ControlNumberCounter) -> Envelope:
    """ISA/GS per the connector: our sender id, the clearinghouse as receiver, the stage's usage
    indicator, and a control number from the sender's atomic counter."""
    from ...x12.envelope import Envelope

    assert payer.connector is not None
    partner = payer.connector.x12
    sender = partner.sender_id or settings.x12_sender_id
    receiver = partner.receiver_id or (re.sub(r"[^A-Z0-9]", "", payer.payer_id.upper())[:15] or "PAYER")
    control = control_numbers.next(partner.sender_qualifier, sender)
    usage = partner.usage_indicator or settings.x12_usage_indicator
    return Envelope(sender_id=sender, receiver_id=receiver.ljust(2, "0"), sender_qualifier=partner.sender_qualifier,
                    receiver_qualifier=partner.receiver_qualifier,
                    application_receiver_code=partner.application_receiver_code,
                    interchange_control_number=control, group_control_number=control,
                    usage_indicator=usage,  # type: ignore[arg-type]
                    created_at=now.astimezone(ZoneInfo("UTC")).replace(tzinfo=None))


def reply_envelope(sent: Envelope, created_at: datetime) -> Envelope:
    """The envelope of the answer to ``sent``: sender and receiver swapped, same control number and usage."""
    from ...x12.envelope import Envelope

    return Envelope(sender_id=sent.receiver_id, receiver_id=sent.sender_id, sender_qualifier=sent.receiver_qualifier,
                    receiver_qualifier=sent.sender_qualifier,
                    application_sender_code=sent.application_receiver_code or sent.receiver_id,
                    application_receiver_code=sent.application_sender_code or sent.sender_id,
                    interchange_control_number=sent.interchange_control_number,
                    group_control_number=sent.group_control_number, created_at=created_at,
                    usage_indicator=sent.usage_indicator, separators=sent.separators)


def is_x12(raw: str) -> bool:
    """A 271, or the clearinghouse's TA1/999 rejection of our 270 (read for its codes): anything else that
    answers 200 (an HTML page, JSON, another service) is not a payer answer and is never stored."""
    from ...x12.ack import read_acknowledgment
    from ...x12.read_271 import parse_271
    from ...x12.syntax import X12Error

    try:
        parse_271(raw)
    except X12Error:
        return read_acknowledgment(raw) is not None
    return True


def answer_from_271(raw: str, request: CheckRequest, trace: str | None, *,
                    payer: ResolvedPayer | None = None) -> PayerAnswer:
    """A raw 271 (or the TA1/999 sent in its place) as the check's answer."""
    from ...x12.ack import read_acknowledgment
    from ...x12.read_271 import parse_271
    from ...x12.syntax import X12Error

    try:
        parsed = parse_271(raw)
    except X12Error as exc:
        ack = read_acknowledgment(raw)
        if ack is not None and not ack.accepted:
            logger.info("270 rejected by the clearinghouse", extra={"ack": ack.kind, "ack_code": ack.ack_code,
                                                                     "codes": [c.code for c in ack.codes]})
            return PayerAnswer("error", rejection=Rejection(ack.kind, ack.ack_code, tuple(
                AckEntry(c.code, c.description, c.segment, c.element) for c in ack.codes)))
        logger.info("unreadable 271", extra={"x12_error": exc.code})
        return PayerAnswer("error")
    return answer_from_parsed(parsed, request, trace, payer=payer)


def answer_from_parsed(parsed: Parsed271, request: CheckRequest, trace: str | None, *,
                       payer: ResolvedPayer | None = None) -> PayerAnswer:
    from ...x12.benefits import summarize_benefits

    # A payer-level AAA (2100A/2100B) may end the 271 before any member loop: there is no TRN to
    # echo, and the AAA (retryable or not) is the answer.
    payer_level_only = (parsed.subscriber is None and parsed.dependent is None
                        and any(e.level in ("information_source", "information_receiver")
                                for e in parsed.aaa_errors))
    if trace is not None and trace not in parsed.echoed_trace_numbers and not payer_level_only:
        return PayerAnswer("error", aaa_errors=(AaaEntry("TRACE", "The 271 does not echo our TRN", "envelope"),))
    places = places_of_service(payer.policy.terms, request.modality, request.patient_location_type) if payer \
        else ()
    answer = summarize_benefits(parsed, request.service_type_codes, provider_in_network=request.provider_in_network,
                                procedure_code=request.service, places_of_service=places)
    if answer.warnings:
        logger.info("271 read around", extra={"warnings": list(answer.warnings)})
    return answer
