"""270 reader: a 270 back into an inquiry (the local payer and POST /v1/eligibility/x12)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from . import codes
from .envelope import single_transaction
from .hierarchy import MemberDraft, member_segment, read_entity, walk_levels
from .inquiry import SERVICE_TYPE, Dependent, EligibilityInquiry, Parsed270
from .response import Entity
from .syntax import Segment, X12Error


def parse_270(text: str, *, default_date_of_service: date | None = None) -> Parsed270:
    """Read a 005010X279A1 270 back into an inquiry (the local payer and POST /v1/eligibility/x12).

    A 270 without DTP*291 asks about the payer's processing date: pass it as
    ``default_date_of_service`` (this module reads no clock).
    """
    envelope, tx = single_transaction(text, "270", codes.FUNCTIONAL_ID_270)
    seps = envelope.separators
    parties: dict[str, Entity] = {}
    drafts: dict[str, MemberDraft] = {}
    hl_seen: dict[str, str] = {}
    for level, hl_id, segment in walk_levels(tx.segments):
        if hl_seen.setdefault(level, hl_id) != hl_id:
            raise X12Error("UNSUPPORTED_BATCH", "more than one payer, provider or member in one 270",
                           position=segment.position)
        if level in (codes.LEVEL_INFORMATION_SOURCE, codes.LEVEL_INFORMATION_RECEIVER):
            if segment.id == "NM1":
                parties[level] = read_entity(segment)
            continue
        name: Literal["subscriber", "dependent"] = (
            "subscriber" if level == codes.LEVEL_SUBSCRIBER else "dependent")
        member_segment(drafts.setdefault(name, MemberDraft(name)), segment, seps)
    return Parsed270(_inquiry_from(parties, drafts, tx.segments[0], default_date_of_service), envelope)


def _inquiry_from(parties: dict[str, Entity], drafts: dict[str, MemberDraft], bht: Segment,
                  default_date_of_service: date | None) -> EligibilityInquiry:
    payer = parties.get(codes.LEVEL_INFORMATION_SOURCE)
    provider = parties.get(codes.LEVEL_INFORMATION_RECEIVER)
    subscriber = drafts.get("subscriber")
    if payer is None or provider is None or subscriber is None or not subscriber.names:
        raise X12Error("MISSING_SEGMENT", "the 270 needs NM1 for the payer, the provider and the subscriber",
                       segment="NM1")
    dependent_draft = drafts.get("dependent")
    patient = dependent_draft or subscriber
    if not patient.eq_codes:
        raise X12Error("MISSING_SEGMENT", "the patient's loop has no EQ", segment="EQ")
    if not all(SERVICE_TYPE.fullmatch(code) for code in patient.eq_codes):
        # A code the 271 must echo (EB03) that holds a separator or other text could never be written back.
        raise X12Error("ELEMENT_INVALID", "service type codes are 1 to 3 letters or digits", segment="EQ",
                       element="EQ01")
    trace = next((t for t in patient.trace_numbers if t.type_code == "1"), None)
    if trace is None:
        raise X12Error("MISSING_SEGMENT", "the patient's loop has no TRN*1", segment="TRN")
    service_date = next((d.start for d in patient.dates + subscriber.dates if d.qualifier == codes.DATE_PLAN),
                        default_date_of_service)
    if service_date is None:
        raise X12Error("MISSING_SEGMENT", "no DTP*291 date of service", segment="DTP")
    dependent = None
    if dependent_draft is not None:
        if dependent_draft.birth_date is None:
            raise X12Error("MISSING_SEGMENT", "the dependent has no DMG birth date", segment="DMG")
        dependent = Dependent(first_name=dependent_draft.names.get("first") or "",
                              last_name=dependent_draft.names.get("last") or "",
                              birth_date=dependent_draft.birth_date,
                              relationship=dependent_draft.relationship)
    reference = bht.opt(3)
    return EligibilityInquiry(
        payer_id=payer.id or "", payer_name=payer.name, provider_npi=provider.id or "",
        provider_name=provider.name,
        provider_first_name=provider.first_name if provider.entity_type == "1" else None,
        member_id=subscriber.names.get("id") or "", first_name=subscriber.names.get("first") or "",
        last_name=subscriber.names.get("last") or "", birth_date=subscriber.birth_date,
        date_of_service=service_date, service_type_codes=tuple(dict.fromkeys(patient.eq_codes)),
        trace_number=trace.trace_number, dependent=dependent, trace_originator_id=trace.originator_id,
        reference_id=reference if reference != trace.trace_number else None,
    )
