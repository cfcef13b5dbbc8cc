"""271 writer: the answer to an inquiry (the local payer simulator and POST /v1/eligibility/x12)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from . import codes
from .envelope import Envelope, check_envelope, render_interchange
from .hierarchy import aaa_segments, date_segments, default_originator_id, ref_segments, source_and_receiver
from .response import BenefitRow, EligibilityResponse
from .syntax import Comp, Rep, Value, X12Error, d8, hhmm, x12_decimal


def write_271(response: EligibilityResponse, envelope: Envelope) -> str:
    """A 271 answering ``response.inquiry``: echoes its names, ids, BHT03 and TRN (as TRN*2).

    The inquiry is echoed as received (a bad NPI or a missing birth date is answered with AAA,
    not refused). EB rows that differ only in EB03 are merged into one row with repeated EB03, as
    the TR3 requires (X12 RFIs 1422 and 2201).
    """
    check_envelope(envelope)
    inquiry = response.inquiry
    rel = inquiry.dependent.relationship if inquiry.dependent else None
    if rel is not None and rel not in codes.DEPENDENT_RELATIONSHIPS:
        raise X12Error("ELEMENT_INVALID", "must be 01, 19 or 34", segment="INS", element="INS02")
    originator = inquiry.trace_originator_id or default_originator_id(envelope.receiver_id)
    body: list[list[Value]] = [
        ["BHT", "0022", "11", inquiry.reference_id or inquiry.trace_number,
         d8(envelope.created_at.date()), hhmm(envelope.created_at)],
    ]
    parties = source_and_receiver(inquiry)
    body += [*parties[:2], *aaa_segments(response.information_source_errors)]
    body += [*parties[2:], *aaa_segments(response.information_receiver_errors)]
    traces = [["TRN", "2", inquiry.trace_number, originator]]
    if response.source_trace:
        t = response.source_trace
        traces.append(["TRN", "1", t.trace_number, t.originator_id or "", t.supplemental_id or ""])
    patient_part = [*date_segments(response.dates), *_benefit_segments(merge_service_types(response.benefits))]
    subscriber_nm1: list[Value] = ["NM1", "IL", "1", inquiry.last_name, inquiry.first_name, "", "", "",
                                    "MI", inquiry.member_id]
    dependent = inquiry.dependent
    body.append(["HL", "3", "2", codes.LEVEL_SUBSCRIBER, "0" if dependent is None else "1"])
    if dependent is None:
        body += [*traces, subscriber_nm1, *ref_segments(response.references),
                 *aaa_segments(response.subscriber_errors)]
        if inquiry.birth_date:
            body.append(["DMG", "D8", d8(inquiry.birth_date)])
        body += patient_part
    else:
        body += [subscriber_nm1, *ref_segments(response.references),
                 *aaa_segments(response.subscriber_errors),
                 ["HL", "4", "3", codes.LEVEL_DEPENDENT, "0"], *traces,
                 ["NM1", "03", "1", dependent.last_name, dependent.first_name],
                 *aaa_segments(response.dependent_errors),
                 ["DMG", "D8", d8(dependent.birth_date)]]
        if dependent.relationship:
            body.append(["INS", "N", dependent.relationship])
        body += patient_part
    return render_interchange("271", codes.FUNCTIONAL_ID_271, body, envelope)


def merge_service_types(rows: Iterable[BenefitRow]) -> tuple[BenefitRow, ...]:
    """Rows equal but for EB03 become one row with EB03 repeated (first occurrence keeps its place)."""
    merged: list[BenefitRow] = []
    for row in rows:
        for i, kept in enumerate(merged):
            if (row.service_type_codes and kept.service_type_codes
                    and replace(row, service_type_codes=()) == replace(kept, service_type_codes=())):
                codes_ = tuple(dict.fromkeys(kept.service_type_codes + row.service_type_codes))
                merged[i] = replace(kept, service_type_codes=codes_)
                break
        else:
            merged.append(row)
    return tuple(merged)


def _benefit_segments(rows: Sequence[BenefitRow]) -> list[list[Value]]:
    out: list[list[Value]] = []
    for row in rows:
        procedure: Value = ""
        if row.procedure:
            procedure = Comp((row.procedure.qualifier, row.procedure.code, *row.procedure.modifiers))
        out.append(["EB", row.code, row.coverage_level or "", Rep(row.service_type_codes),
                    row.insurance_type or "", row.plan_coverage or "", row.time_period or "",
                    x12_decimal(row.amount), x12_decimal(row.percent), row.quantity_qualifier or "",
                    x12_decimal(row.quantity), row.authorization_required or "",
                    row.in_plan_network or "", procedure])
        out += ref_segments(row.references)
        out += date_segments(row.dates)
        out += aaa_segments(row.aaa_errors)
        out += [["MSG", m] for m in row.messages]
        out += [["III", q, v] for q, v in row.additional_info]
        if row.entities:
            out.append(["LS", "2120"])
            out += [["NM1", e.entity_code, e.entity_type, e.name, e.first_name or "", "", "", "",
                     e.id_qualifier or "", e.id or ""] for e in row.entities]
            out.append(["LE", "2120"])
    return out
