"""270 writer: a byte-exact, deterministic 005010X279A1 inquiry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from . import codes
from .envelope import Envelope, check_envelope, render_interchange
from .hierarchy import default_originator_id, source_and_receiver
from .inquiry import SERVICE_TYPE, EligibilityInquiry, is_valid_npi
from .syntax import Rep, Value, X12Error, check_length, d8, hhmm

EqStyle = Literal["repetition", "segments"]


def write_270(inquiry: EligibilityInquiry, envelope: Envelope, *,
              eq_style: EqStyle = "repetition") -> str:
    """A byte-exact, deterministic 270 for one inquiry.

    ``eq_style="repetition"`` (default) writes one EQ whose EQ01 repeats the service type codes
    (``EQ*MH^A6``): 5010 made EQ01 repeatable (up to 99) for service types that share one date
    and one set of qualifiers, it keeps a single 2110C/D loop, and it mirrors the 271 rule that
    rows differing only in service type are sent as one EB with EB03 repeated. ``"segments"``
    writes one EQ (one 2110C/D loop) per code, for partners whose companion guide asks for that.
    Codes go in the order given (most specific first): payers that read only one use the first.
    """
    check_envelope(envelope)
    check_inquiry(inquiry)
    originator = inquiry.trace_originator_id or default_originator_id(envelope.sender_id)
    _check_originator(originator)
    body: list[list[Value]] = [
        ["BHT", "0022", "13", inquiry.reference_id or inquiry.trace_number,
         d8(envelope.created_at.date()), hhmm(envelope.created_at)],
        *source_and_receiver(inquiry),
    ]
    trace: list[Value] = ["TRN", "1", inquiry.trace_number, originator]
    subscriber_nm1: list[Value] = ["NM1", "IL", "1", inquiry.last_name, inquiry.first_name, "", "", "",
                                    "MI", inquiry.member_id]
    eligibility = [["DTP", codes.DATE_PLAN, "D8", d8(inquiry.date_of_service)],
                   *_eq_segments(inquiry.service_type_codes, eq_style)]
    dependent = inquiry.dependent
    if dependent is None:
        if inquiry.birth_date is None:
            raise X12Error("ELEMENT_INVALID", "the subscriber's birth date is required when the subscriber "
                           "is the patient", segment="DMG", element="DMG02")
        body += [["HL", "3", "2", codes.LEVEL_SUBSCRIBER, "0"], trace, subscriber_nm1,
                 ["DMG", "D8", d8(inquiry.birth_date)], *eligibility]
    else:
        # The dependent's primary search option is the subscriber's member id plus the
        # dependent's name and birth date; subscriber demographics and INS are not sent.
        body += [["HL", "3", "2", codes.LEVEL_SUBSCRIBER, "1"], subscriber_nm1,
                 ["HL", "4", "3", codes.LEVEL_DEPENDENT, "0"], trace,
                 ["NM1", "03", "1", dependent.last_name, dependent.first_name],
                 ["DMG", "D8", d8(dependent.birth_date)], *eligibility]
    return render_interchange("270", codes.FUNCTIONAL_ID_270, body, envelope)


def _eq_segments(service_type_codes: Sequence[str], style: EqStyle) -> list[list[Value]]:
    unique = tuple(dict.fromkeys(service_type_codes))
    if style == "segments":
        return [["EQ", code] for code in unique]
    return [["EQ", Rep(unique)]]


def check_inquiry(inquiry: EligibilityInquiry) -> None:
    check_length(inquiry.payer_name, "NM103", 1, 60)
    check_length(inquiry.payer_id, "NM109", 2, 80)
    check_length(inquiry.provider_name, "NM103", 1, 60)
    if inquiry.provider_first_name is not None:
        check_length(inquiry.provider_first_name, "NM104", 1, 35)
    if not is_valid_npi(inquiry.provider_npi):
        raise X12Error("NPI_INVALID", "the provider NPI is not 10 digits with a valid check digit",
                       segment="NM1", element="NM109")
    check_length(inquiry.member_id, "NM109", 2, 80)
    check_length(inquiry.last_name, "NM103", 1, 60)
    check_length(inquiry.first_name, "NM104", 1, 35)
    check_length(inquiry.trace_number, "TRN02", 1, 50)
    check_length(inquiry.reference_id or inquiry.trace_number, "BHT03", 1, 50)
    if inquiry.dependent is not None:
        check_length(inquiry.dependent.last_name, "NM103", 1, 60)
        check_length(inquiry.dependent.first_name, "NM104", 1, 35)
        rel = inquiry.dependent.relationship
        if rel is not None and rel not in codes.DEPENDENT_RELATIONSHIPS:
            raise X12Error("ELEMENT_INVALID", "must be 01, 19 or 34", segment="INS", element="INS02")
    stcs = inquiry.service_type_codes
    if not stcs or len(stcs) > 99 or not all(SERVICE_TYPE.fullmatch(c) for c in stcs):
        raise X12Error("ELEMENT_INVALID", "needs 1 to 99 service type codes of 1 to 3 letters or digits",
                       segment="EQ", element="EQ01")


def _check_originator(originator: str) -> None:
    if len(originator) != 10 or originator[0] not in "139":
        raise X12Error("ELEMENT_INVALID", "must be 10 characters starting with 1, 3 or 9",
                       segment="TRN", element="TRN03")
