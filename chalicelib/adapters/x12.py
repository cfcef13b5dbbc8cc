"""X12 005010X279A1 eligibility: 270 writer and reader, 271 writer and reader, benefit summary.

Pure and dependency-light: stdlib only, no clock reads (times are passed in), no I/O.

Why our own tokenizer and not pyx12: X12 syntax is five rules (separators come from the fixed ISA,
segments split on the terminator, elements on the element separator, repeats and components on
theirs). pyx12 would add ~10 MB and an import to every cold start, and it ships no 5010 270/271
maps, so loops, counts and validation would be ours anyway.

Real-world 271s (issue 17): trailing padding/NUL/Ctrl-Z and line wrapping are tolerated
(``normalize_framing``); a bad date inside one benefit row drops that row with a warning; rows limited
by ``III*ZZ`` are chosen by the visit's place of service; a carve-out (``EB*U`` for an asked service)
keeps plan-level rows out of the summary and names the entity to ask.

PHI: names, birth dates and member ids live only in the returned structures (and are hidden from
their repr). ``X12Error`` messages name a code, a segment position and an element, never a value.

Structure written and read (loops of the TR3):
    ISA / GS / ST / BHT
    HL 20  2000A information source (payer)      NM1*PR                 (271: + AAA)
    HL 21  2000B information receiver (provider) NM1*1P ... XX*NPI      (271: + AAA)
    HL 22  2000C subscriber  TRN  NM1*IL ... MI*id  DMG  DTP*291  EQ    (271: REF AAA DMG DTP, 2110C EB ...)
    HL 23  2000D dependent   TRN  NM1*03  DMG  DTP*291  EQ              (271: same as 22, + INS)
    SE / GE / IEA
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

from chalicelib.adapters import x12_codes as codes

UsageIndicator = Literal["T", "P"]
EqStyle = Literal["repetition", "segments"]
Status = Literal["active", "inactive", "not_found", "error"]


# ----------------------------------------------------------------------------------------------
# Errors and separators
# ----------------------------------------------------------------------------------------------

class X12Error(ValueError):
    """A broken or unsupported X12 document. The message never carries a data value (PHI)."""

    def __init__(self, code: str, detail: str, *, position: int | None = None,
                 segment: str | None = None, element: str | None = None) -> None:
        self.code = code
        self.detail = detail
        self.position = position
        self.segment_id = segment
        self.element = element
        where = f" at segment {position}" if position is not None else ""
        label = element or segment
        if label:
            where += f" ({label})"
        super().__init__(f"{code}{where}: {detail}")


@dataclass(frozen=True)
class Separators:
    """Delimiters of one interchange. Readers take them from the ISA, never assume them."""

    element: str = "*"
    repetition: str = "^"
    component: str = ":"
    segment: str = "~"

    def __post_init__(self) -> None:
        chars = (self.element, self.repetition, self.component, self.segment)
        if any(len(c) != 1 for c in chars):
            raise ValueError("each separator must be exactly one character")
        if len(set(chars)) != 4:
            raise ValueError("separators must be four different characters")
        if any(c.isalnum() or c == " " for c in chars):
            raise ValueError("separators cannot be letters, digits or spaces")
        if any(c in "\r\n" for c in chars[:3]):
            raise ValueError("only the segment terminator may be a line break")

    @property
    def characters(self) -> frozenset[str]:
        return frozenset((self.element, self.repetition, self.component, self.segment))


# ----------------------------------------------------------------------------------------------
# Inquiry and envelope (what a 270 says)
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dependent:
    """The patient when they have no member id of their own (2000D, HL 23)."""

    first_name: str = field(repr=False)
    last_name: str = field(repr=False)
    birth_date: date = field(repr=False)
    # INS02: 01 spouse, 19 child, 34 other adult. Kept for our records and written in the 271;
    # a 270 that sends the full primary search option must not send INS (X12 RFI 922).
    relationship: str | None = None


@dataclass(frozen=True)
class EligibilityInquiry:
    """One 270: is this member (or their dependent) covered for these service types on this date."""

    payer_id: str
    payer_name: str
    provider_npi: str
    provider_name: str  # organisation name, or the last name when provider_first_name is set
    member_id: str = field(repr=False)
    first_name: str = field(repr=False)
    last_name: str = field(repr=False)
    birth_date: date | None = field(repr=False)  # the subscriber's; not sent when a dependent is the patient
    date_of_service: date
    service_type_codes: Sequence[str]
    trace_number: str
    dependent: Dependent | None = None
    provider_first_name: str | None = None  # set for an individual provider (NM102 = 1)
    # TRN03: 10 characters, "1" + EIN, "3" + DUNS or "9" + our own id. None = derived from ISA06.
    trace_originator_id: str | None = None
    reference_id: str | None = None  # BHT03; None = the trace number

    def __post_init__(self) -> None:
        # A tuple keeps the inquiry hashable and equal to its parsed copy.
        object.__setattr__(self, "service_type_codes", tuple(self.service_type_codes))

    @property
    def patient_is_dependent(self) -> bool:
        return self.dependent is not None


@dataclass(frozen=True)
class Envelope:
    """ISA/GS/ST parameters chosen by the sender. ``created_at`` is written as given (pass UTC)."""

    sender_id: str
    receiver_id: str
    interchange_control_number: int
    group_control_number: int
    created_at: datetime
    usage_indicator: UsageIndicator = "T"
    separators: Separators = field(default_factory=Separators)
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    application_sender_code: str | None = None  # GS02; None = sender_id
    application_receiver_code: str | None = None  # GS03; None = receiver_id
    transaction_control_number: str = "0001"
    acknowledgment_requested: bool = False
    segment_suffix: Literal["", "\n", "\r\n"] = ""  # a line break after each terminator, for humans


@dataclass(frozen=True)
class EnvelopeInfo:
    """The envelope of a document that was read."""

    separators: Separators
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    interchange_control_number: int
    usage_indicator: str
    acknowledgment_requested: bool
    functional_id: str
    application_sender_code: str
    application_receiver_code: str
    group_control_number: int
    created_at: datetime
    version: str
    transaction_set: str
    transaction_control_number: str
    implementation_reference: str

    def reply(self, *, interchange_control_number: int, group_control_number: int,
              created_at: datetime, segment_suffix: Literal["", "\n", "\r\n"] = "") -> Envelope:
        """The envelope of an answer: sender and receiver swapped, same separators and usage."""
        usage: UsageIndicator = "P" if self.usage_indicator == "P" else "T"
        return Envelope(
            sender_id=self.receiver_id, receiver_id=self.sender_id,
            sender_qualifier=self.receiver_qualifier, receiver_qualifier=self.sender_qualifier,
            application_sender_code=self.application_receiver_code,
            application_receiver_code=self.application_sender_code,
            interchange_control_number=interchange_control_number,
            group_control_number=group_control_number, created_at=created_at,
            usage_indicator=usage, separators=self.separators, segment_suffix=segment_suffix,
        )


@dataclass(frozen=True)
class Parsed270:
    inquiry: EligibilityInquiry
    envelope: EnvelopeInfo


# ----------------------------------------------------------------------------------------------
# 271 content (what a payer answers)
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AaaError:
    """An AAA segment: the payer could not answer (part of) the request."""

    reason_code: str  # AAA03
    follow_up_action: str | None = None  # AAA04
    valid_request: bool = True  # AAA01 Y/N
    level: str = "subscriber"  # information_source | information_receiver | subscriber | dependent | benefit

    @property
    def description(self) -> str | None:
        return codes.describe(codes.AAA_REJECT_REASONS, self.reason_code)

    @property
    def follow_up_description(self) -> str | None:
        return codes.describe(codes.AAA_FOLLOW_UP_ACTIONS, self.follow_up_action)

    def to_json(self) -> dict[str, str | None]:
        return {"code": self.reason_code, "description": self.description, "level": self.level,
                "follow_up_action": self.follow_up_action}


@dataclass(frozen=True)
class DateInfo:
    """A DTP: one date (D8) or a range (RD8)."""

    qualifier: str
    start: date
    end: date | None = None

    @property
    def description(self) -> str | None:
        return codes.describe(codes.DATE_QUALIFIERS, self.qualifier)

    @property
    def last(self) -> date:
        return self.end or self.start


@dataclass(frozen=True)
class TraceNumber:
    """A TRN. In a 271, type "2" echoes the 270's trace; type "1" is the payer's own."""

    type_code: str
    trace_number: str
    originator_id: str | None = None
    supplemental_id: str | None = None


@dataclass(frozen=True)
class Reference:
    qualifier: str
    value: str
    description: str | None = None


@dataclass(frozen=True)
class Entity:
    """An NM1 of a payer, a provider or a benefit-related entity (2120 loop)."""

    entity_code: str
    entity_type: str
    name: str
    first_name: str | None = None
    id_qualifier: str | None = None
    id: str | None = None
    phone: str | None = None  # 2120 PER ... TE: where to ask (a carve-out's managed-care company)


@dataclass(frozen=True)
class Procedure:
    """EB13 / EQ02 composite: qualifier (HC = CPT/HCPCS), code, modifiers."""

    qualifier: str
    code: str
    modifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class BenefitRow:
    """One EB segment with the DTP, MSG, REF, AAA, III and 2120 entities that follow it.

    ``in_plan_network`` (EB12) says which benefit this row is: the in-network (Y) or the
    out-of-network (N) benefit, or one that applies to both (W). It does NOT say whether the
    requesting provider is in the payer's network.
    """

    code: str  # EB01
    coverage_level: str | None = None  # EB02
    service_type_codes: tuple[str, ...] = ()  # EB03, repeats
    insurance_type: str | None = None  # EB04
    plan_coverage: str | None = None  # EB05
    time_period: str | None = None  # EB06
    amount: Decimal | None = None  # EB07
    percent: Decimal | None = None  # EB08, a fraction: 0.2 = 20 %
    quantity_qualifier: str | None = None  # EB09
    quantity: Decimal | None = None  # EB10
    authorization_required: str | None = None  # EB11 Y/N/U
    in_plan_network: str | None = None  # EB12 Y/N/U/W
    procedure: Procedure | None = None  # EB13
    references: tuple[Reference, ...] = ()
    dates: tuple[DateInfo, ...] = ()
    aaa_errors: tuple[AaaError, ...] = ()
    messages: tuple[str, ...] = ()
    additional_info: tuple[tuple[str, str], ...] = ()  # III01, III02 (ZZ = place of service)
    entities: tuple[Entity, ...] = ()

    @property
    def description(self) -> str | None:
        return codes.describe(codes.EB01_CODES, self.code)

    @property
    def is_generic(self) -> bool:
        """No service type, or the plan-level "30": applies when nothing more specific does."""
        return not self.service_type_codes or codes.GENERIC_SERVICE_TYPE in self.service_type_codes

    @property
    def places_of_service(self) -> tuple[str, ...]:
        """III*ZZ values: the row applies only to visits billed with one of these places of service."""
        return tuple(v for q, v in self.additional_info if q == codes.III_PLACE_OF_SERVICE and v)


@dataclass(frozen=True)
class Member:
    """A subscriber (HL 22) or dependent (HL 23) as the payer returned them."""

    level: Literal["subscriber", "dependent"]
    last_name: str | None = field(default=None, repr=False)
    first_name: str | None = field(default=None, repr=False)
    middle_name: str | None = field(default=None, repr=False)
    member_id: str | None = field(default=None, repr=False)
    birth_date: date | None = field(default=None, repr=False)
    gender: str | None = field(default=None, repr=False)
    relationship: str | None = None  # INS02
    trace_numbers: tuple[TraceNumber, ...] = ()
    references: tuple[Reference, ...] = ()
    dates: tuple[DateInfo, ...] = ()
    aaa_errors: tuple[AaaError, ...] = ()
    benefits: tuple[BenefitRow, ...] = ()

    def date(self, *qualifiers: str) -> DateInfo | None:
        for qualifier in qualifiers:
            for info in self.dates:
                if info.qualifier == qualifier:
                    return info
        return None


@dataclass(frozen=True)
class Parsed271:
    envelope: EnvelopeInfo
    reference_id: str | None
    created_at: datetime | None
    payer: Entity | None
    receiver: Entity | None
    subscriber: Member | None
    dependent: Member | None
    aaa_errors: tuple[AaaError, ...]  # every AAA, any level, in document order
    # What was read around rather than refused (a benefit row with a bad date): codes and positions only.
    warnings: tuple[str, ...] = ()
    dropped_benefits: tuple[BenefitRow, ...] = ()  # those rows, as far as they were read

    @property
    def patient(self) -> Member | None:
        return self.dependent or self.subscriber

    @property
    def benefits(self) -> tuple[BenefitRow, ...]:
        return self.patient.benefits if self.patient else ()

    @property
    def trace_numbers(self) -> tuple[TraceNumber, ...]:
        members = [m for m in (self.subscriber, self.dependent) if m]
        return tuple(t for m in members for t in m.trace_numbers)

    @property
    def echoed_trace_numbers(self) -> tuple[str, ...]:
        """The 270's TRN02 values returned as TRN*2 (the payer's own TRN*1 are not echoes)."""
        return tuple(t.trace_number for t in self.trace_numbers if t.type_code == "2")

    @property
    def plan_name(self) -> str | None:
        for row in self.benefits:
            if row.code in codes.STATUS_CODES and row.plan_coverage:
                return row.plan_coverage
        for row in self.benefits:
            if row.plan_coverage:
                return row.plan_coverage
        for member in (self.patient, self.subscriber):
            for qualifier in (codes.REF_PLAN_NUMBER, codes.REF_GROUP_NUMBER):
                for ref in member.references if member else ():
                    if ref.qualifier == qualifier and ref.description:
                        return ref.description
        return None

    @property
    def plan_begin(self) -> date | None:
        info = self._plan_dates(codes.DATE_PLAN_BEGIN, codes.DATE_PLAN, codes.DATE_ELIGIBILITY_BEGIN,
                                codes.DATE_ELIGIBILITY)
        return info.start if info else None

    @property
    def plan_end(self) -> date | None:
        end = self._plan_dates(codes.DATE_PLAN_END, codes.DATE_ELIGIBILITY_END)
        if end:
            return end.start
        ranged = self._plan_dates(codes.DATE_PLAN, codes.DATE_ELIGIBILITY)
        return ranged.end if ranged else None

    def _plan_dates(self, *qualifiers: str) -> DateInfo | None:
        for member in (self.patient, self.subscriber):
            found = member.date(*qualifiers) if member else None
            if found:
                return found
        return None


@dataclass(frozen=True)
class EligibilityResponse:
    """What a payer (our simulator, or POST /v1/eligibility/x12) answers to one inquiry."""

    inquiry: EligibilityInquiry
    benefits: tuple[BenefitRow, ...] = ()  # of the patient (2110C, or 2110D for a dependent)
    dates: tuple[DateInfo, ...] = ()  # of the patient (2100C/D DTP): plan begin/end, eligibility
    references: tuple[Reference, ...] = ()  # of the subscriber (2100C REF): plan or group number
    information_source_errors: tuple[AaaError, ...] = ()  # 2100A
    information_receiver_errors: tuple[AaaError, ...] = ()  # 2100B
    subscriber_errors: tuple[AaaError, ...] = ()  # 2100C
    dependent_errors: tuple[AaaError, ...] = ()  # 2100D
    source_trace: TraceNumber | None = None  # the payer's own TRN*1, beside the echoed TRN*2


# ----------------------------------------------------------------------------------------------
# Benefit summary
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BenefitSummary:
    """What the patient pays for the asked service types, read from the 271's EB rows.

    ``in_network`` is whether the requesting provider is in the payer's network. A 271 does not
    say that (EB12 only labels which benefit row is the in- or out-of-network one), so it is None
    unless the caller knows it. ``benefit_network`` says which row the amounts came from.
    """

    status: Status
    service_type_codes: tuple[str, ...]
    plan_name: str | None = None
    plan_begin: date | None = None
    plan_end: date | None = None
    copay: Decimal | None = None
    coinsurance: Decimal | None = None
    deductible_remaining: Decimal | None = None
    out_of_pocket_remaining: Decimal | None = None
    in_network: bool | None = None
    benefit_network: str | None = None  # EB12 of the rows used: Y, N, W, U or None
    service_covered: bool | None = None  # False when the payer sent EB*I for an asked service
    aaa_errors: tuple[AaaError, ...] = ()
    retryable: bool = False  # a payer-side failure (AAA 42/80): ask again later
    trace_numbers: tuple[str, ...] = ()
    # A carve-out (EB*U for an asked service type): this payer does not answer for the service;
    # ``refer_to`` names who does (2120 NM1, e.g. the behavioural-health managed-care company).
    carve_out: bool = False
    refer_to: tuple[Entity, ...] = ()
    warnings: tuple[str, ...] = ()

    def benefits_json(self) -> dict[str, str | bool | None]:
        return {
            "copay": format_money(self.copay),
            "coinsurance": format_fraction(self.coinsurance),
            "deductible_remaining": format_money(self.deductible_remaining),
            "out_of_pocket_remaining": format_money(self.out_of_pocket_remaining),
            "in_network": self.in_network,
        }

    def to_json(self) -> dict[str, object]:
        return {
            "status": self.status,
            "service_type_codes": list(self.service_type_codes),
            "plan": {"name": self.plan_name},
            "benefits": self.benefits_json(),
            "aaa_errors": [e.to_json() for e in self.aaa_errors],
        }


def format_money(amount: Decimal | None) -> str | None:
    """API money: two decimals, "25.00"."""
    if amount is None:
        return None
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def format_fraction(value: Decimal | None) -> str | None:
    """API fraction: shortest plain form, "0.2"."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def summarize_benefits(parsed: Parsed271, service_type_codes: Sequence[str], *,
                       provider_in_network: bool | None = None,
                       procedure_code: str | None = None,
                       places_of_service: Sequence[str] = ()) -> BenefitSummary:
    """Status and cost share for the asked service types.

    Rows are chosen per asked code in the order given (the first code with rows wins), falling
    back to generic rows (no EB03, or 30). Among those, the in-network benefit (EB12=Y) is
    preferred unless the caller says the provider is out of network; then EB12=N rows are.
    Rows for one procedure (EB13) count only when ``procedure_code`` (a CPT code) matches; then
    they win over the service-type-wide rows.

    ``places_of_service`` are the visit's POS codes, best first (in person "11"; video at home
    "10", "02"): a row limited by III*ZZ to other places never applies, and a row for the visit's
    place wins over one for any place. A carve-out (EB*U for an asked service type) means the
    plan-level rows describe someone else's benefit: then only rows naming an asked service
    type count, and whether the service is covered is left to the entity named.
    """
    asked = tuple(dict.fromkeys(service_type_codes))
    status, retryable = _status(parsed, asked)
    named = [c for c in asked if c != codes.GENERIC_SERVICE_TYPE]
    carve_outs = [r for r in parsed.benefits if r.code == codes.EB_CONTACT_ENTITY
                  and any(c in r.service_type_codes for c in named)] if status == "active" else []
    chooser = _Chooser(parsed.benefits if status == "active" else (), asked, provider_in_network,
                       procedure_code, tuple(places_of_service), allow_generic=not carve_outs)

    def trusted(row: BenefitRow | None) -> BenefitRow | None:
        # A dropped row (bad date) that would have been chosen over ``row``: unknown, not another tier's amount.
        if row is None:
            return None
        for d in parsed.dropped_benefits:
            if (d.code == row.code and set(d.service_type_codes) & set(row.service_type_codes)
                    and chooser.applies(d) and chooser.preference(d) <= chooser.preference(row)):
                return None
        return row

    copay = trusted(chooser.pick(codes.EB_COPAY, "amount"))
    coinsurance = trusted(chooser.pick(codes.EB_COINSURANCE, "percent"))
    deductible, deductible_row = chooser.remaining(codes.EB_DEDUCTIBLE)
    out_of_pocket, out_of_pocket_row = chooser.remaining(codes.EB_OUT_OF_POCKET)
    if trusted(deductible_row) is None:
        deductible, deductible_row = None, None
    if trusted(out_of_pocket_row) is None:
        out_of_pocket, out_of_pocket_row = None, None
    used = [r for r in (copay, coinsurance, deductible_row, out_of_pocket_row) if r is not None]
    return BenefitSummary(
        status=status,
        service_type_codes=asked,
        plan_name=parsed.plan_name,
        plan_begin=parsed.plan_begin,
        plan_end=parsed.plan_end,
        copay=copay.amount if copay else None,
        coinsurance=coinsurance.percent if coinsurance else None,
        deductible_remaining=deductible,
        out_of_pocket_remaining=out_of_pocket,
        in_network=provider_in_network,
        benefit_network=used[0].in_plan_network if used else None,
        service_covered=None if carve_outs else _service_covered(parsed.benefits, asked, status),
        aaa_errors=parsed.aaa_errors,
        retryable=retryable,
        trace_numbers=parsed.echoed_trace_numbers,
        carve_out=bool(carve_outs),
        refer_to=tuple(dict.fromkeys(e for r in carve_outs for e in r.entities)),
        warnings=parsed.warnings,
    )


def _status(parsed: Parsed271, asked: tuple[str, ...]) -> tuple[Status, bool]:
    # AAA on a loop (not on one EB row) means the payer could not answer at all.
    blocking = [e for e in parsed.aaa_errors if e.level != "benefit"]
    if blocking:
        retryable = any(e.reason_code in codes.RETRYABLE_REASONS for e in blocking)
        if all(e.reason_code in codes.MEMBER_NOT_FOUND_REASONS for e in blocking):
            return "not_found", False
        return "error", retryable
    status_rows = _rows_for(parsed.benefits, asked, lambda r: r.code in codes.STATUS_CODES)
    if not status_rows:
        return "error", False
    if any(r.code in codes.ACTIVE_CODES for r in status_rows):
        return "active", False
    return "inactive", False


def _rows_for(rows: Sequence[BenefitRow], asked: Sequence[str],
              keep: Callable[[BenefitRow], bool], *, allow_generic: bool = True) -> list[BenefitRow]:
    candidates = [r for r in rows if keep(r)]
    for code in asked:
        if code == codes.GENERIC_SERVICE_TYPE and not allow_generic:
            continue
        specific = [r for r in candidates if code in r.service_type_codes]
        if specific:
            return specific
    return [r for r in candidates if r.is_generic] if allow_generic else []


_NETWORK_RANK_IN = {"Y": 0, "W": 1, None: 2, "U": 3, "N": 4}
_NETWORK_RANK_OUT = {"N": 0, "W": 1, None: 2, "U": 3, "Y": 4}
# The patient's own (individual) accumulator first; the family one only when no other is sent.
_COVERAGE_RANK = {"IND": 0, None: 1, "FAM": 3}
_ACCUMULATION_PERIODS = ("23", "22", "21", "25")  # calendar, service, plan year, contract


def _same_bucket(a: BenefitRow, b: BenefitRow) -> bool:
    """Two accumulator rows of the same network tier, coverage level, services and procedure."""
    return ((a.in_plan_network, a.coverage_level, a.service_type_codes, a.procedure)
            == (b.in_plan_network, b.coverage_level, b.service_type_codes, b.procedure))


class _Chooser:
    """Picks the EB row that applies to the asked service types, network tier and procedure."""

    __slots__ = ("allow_generic", "asked", "places", "procedure_code", "provider_in_network", "rows")

    def __init__(self, rows: Sequence[BenefitRow], asked: tuple[str, ...], provider_in_network: bool | None,
                 procedure_code: str | None, places: tuple[str, ...] = (), *, allow_generic: bool = True) -> None:
        self.rows, self.asked = rows, asked
        self.provider_in_network, self.procedure_code = provider_in_network, procedure_code
        self.places, self.allow_generic = places, allow_generic

    def _place_rank(self, row: BenefitRow) -> int | None:
        """0.. for a row of one of the visit's places (best first), len(places) for any place, None = not this visit."""
        limited = row.places_of_service
        if not self.places:
            return 0  # the caller did not say where the visit is: every row may apply
        if not limited:
            return len(self.places)
        ranks = [i for i, pos in enumerate(self.places) if pos in limited]
        return min(ranks) if ranks else None

    def pick(self, code: str, value: str, time_period: str | None = None) -> BenefitRow | None:
        def keep(r: BenefitRow) -> bool:
            return (r.code == code and getattr(r, value) is not None
                    and (time_period is None or r.time_period == time_period)
                    and (r.procedure is None or r.procedure.code == self.procedure_code)
                    and self._place_rank(r) is not None)
        found = _rows_for(self.rows, self.asked, keep, allow_generic=self.allow_generic)
        return min(found, key=self.preference) if found else None

    def remaining(self, code: str) -> tuple[Decimal | None, BenefitRow | None]:
        """EB06=29 (Remaining); else the period total minus the EB06=24 (year to date) row."""
        row = self.pick(code, "amount", codes.TIME_PERIOD_REMAINING)
        if row is not None:
            return row.amount, row
        for period in _ACCUMULATION_PERIODS:
            total = self.pick(code, "amount", period)
            if total is None or total.amount is None:
                continue
            met = next((r.amount for r in self.rows
                        if r.code == code and r.time_period == "24" and r.amount is not None
                        and _same_bucket(r, total)), None)
            if met is not None:
                return max(total.amount - met, Decimal(0)), total
        return None, None

    def applies(self, row: BenefitRow) -> bool:
        return self._place_rank(row) is not None and (row.procedure is None
                                                      or row.procedure.code == self.procedure_code)

    def preference(self, row: BenefitRow) -> tuple[int, int, int, int]:
        ranks = _NETWORK_RANK_OUT if self.provider_in_network is False else _NETWORK_RANK_IN
        return (0 if row.procedure else 1, self._place_rank(row) or 0, ranks.get(row.in_plan_network, 2),
                _COVERAGE_RANK.get(row.coverage_level, 2))


def _service_covered(rows: Sequence[BenefitRow], asked: Sequence[str], status: Status) -> bool | None:
    """False when an asked service is explicitly non-covered (EB*I); True when active rows name it."""
    named = [c for c in asked if c != codes.GENERIC_SERVICE_TYPE]
    specific = [r for r in rows if any(c in r.service_type_codes for c in named)]
    if any(r.code == codes.EB_NON_COVERED for r in specific):
        return False
    if status == "active" and specific:
        return True
    return None


# ----------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------

# Internal helpers are plain slotted classes: a frozen dataclass costs ~1 ms of import each.
class _Rep:
    """A repeated element (EQ01, EB03)."""

    __slots__ = ("values",)

    def __init__(self, values: tuple[str, ...]) -> None:
        self.values = values


class _Comp:
    """A composite element (EB13)."""

    __slots__ = ("values",)

    def __init__(self, values: tuple[str, ...]) -> None:
        self.values = values


_Value = str | _Rep | _Comp


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
    _check_envelope(envelope)
    _check_inquiry(inquiry)
    originator = inquiry.trace_originator_id or default_originator_id(envelope.sender_id)
    _check_originator(originator)
    body: list[list[_Value]] = [
        ["BHT", "0022", "13", inquiry.reference_id or inquiry.trace_number,
         _d8(envelope.created_at.date()), _hhmm(envelope.created_at)],
        *_source_and_receiver(inquiry),
    ]
    trace: list[_Value] = ["TRN", "1", inquiry.trace_number, originator]
    subscriber_nm1: list[_Value] = ["NM1", "IL", "1", inquiry.last_name, inquiry.first_name, "", "", "",
                                    "MI", inquiry.member_id]
    eligibility = [["DTP", codes.DATE_PLAN, "D8", _d8(inquiry.date_of_service)],
                   *_eq_segments(inquiry.service_type_codes, eq_style)]
    dependent = inquiry.dependent
    if dependent is None:
        if inquiry.birth_date is None:
            raise X12Error("ELEMENT_INVALID", "the subscriber's birth date is required when the subscriber "
                           "is the patient", segment="DMG", element="DMG02")
        body += [["HL", "3", "2", codes.LEVEL_SUBSCRIBER, "0"], trace, subscriber_nm1,
                 ["DMG", "D8", _d8(inquiry.birth_date)], *eligibility]
    else:
        # The dependent's primary search option is the subscriber's member id plus the
        # dependent's name and birth date; subscriber demographics and INS are not sent.
        body += [["HL", "3", "2", codes.LEVEL_SUBSCRIBER, "1"], subscriber_nm1,
                 ["HL", "4", "3", codes.LEVEL_DEPENDENT, "0"], trace,
                 ["NM1", "03", "1", dependent.last_name, dependent.first_name],
                 ["DMG", "D8", _d8(dependent.birth_date)], *eligibility]
    return _render_interchange("270", codes.FUNCTIONAL_ID_270, body, envelope)


def write_271(response: EligibilityResponse, envelope: Envelope) -> str:
    """A 271 answering ``response.inquiry``: echoes its names, ids, BHT03 and TRN (as TRN*2).

    The inquiry is echoed as received (a bad NPI or a missing birth date is answered with AAA,
    not refused). EB rows that differ only in EB03 are merged into one row with repeated EB03, as
    the TR3 requires (X12 RFIs 1422 and 2201).
    """
    _check_envelope(envelope)
    inquiry = response.inquiry
    rel = inquiry.dependent.relationship if inquiry.dependent else None
    if rel is not None and rel not in codes.DEPENDENT_RELATIONSHIPS:
        raise X12Error("ELEMENT_INVALID", "must be 01, 19 or 34", segment="INS", element="INS02")
    originator = inquiry.trace_originator_id or default_originator_id(envelope.receiver_id)
    body: list[list[_Value]] = [
        ["BHT", "0022", "11", inquiry.reference_id or inquiry.trace_number,
         _d8(envelope.created_at.date()), _hhmm(envelope.created_at)],
    ]
    parties = _source_and_receiver(inquiry)
    body += [*parties[:2], *_aaa_segments(response.information_source_errors)]
    body += [*parties[2:], *_aaa_segments(response.information_receiver_errors)]
    traces = [["TRN", "2", inquiry.trace_number, originator]]
    if response.source_trace:
        t = response.source_trace
        traces.append(["TRN", "1", t.trace_number, t.originator_id or "", t.supplemental_id or ""])
    patient_part = [*_date_segments(response.dates), *_benefit_segments(merge_service_types(response.benefits))]
    subscriber_nm1: list[_Value] = ["NM1", "IL", "1", inquiry.last_name, inquiry.first_name, "", "", "",
                                    "MI", inquiry.member_id]
    dependent = inquiry.dependent
    body.append(["HL", "3", "2", codes.LEVEL_SUBSCRIBER, "0" if dependent is None else "1"])
    if dependent is None:
        body += [*traces, subscriber_nm1, *_ref_segments(response.references),
                 *_aaa_segments(response.subscriber_errors)]
        if inquiry.birth_date:
            body.append(["DMG", "D8", _d8(inquiry.birth_date)])
        body += patient_part
    else:
        body += [subscriber_nm1, *_ref_segments(response.references),
                 *_aaa_segments(response.subscriber_errors),
                 ["HL", "4", "3", codes.LEVEL_DEPENDENT, "0"], *traces,
                 ["NM1", "03", "1", dependent.last_name, dependent.first_name],
                 *_aaa_segments(response.dependent_errors),
                 ["DMG", "D8", _d8(dependent.birth_date)]]
        if dependent.relationship:
            body.append(["INS", "N", dependent.relationship])
        body += patient_part
    return _render_interchange("271", codes.FUNCTIONAL_ID_271, body, envelope)


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


def default_originator_id(interchange_id: str) -> str:
    """TRN03 when none is given: "9" (user-assigned) + the first 9 letters/digits of the ISA id."""
    cleaned = re.sub(r"[^0-9A-Z]", "", interchange_id.upper())
    return "9" + cleaned[:9].ljust(9, "0")


def is_valid_npi(npi: str) -> bool:
    """NPI check digit: Luhn over the 80840 prefix and the first nine digits."""
    if not re.fullmatch(r"\d{10}", npi):
        return False
    total = 0
    for i, ch in enumerate(reversed("80840" + npi[:9])):
        digit = int(ch) * (2 if i % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return (10 - total % 10) % 10 == int(npi[9])


def _source_and_receiver(inquiry: EligibilityInquiry) -> list[list[_Value]]:
    if inquiry.provider_first_name:
        provider: list[_Value] = ["NM1", "1P", "1", inquiry.provider_name, inquiry.provider_first_name,
                                  "", "", "", "XX", inquiry.provider_npi]
    else:
        provider = ["NM1", "1P", "2", inquiry.provider_name, "", "", "", "", "XX", inquiry.provider_npi]
    return [
        ["HL", "1", "", codes.LEVEL_INFORMATION_SOURCE, "1"],
        ["NM1", "PR", "2", inquiry.payer_name, "", "", "", "", "PI", inquiry.payer_id],
        ["HL", "2", "1", codes.LEVEL_INFORMATION_RECEIVER, "1"],
        provider,
    ]


def _eq_segments(service_type_codes: Sequence[str], style: EqStyle) -> list[list[_Value]]:
    unique = tuple(dict.fromkeys(service_type_codes))
    if style == "segments":
        return [["EQ", code] for code in unique]
    return [["EQ", _Rep(unique)]]


def _aaa_segments(errors: Sequence[AaaError]) -> list[list[_Value]]:
    return [["AAA", "Y" if e.valid_request else "N", "", e.reason_code, e.follow_up_action or ""]
            for e in errors]


def _ref_segments(refs: Sequence[Reference]) -> list[list[_Value]]:
    return [["REF", r.qualifier, r.value, r.description or ""] for r in refs]


def _date_segments(dates: Sequence[DateInfo]) -> list[list[_Value]]:
    out: list[list[_Value]] = []
    for d in dates:
        if d.end is None:
            out.append(["DTP", d.qualifier, "D8", _d8(d.start)])
        else:
            out.append(["DTP", d.qualifier, "RD8", f"{_d8(d.start)}-{_d8(d.end)}"])
    return out


def _benefit_segments(rows: Sequence[BenefitRow]) -> list[list[_Value]]:
    out: list[list[_Value]] = []
    for row in rows:
        procedure: _Value = ""
        if row.procedure:
            procedure = _Comp((row.procedure.qualifier, row.procedure.code, *row.procedure.modifiers))
        out.append(["EB", row.code, row.coverage_level or "", _Rep(row.service_type_codes),
                    row.insurance_type or "", row.plan_coverage or "", row.time_period or "",
                    _x12_decimal(row.amount), _x12_decimal(row.percent), row.quantity_qualifier or "",
                    _x12_decimal(row.quantity), row.authorization_required or "",
                    row.in_plan_network or "", procedure])
        out += _ref_segments(row.references)
        out += _date_segments(row.dates)
        out += _aaa_segments(row.aaa_errors)
        out += [["MSG", m] for m in row.messages]
        out += [["III", q, v] for q, v in row.additional_info]
        if row.entities:
            out.append(["LS", "2120"])
            out += [["NM1", e.entity_code, e.entity_type, e.name, e.first_name or "", "", "", "",
                     e.id_qualifier or "", e.id or ""] for e in row.entities]
            out.append(["LE", "2120"])
    return out


def _render_interchange(transaction: str, functional_id: str, body: list[list[_Value]],
                        envelope: Envelope) -> str:
    seps = envelope.separators
    created = envelope.created_at
    tcn = envelope.transaction_control_number
    segments: list[list[_Value]] = [
        ["GS", functional_id, envelope.application_sender_code or envelope.sender_id,
         envelope.application_receiver_code or envelope.receiver_id, _d8(created.date()), _hhmm(created),
         str(envelope.group_control_number), "X", codes.IMPLEMENTATION_REFERENCE],
        ["ST", transaction, tcn, codes.IMPLEMENTATION_REFERENCE],
        *body,
        ["SE", str(len(body) + 2), tcn],
        ["GE", "1", str(envelope.group_control_number)],
        ["IEA", "1", f"{envelope.interchange_control_number:09d}"],
    ]
    end = seps.segment + envelope.segment_suffix
    return _isa(envelope) + end + "".join(_render_segment(s, seps) + end for s in segments)


def _isa(envelope: Envelope) -> str:
    seps = envelope.separators
    fields = [
        "ISA", "00", " " * 10, "00", " " * 10,
        envelope.sender_qualifier, envelope.sender_id.ljust(15),
        envelope.receiver_qualifier, envelope.receiver_id.ljust(15),
        envelope.created_at.strftime("%y%m%d"), _hhmm(envelope.created_at),
        seps.repetition, codes.ISA_VERSION, f"{envelope.interchange_control_number:09d}",
        "1" if envelope.acknowledgment_requested else "0", envelope.usage_indicator, seps.component,
    ]
    for i, value in enumerate(fields[1:16], start=1):
        if i != 11:  # ISA11 is the repetition separator itself
            _check_no_separators(value, seps, "ISA", i)
    return seps.element.join(fields)


def _render_segment(segment: list[_Value], seps: Separators) -> str:
    seg_id = str(segment[0])
    rendered = [seg_id]
    for i, value in enumerate(segment[1:], start=1):
        if isinstance(value, _Rep):
            parts = [_checked(v, seps, seg_id, i) for v in value.values]
            rendered.append(seps.repetition.join(parts))
        elif isinstance(value, _Comp):
            parts = [_checked(v, seps, seg_id, i) for v in value.values]
            while parts and parts[-1] == "":
                parts.pop()
            rendered.append(seps.component.join(parts))
        else:
            rendered.append(_checked(value, seps, seg_id, i))
    while len(rendered) > 1 and rendered[-1] == "":
        rendered.pop()  # X12: trailing empty elements are omitted
    return seps.element.join(rendered)


def _checked(value: str, seps: Separators, seg_id: str, index: int) -> str:
    _check_no_separators(value, seps, seg_id, index)
    return value


def _check_no_separators(value: str, seps: Separators, seg_id: str, index: int) -> None:
    if any(c in value for c in seps.characters) or "\r" in value or "\n" in value:
        raise X12Error("DATA_CONTAINS_SEPARATOR", "a value contains a delimiter character",
                       segment=seg_id, element=f"{seg_id}{index:02d}")


def _x12_decimal(value: Decimal | None) -> str:
    """X12 "R" type: no exponent, no trailing zeros, no leading zero before the point."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    if text.startswith("0."):
        text = text[1:]
    elif text.startswith("-0."):
        text = "-" + text[2:]
    return text


def _d8(day: date) -> str:
    # Not strftime("%Y..."): glibc does not zero-pad years before 1000 ("420328" for 0042-03-28).
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _hhmm(moment: datetime) -> str:
    return moment.strftime("%H%M")


def _check_length(value: str | None, element: str, low: int, high: int) -> None:
    if value is None or not low <= len(value) <= high:
        raise X12Error("ELEMENT_INVALID", f"must be {low} to {high} characters",
                       segment=element[:-2], element=element)


def _check_envelope(envelope: Envelope) -> None:
    _check_length(envelope.sender_id, "ISA06", 1, 15)
    _check_length(envelope.receiver_id, "ISA08", 1, 15)
    _check_length(envelope.sender_qualifier, "ISA05", 2, 2)
    _check_length(envelope.receiver_qualifier, "ISA07", 2, 2)
    _check_length(envelope.application_sender_code or envelope.sender_id, "GS02", 2, 15)
    _check_length(envelope.application_receiver_code or envelope.receiver_id, "GS03", 2, 15)
    _check_length(envelope.transaction_control_number, "ST02", 4, 9)
    if not 1 <= envelope.interchange_control_number <= 999_999_999:
        raise X12Error("ELEMENT_INVALID", "must be 1 to 999999999", segment="ISA", element="ISA13")
    if not 1 <= envelope.group_control_number <= 999_999_999:
        raise X12Error("ELEMENT_INVALID", "must be 1 to 999999999", segment="GS", element="GS06")
    if envelope.usage_indicator not in ("T", "P"):
        raise X12Error("ELEMENT_INVALID", "must be T or P", segment="ISA", element="ISA15")
    if envelope.segment_suffix not in ("", "\n", "\r\n"):
        raise X12Error("ELEMENT_INVALID", "segment suffix must be empty or a line break")


_SERVICE_TYPE = re.compile(r"[0-9A-Z]{1,3}")


def _check_inquiry(inquiry: EligibilityInquiry) -> None:
    _check_length(inquiry.payer_name, "NM103", 1, 60)
    _check_length(inquiry.payer_id, "NM109", 2, 80)
    _check_length(inquiry.provider_name, "NM103", 1, 60)
    if inquiry.provider_first_name is not None:
        _check_length(inquiry.provider_first_name, "NM104", 1, 35)
    if not is_valid_npi(inquiry.provider_npi):
        raise X12Error("NPI_INVALID", "the provider NPI is not 10 digits with a valid check digit",
                       segment="NM1", element="NM109")
    _check_length(inquiry.member_id, "NM109", 2, 80)
    _check_length(inquiry.last_name, "NM103", 1, 60)
    _check_length(inquiry.first_name, "NM104", 1, 35)
    _check_length(inquiry.trace_number, "TRN02", 1, 50)
    _check_length(inquiry.reference_id or inquiry.trace_number, "BHT03", 1, 50)
    if inquiry.dependent is not None:
        _check_length(inquiry.dependent.last_name, "NM103", 1, 60)
        _check_length(inquiry.dependent.first_name, "NM104", 1, 35)
        rel = inquiry.dependent.relationship
        if rel is not None and rel not in codes.DEPENDENT_RELATIONSHIPS:
            raise X12Error("ELEMENT_INVALID", "must be 01, 19 or 34", segment="INS", element="INS02")
    stcs = inquiry.service_type_codes
    if not stcs or len(stcs) > 99 or not all(_SERVICE_TYPE.fullmatch(c) for c in stcs):
        raise X12Error("ELEMENT_INVALID", "needs 1 to 99 service type codes of 1 to 3 letters or digits",
                       segment="EQ", element="EQ01")


def _check_originator(originator: str) -> None:
    if len(originator) != 10 or originator[0] not in "139":
        raise X12Error("ELEMENT_INVALID", "must be 10 characters starting with 1, 3 or 9",
                       segment="TRN", element="TRN03")


# ----------------------------------------------------------------------------------------------
# Reading: tokens and envelope
# ----------------------------------------------------------------------------------------------

class Segment:
    """One tokenized segment: ``elements[0]`` is XX01; ``position`` is 1-based from the ISA."""

    __slots__ = ("elements", "id", "position")

    def __init__(self, seg_id: str, elements: tuple[str, ...], position: int) -> None:
        self.id, self.elements, self.position = seg_id, elements, position

    def __repr__(self) -> str:  # elements may be PHI
        return f"Segment({self.id!r}, position={self.position})"

    def get(self, n: int) -> str:
        return self.elements[n - 1] if n <= len(self.elements) else ""

    def opt(self, n: int) -> str | None:
        return self.get(n) or None


@dataclass(frozen=True)
class TransactionSet:
    code: str
    control_number: str
    implementation_reference: str
    segments: tuple[Segment, ...]  # between ST and SE


@dataclass(frozen=True)
class FunctionalGroup:
    functional_id: str
    application_sender_code: str
    application_receiver_code: str
    created_at: datetime
    control_number: int
    version: str
    transactions: tuple[TransactionSet, ...]


@dataclass(frozen=True)
class Interchange:
    separators: Separators
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    control_number: int
    acknowledgment_requested: bool
    usage_indicator: str
    groups: tuple[FunctionalGroup, ...]


_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")


def read_separators(text: str) -> tuple[Separators, int]:
    """Separators from the ISA and the offset where the ISA starts.

    The element separator is the character after "ISA"; ISA11 is the repetition separator, ISA16
    the component separator and the character after ISA16 the segment terminator.
    """
    start = len(text) - len(text.lstrip("\ufeff \t\r\n"))
    if text[start:start + 3] != "ISA" or len(text) < start + 4:
        raise X12Error("ISA_MISSING", "the document does not start with an ISA segment",
                       position=1, segment="ISA")
    element = text[start + 3]
    marks: list[int] = []
    cursor = start + 3
    while len(marks) < 16:
        cursor = text.find(element, cursor)
        if cursor < 0:
            raise X12Error("ISA_INVALID", "the ISA has fewer than 16 elements", position=1, segment="ISA")
        marks.append(cursor)
        cursor += 1
    if len(text) < marks[15] + 3:
        raise X12Error("ISA_INVALID", "the ISA ends before its segment terminator",
                       position=1, element="ISA16")
    version = text[marks[11] + 1:marks[12]]
    if version != codes.ISA_VERSION:
        raise X12Error("UNSUPPORTED_VERSION", "only ISA12 00501 (005010) is supported",
                       position=1, element="ISA12")
    repetition = text[marks[10] + 1:marks[11]]
    component, terminator = text[marks[15] + 1], text[marks[15] + 2]
    try:
        return Separators(element, repetition, component, terminator), start
    except ValueError:
        raise X12Error("ISA_INVALID", "ISA separators (element, ISA11, ISA16, terminator) are not four "
                       "distinct delimiter characters", position=1, segment="ISA") from None


# Bytes transports and mainframes append after the IEA: padding, NUL, Ctrl-Z (DOS end of file).
_TRAILING_JUNK = "\x00\x1a \t\r\n"


def normalize_framing(text: str) -> str:
    """The document as the sender meant it: trailing junk after the last terminator dropped, and
    line breaks removed when the terminator is not one (a 271 wrapped at 80 columns, CR/LF after
    each segment). X12 data cannot hold a line break unless it is the terminator, so removing
    them loses nothing; keeping them would corrupt the value they split ("ACM\nE")."""
    try:
        seps: Separators | None = read_separators(text)[0]
    except X12Error:
        seps = None
    if seps is None or seps.segment not in "\r\n":
        cleaned = text.replace("\r", "").replace("\n", "")
        seps = read_separators(cleaned)[0]  # raises the reader's own error when neither form has an ISA
        text = cleaned
    return text.rstrip(_TRAILING_JUNK.replace(seps.segment, ""))


def tokenize(text: str) -> tuple[Separators, list[Segment]]:
    text = normalize_framing(text)
    seps, start = read_separators(text)
    segments: list[Segment] = []
    for raw in text[start:].split(seps.segment):
        raw = raw.strip("\r\n")  # tolerate a line break after each terminator
        if not raw:
            continue
        parts = raw.split(seps.element)
        position = len(segments) + 1
        if not _SEGMENT_ID.fullmatch(parts[0]):
            raise X12Error("SEGMENT_INVALID", "the segment identifier is not 2-3 capital letters or digits",
                           position=position)
        segments.append(Segment(parts[0], tuple(parts[1:]), position))
    return seps, segments


def read_interchange(text: str) -> Interchange:
    """Tokenize and check the envelope: control numbers match, counts are right."""
    seps, segments = tokenize(text)
    isa = segments[0]
    if len(isa.elements) != 16:
        raise X12Error("ISA_INVALID", "the ISA must have 16 elements", position=1, segment="ISA")
    control = isa.get(13)
    if not re.fullmatch(r"\d{9}", control):
        raise X12Error("ISA_INVALID", "must be 9 digits", position=1, element="ISA13")
    groups: list[FunctionalGroup] = []
    i = 1
    while i < len(segments) and segments[i].id == "GS":
        group, i = _read_group(segments, i)
        groups.append(group)
    if i >= len(segments) or segments[i].id != "IEA":
        _envelope_break(segments, i, "expected GS or IEA")
    iea = segments[i]
    _expect_count(iea, 1, len(groups), "GROUP_COUNT_MISMATCH", "functional groups")
    if iea.get(2) != control:
        raise X12Error("CONTROL_NUMBER_MISMATCH", "IEA02 does not match ISA13", position=iea.position,
                       element="IEA02")
    if i != len(segments) - 1:
        raise X12Error("ENVELOPE_INVALID", "segments follow the IEA", position=segments[i + 1].position)
    return Interchange(
        separators=seps, sender_qualifier=isa.get(5), sender_id=isa.get(6).rstrip(),
        receiver_qualifier=isa.get(7), receiver_id=isa.get(8).rstrip(), control_number=int(control),
        acknowledgment_requested=isa.get(14) == "1", usage_indicator=isa.get(15), groups=tuple(groups),
    )


def _read_group(segments: list[Segment], i: int) -> tuple[FunctionalGroup, int]:
    gs = segments[i]
    if not gs.get(6).isdigit():
        raise X12Error("ELEMENT_INVALID", "must be a number", position=gs.position, element="GS06")
    created_at = _parse_date_time(gs, 4, 5)
    transactions: list[TransactionSet] = []
    i += 1
    while i < len(segments) and segments[i].id == "ST":
        transaction, i = _read_transaction(segments, i)
        transactions.append(transaction)
    if i >= len(segments) or segments[i].id != "GE":
        _envelope_break(segments, i, "expected ST or GE")
    ge = segments[i]
    _expect_count(ge, 1, len(transactions), "TRANSACTION_COUNT_MISMATCH", "transaction sets")
    if ge.get(2) != gs.get(6):
        raise X12Error("CONTROL_NUMBER_MISMATCH", "GE02 does not match GS06", position=ge.position,
                       element="GE02")
    group = FunctionalGroup(
        functional_id=gs.get(1), application_sender_code=gs.get(2), application_receiver_code=gs.get(3),
        created_at=created_at, control_number=int(gs.get(6)), version=gs.get(8),
        transactions=tuple(transactions),
    )
    return group, i + 1


def _read_transaction(segments: list[Segment], i: int) -> tuple[TransactionSet, int]:
    st = segments[i]
    j = i + 1
    while j < len(segments) and segments[j].id not in ("SE", "ST", "GE", "GS", "IEA"):
        j += 1
    if j >= len(segments) or segments[j].id != "SE":
        _envelope_break(segments, j, "the transaction set has no SE")
    se = segments[j]
    _expect_count(se, 1, j - i + 1, "SEGMENT_COUNT_MISMATCH", "segments from ST to SE")
    if se.get(2) != st.get(2):
        raise X12Error("CONTROL_NUMBER_MISMATCH", "SE02 does not match ST02", position=se.position,
                       element="SE02")
    transaction = TransactionSet(code=st.get(1), control_number=st.get(2),
                                 implementation_reference=st.get(3), segments=tuple(segments[i + 1:j]))
    return transaction, j + 1


def _envelope_break(segments: list[Segment], i: int, detail: str) -> None:
    position = segments[i].position if i < len(segments) else len(segments) + 1
    segment = segments[i].id if i < len(segments) else None
    raise X12Error("ENVELOPE_INVALID", detail, position=position, segment=segment)


def _expect_count(segment: Segment, n: int, actual: int, code: str, what: str) -> None:
    element = f"{segment.id}{n:02d}"
    value = segment.get(n)
    if not value.isdigit():
        raise X12Error("ELEMENT_INVALID", "must be a number", position=segment.position, element=element)
    if int(value) != actual:
        raise X12Error(code, f"{element} says {int(value)} {what}, found {actual}",
                       position=segment.position, element=element)


def _single_transaction(text: str, transaction: str, functional_id: str
                        ) -> tuple[EnvelopeInfo, TransactionSet]:
    interchange = read_interchange(text)
    if len(interchange.groups) != 1 or len(interchange.groups[0].transactions) != 1:
        raise X12Error("UNSUPPORTED_BATCH", "expected exactly one functional group with one transaction set")
    group = interchange.groups[0]
    tx = group.transactions[0]
    if group.functional_id != functional_id:
        raise X12Error("WRONG_TRANSACTION", f"GS01 must be {functional_id}", position=2, element="GS01")
    if tx.code != transaction:
        raise X12Error("WRONG_TRANSACTION", f"ST01 must be {transaction}", position=3, element="ST01")
    if not group.version.startswith("005010X279"):
        raise X12Error("UNSUPPORTED_VERSION", "GS08 must be 005010X279A1", position=2, element="GS08")
    info = EnvelopeInfo(
        separators=interchange.separators, sender_qualifier=interchange.sender_qualifier,
        sender_id=interchange.sender_id, receiver_qualifier=interchange.receiver_qualifier,
        receiver_id=interchange.receiver_id, interchange_control_number=interchange.control_number,
        usage_indicator=interchange.usage_indicator,
        acknowledgment_requested=interchange.acknowledgment_requested, functional_id=group.functional_id,
        application_sender_code=group.application_sender_code,
        application_receiver_code=group.application_receiver_code,
        group_control_number=group.control_number, created_at=group.created_at, version=group.version,
        transaction_set=tx.code, transaction_control_number=tx.control_number,
        implementation_reference=tx.implementation_reference,
    )
    return info, tx


# ----------------------------------------------------------------------------------------------
# Reading: values
# ----------------------------------------------------------------------------------------------

def _parse_d8(value: str, segment: Segment, element: str) -> date:
    try:
        if len(value) != 8 or not value.isdigit():
            raise ValueError
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise X12Error("ELEMENT_INVALID", "is not a CCYYMMDD date", position=segment.position,
                       element=element) from None


def _parse_date_time(segment: Segment, date_n: int, time_n: int) -> datetime:
    day = _parse_d8(segment.get(date_n), segment, f"{segment.id}{date_n:02d}")
    hhmm = segment.get(time_n)
    element = f"{segment.id}{time_n:02d}"
    if len(hhmm) < 4 or not hhmm[:4].isdigit():
        raise X12Error("ELEMENT_INVALID", "is not an HHMM time", position=segment.position, element=element)
    try:
        return datetime(day.year, day.month, day.day, int(hhmm[:2]), int(hhmm[2:4]))
    except ValueError:
        raise X12Error("ELEMENT_INVALID", "is not an HHMM time", position=segment.position,
                       element=element) from None


def _parse_dtp(segment: Segment) -> DateInfo | None:
    fmt, value = segment.get(2), segment.get(3)
    if fmt == "D8":
        return DateInfo(segment.get(1), _parse_d8(value, segment, "DTP03"))
    if fmt == "RD8":
        start, sep, end = value.partition("-")
        if not sep:
            raise X12Error("ELEMENT_INVALID", "is not a CCYYMMDD-CCYYMMDD range", position=segment.position,
                           element="DTP03")
        return DateInfo(segment.get(1), _parse_d8(start, segment, "DTP03"), _parse_d8(end, segment, "DTP03"))
    return None  # other formats carry nothing this product uses


_DECIMAL = re.compile(r"-?(\d+\.?\d*|\.\d+)")


def _parse_decimal(segment: Segment, n: int) -> Decimal | None:
    value = segment.get(n)
    if value == "":
        return None
    if not _DECIMAL.fullmatch(value):
        raise X12Error("ELEMENT_INVALID", "is not a decimal number", position=segment.position,
                       element=f"{segment.id}{n:02d}")
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern already rules this out
        raise X12Error("ELEMENT_INVALID", "is not a decimal number", position=segment.position,
                       element=f"{segment.id}{n:02d}") from None


def _parse_percent(segment: Segment, n: int) -> Decimal | None:
    value = _parse_decimal(segment, n)
    if value is not None and value > 1:
        # EB08 is a fraction (0.2 = 20 %). Some payers send percentage points (20); read those as
        # the fraction they mean rather than as 2000 %.
        return value / 100
    return value


def _repeats(value: str, seps: Separators) -> tuple[str, ...]:
    return tuple(v for v in value.split(seps.repetition) if v) if value else ()


def _aaa(segment: Segment, level: str) -> AaaError:
    return AaaError(reason_code=segment.get(3), follow_up_action=segment.opt(4),
                    valid_request=segment.get(1) != "N", level=level)


def _entity(segment: Segment) -> Entity:
    return Entity(entity_code=segment.get(1), entity_type=segment.get(2), name=segment.get(3),
                  first_name=segment.opt(4), id_qualifier=segment.opt(8), id=segment.opt(9))


def _trn(segment: Segment) -> TraceNumber:
    return TraceNumber(type_code=segment.get(1), trace_number=segment.get(2),
                       originator_id=segment.opt(3), supplemental_id=segment.opt(4))


# ----------------------------------------------------------------------------------------------
# Reading: hierarchical levels
# ----------------------------------------------------------------------------------------------

_PARENT_LEVEL = {
    codes.LEVEL_INFORMATION_SOURCE: None,
    codes.LEVEL_INFORMATION_RECEIVER: codes.LEVEL_INFORMATION_SOURCE,
    codes.LEVEL_SUBSCRIBER: codes.LEVEL_INFORMATION_RECEIVER,
    codes.LEVEL_DEPENDENT: codes.LEVEL_SUBSCRIBER,
}


def _walk_levels(segments: Sequence[Segment]) -> Iterator[tuple[str, str, Segment]]:
    """Yield (HL03 level code, HL01 id, segment) for every segment after BHT, checking the HL tree."""
    if not segments or segments[0].id != "BHT":
        position = segments[0].position if segments else None
        raise X12Error("MISSING_SEGMENT", "the transaction set must start with BHT", position=position,
                       segment="BHT")
    levels: dict[str, str] = {}
    current: tuple[str, str] | None = None
    for segment in segments[1:]:
        if segment.id == "HL":
            current = _check_hl(segment, levels), segment.get(1)
            continue
        if current is None:
            raise X12Error("HL_INVALID", "a segment comes before the first HL", position=segment.position,
                           segment=segment.id)
        yield current[0], current[1], segment


def _check_hl(segment: Segment, levels: dict[str, str]) -> str:
    hl_id, parent, level = segment.get(1), segment.get(2), segment.get(3)
    if level not in _PARENT_LEVEL:
        raise X12Error("HL_INVALID", "HL03 must be 20, 21, 22 or 23", position=segment.position,
                       element="HL03")
    if hl_id != str(len(levels) + 1):
        raise X12Error("HL_INVALID", "HL01 ids must count up from 1", position=segment.position,
                       element="HL01")
    expected_parent = _PARENT_LEVEL[level]
    if expected_parent is None:
        if parent:
            raise X12Error("HL_INVALID", "an HL 20 has no parent", position=segment.position, element="HL02")
    elif levels.get(parent) != expected_parent:
        raise X12Error("HL_INVALID", "HL02 does not point to the parent level", position=segment.position,
                       element="HL02")
    levels[hl_id] = level
    return level


class _MemberDraft:
    """A member loop while it is being read; frozen into ``Member`` at the end."""

    def __init__(self, level: Literal["subscriber", "dependent"]) -> None:
        self.level: Literal["subscriber", "dependent"] = level
        self.names: dict[str, str | None] = {}
        self.birth_date: date | None = None
        self.gender: str | None = None
        self.relationship: str | None = None
        self.trace_numbers: list[TraceNumber] = []
        self.references: list[Reference] = []
        self.dates: list[DateInfo] = []
        self.aaa_errors: list[AaaError] = []
        self.benefits: list[BenefitRow] = []
        self.eq_codes: list[str] = []

    def freeze(self) -> Member:
        return Member(
            level=self.level, last_name=self.names.get("last"), first_name=self.names.get("first"),
            middle_name=self.names.get("middle"), member_id=self.names.get("id"),
            birth_date=self.birth_date, gender=self.gender, relationship=self.relationship,
            trace_numbers=tuple(self.trace_numbers), references=tuple(self.references),
            dates=tuple(self.dates), aaa_errors=tuple(self.aaa_errors), benefits=tuple(self.benefits),
        )


def _member_segment(draft: _MemberDraft, segment: Segment, seps: Separators) -> None:
    """Segments of 2000C/2100C (2000D/2100D) outside any EB row."""
    if segment.id == "TRN":
        draft.trace_numbers.append(_trn(segment))
    elif segment.id == "NM1":
        draft.names = {"last": segment.opt(3), "first": segment.opt(4), "middle": segment.opt(5),
                       "id": segment.opt(9)}
    elif segment.id == "DMG":
        if segment.get(2):
            draft.birth_date = _parse_d8(segment.get(2), segment, "DMG02")
        draft.gender = segment.opt(3)
    elif segment.id == "INS":
        draft.relationship = segment.opt(2)
    elif segment.id == "REF":
        draft.references.append(Reference(segment.get(1), segment.get(2), segment.opt(3)))
    elif segment.id == "DTP":
        info = _parse_dtp(segment)
        if info:
            draft.dates.append(info)
    elif segment.id == "EQ":
        draft.eq_codes.extend(_repeats(segment.get(1), seps))


def _benefit_row(segment: Segment, seps: Separators) -> BenefitRow:
    procedure = None
    if segment.get(13):
        parts = segment.get(13).split(seps.component)
        procedure = Procedure(parts[0], parts[1] if len(parts) > 1 else "",
                              tuple(p for p in parts[2:6] if p))
    return BenefitRow(
        code=segment.get(1), coverage_level=segment.opt(2),
        service_type_codes=_repeats(segment.get(3), seps), insurance_type=segment.opt(4),
        plan_coverage=segment.opt(5), time_period=segment.opt(6), amount=_parse_decimal(segment, 7),
        percent=_parse_percent(segment, 8), quantity_qualifier=segment.opt(9),
        quantity=_parse_decimal(segment, 10), authorization_required=segment.opt(11),
        in_plan_network=segment.opt(12), procedure=procedure,
    )


def _row_segment(row: BenefitRow, segment: Segment, in_2120: bool) -> BenefitRow:
    """Segments that follow an EB inside its 2110 loop."""
    if segment.id == "MSG":
        return replace(row, messages=(*row.messages, segment.get(1)))
    if segment.id == "DTP":
        info = _parse_dtp(segment)
        return replace(row, dates=(*row.dates, info)) if info else row
    if segment.id == "REF":
        return replace(row, references=(*row.references,
                                        Reference(segment.get(1), segment.get(2), segment.opt(3))))
    if segment.id == "AAA":
        return replace(row, aaa_errors=(*row.aaa_errors, _aaa(segment, "benefit")))
    if segment.id == "III" and segment.get(1):
        return replace(row, additional_info=(*row.additional_info, (segment.get(1), segment.get(2))))
    if segment.id == "NM1" and in_2120:
        return replace(row, entities=(*row.entities, _entity(segment)))
    if segment.id == "PER" and in_2120 and row.entities:
        phone = next((segment.get(n + 1) for n in (3, 5, 7) if segment.get(n) == "TE" and segment.get(n + 1)), None)
        if phone:
            return replace(row, entities=(*row.entities[:-1], replace(row.entities[-1], phone=phone)))
    return row


class _Reader271:
    """State of one pass over a 271: the member loop and the EB row that segments belong to."""

    def __init__(self, seps: Separators) -> None:
        self.seps = seps
        self.payer: Entity | None = None
        self.receiver: Entity | None = None
        self.members: dict[str, _MemberDraft] = {}
        self.errors: list[AaaError] = []
        self.row: BenefitRow | None = None
        self.row_owner: _MemberDraft | None = None
        self.row_broken = False
        self.in_2120 = False
        self.warnings: list[str] = []
        self.dropped: list[BenefitRow] = []

    def read(self, segments: Sequence[Segment]) -> None:
        hl_seen: dict[str, str] = {}
        last_hl: str | None = None
        for level, hl_id, segment in _walk_levels(segments):
            if hl_id != last_hl:
                self.close_row()
                last_hl = hl_id
            if level in (codes.LEVEL_INFORMATION_SOURCE, codes.LEVEL_INFORMATION_RECEIVER):
                self.party_segment(level, segment)
                continue
            name: Literal["subscriber", "dependent"] = (
                "subscriber" if level == codes.LEVEL_SUBSCRIBER else "dependent")
            if hl_seen.setdefault(name, hl_id) != hl_id:
                raise X12Error("UNSUPPORTED_BATCH", "more than one member in one 271",
                               position=segment.position)
            self.member_segment(self.members.setdefault(name, _MemberDraft(name)), segment)
        self.close_row()

    def party_segment(self, level: str, segment: Segment) -> None:
        if segment.id == "NM1":
            if level == codes.LEVEL_INFORMATION_SOURCE:
                self.payer = _entity(segment)
            else:
                self.receiver = _entity(segment)
        elif segment.id == "AAA":
            self.errors.append(_aaa(segment, codes.LEVEL_NAMES[level]))

    def member_segment(self, member: _MemberDraft, segment: Segment) -> None:
        if segment.id == "EB":
            self.close_row()
            # A bad amount still refuses the answer: dropping a copay row could let another
            # network tier's amount stand in for it. A bad date only costs its own row.
            self.row, self.row_owner = _benefit_row(segment, self.seps), member
        elif self.row is not None:
            if segment.id in ("LS", "LE"):
                self.in_2120 = segment.id == "LS"
                return
            try:
                self.row = _row_segment(self.row, segment, self.in_2120)
            except X12Error as exc:
                if segment.id != "DTP":
                    raise
                if not self.row_broken:
                    self.warnings.append(f"benefit row dropped: {exc}")
                self.row_broken = True
        elif segment.id == "AAA":
            error = _aaa(segment, member.level)
            member.aaa_errors.append(error)
            self.errors.append(error)
        else:
            _member_segment(member, segment, self.seps)

    def close_row(self) -> None:
        if self.row is not None and self.row_owner is not None and self.row_broken:
            self.dropped.append(self.row)
        elif self.row is not None and self.row_owner is not None:
            self.row_owner.benefits.append(self.row)
            self.errors.extend(self.row.aaa_errors)
        self.row, self.row_owner, self.in_2120, self.row_broken = None, None, False, False


def parse_271(text: str) -> Parsed271:
    """Read a 005010X279A1 271: envelope checked, HL levels walked, EB rows with what follows them."""
    envelope, tx = _single_transaction(text, "271", codes.FUNCTIONAL_ID_271)
    reader = _Reader271(envelope.separators)
    reader.read(tx.segments)
    bht = tx.segments[0]
    members = reader.members
    return Parsed271(
        envelope=envelope,
        reference_id=bht.opt(3),
        created_at=_parse_date_time(bht, 4, 5) if bht.get(4) else None,
        payer=reader.payer, receiver=reader.receiver,
        subscriber=members["subscriber"].freeze() if "subscriber" in members else None,
        dependent=members["dependent"].freeze() if "dependent" in members else None,
        aaa_errors=tuple(reader.errors), warnings=tuple(reader.warnings), dropped_benefits=tuple(reader.dropped),
    )


def parse_270(text: str, *, default_date_of_service: date | None = None) -> Parsed270:
    """Read a 005010X279A1 270 back into an inquiry (the local payer and POST /v1/eligibility/x12).

    A 270 without DTP*291 asks about the payer's processing date: pass it as
    ``default_date_of_service`` (this module reads no clock).
    """
    envelope, tx = _single_transaction(text, "270", codes.FUNCTIONAL_ID_270)
    seps = envelope.separators
    parties: dict[str, Entity] = {}
    drafts: dict[str, _MemberDraft] = {}
    hl_seen: dict[str, str] = {}
    for level, hl_id, segment in _walk_levels(tx.segments):
        if hl_seen.setdefault(level, hl_id) != hl_id:
            raise X12Error("UNSUPPORTED_BATCH", "more than one payer, provider or member in one 270",
                           position=segment.position)
        if level in (codes.LEVEL_INFORMATION_SOURCE, codes.LEVEL_INFORMATION_RECEIVER):
            if segment.id == "NM1":
                parties[level] = _entity(segment)
            continue
        name: Literal["subscriber", "dependent"] = (
            "subscriber" if level == codes.LEVEL_SUBSCRIBER else "dependent")
        _member_segment(drafts.setdefault(name, _MemberDraft(name)), segment, seps)
    return Parsed270(_inquiry_from(parties, drafts, tx.segments[0], default_date_of_service), envelope)


def _inquiry_from(parties: dict[str, Entity], drafts: dict[str, _MemberDraft], bht: Segment,
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
    if not all(_SERVICE_TYPE.fullmatch(code) for code in patient.eq_codes):
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
