"""What a 271 says: AAA errors, dates, trace numbers, entities and EB benefit rows, as read or to be written."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ..domain.eligibility import AaaEntry
from . import codes
from .envelope import EnvelopeInfo
from .inquiry import EligibilityInquiry


def aaa(code: str, follow_up_action: str | None = None, *, valid_request: bool = True,
        level: str = "subscriber") -> AaaEntry:
    """An AAA as the domain keeps it, described from the code table."""
    return AaaEntry(code, codes.describe(codes.AAA_REJECT_REASONS, code), level, follow_up_action, valid_request)


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
    aaa_errors: tuple[AaaEntry, ...] = ()
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
    aaa_errors: tuple[AaaEntry, ...] = ()
    benefits: tuple[BenefitRow, ...] = ()

    def date(self, *qualifiers: str) -> DateInfo | None:
        for qualifier in qualifiers:
            for info in self.dates:
                if info.qualifier == qualifier:
                    return info
        return None


@dataclass(frozen=True)
class Parsed271:
    envelope: EnvelopeInfo | None  # None: answered in process (x12/answer_in_process.py), no interchange
    reference_id: str | None
    created_at: datetime | None
    payer: Entity | None
    receiver: Entity | None
    subscriber: Member | None
    dependent: Member | None
    aaa_errors: tuple[AaaEntry, ...]  # every AAA, any level, in document order
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
    information_source_errors: tuple[AaaEntry, ...] = ()  # 2100A
    information_receiver_errors: tuple[AaaEntry, ...] = ()  # 2100B
    subscriber_errors: tuple[AaaEntry, ...] = ()  # 2100C
    dependent_errors: tuple[AaaEntry, ...] = ()  # 2100D
    source_trace: TraceNumber | None = None  # the payer's own TRN*1, beside the echoed TRN*2
