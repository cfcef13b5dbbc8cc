"""271 reader: envelope checked, HL levels walked, EB rows with what follows them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from ..domain.eligibility import AaaEntry
from . import codes
from .envelope import single_transaction
from .hierarchy import MemberDraft, member_segment, parse_dtp, read_aaa, read_entity, walk_levels
from .response import BenefitRow, Entity, Parsed271, Procedure, Reference
from .syntax import Segment, Separators, X12Error, parse_date_time, parse_decimal, parse_percent, repeats


def _benefit_row(segment: Segment, seps: Separators) -> BenefitRow:
    procedure = None
    if segment.get(13):
        parts = segment.get(13).split(seps.component)
        procedure = Procedure(parts[0], parts[1] if len(parts) > 1 else "",
                              tuple(p for p in parts[2:6] if p))
    return BenefitRow(
        code=segment.get(1), coverage_level=segment.opt(2),
        service_type_codes=repeats(segment.get(3), seps), insurance_type=segment.opt(4),
        plan_coverage=segment.opt(5), time_period=segment.opt(6), amount=parse_decimal(segment, 7),
        percent=parse_percent(segment, 8), quantity_qualifier=segment.opt(9),
        quantity=parse_decimal(segment, 10), authorization_required=segment.opt(11),
        in_plan_network=segment.opt(12), procedure=procedure,
    )


def _row_segment(row: BenefitRow, segment: Segment, in_2120: bool) -> BenefitRow:
    """Segments that follow an EB inside its 2110 loop."""
    if segment.id == "MSG":
        return replace(row, messages=(*row.messages, segment.get(1)))
    if segment.id == "DTP":
        info = parse_dtp(segment)
        return replace(row, dates=(*row.dates, info)) if info else row
    if segment.id == "REF":
        return replace(row, references=(*row.references,
                                        Reference(segment.get(1), segment.get(2), segment.opt(3))))
    if segment.id == "AAA":
        return replace(row, aaa_errors=(*row.aaa_errors, read_aaa(segment, "benefit")))
    if segment.id == "III" and segment.get(1):
        return replace(row, additional_info=(*row.additional_info, (segment.get(1), segment.get(2))))
    if segment.id == "NM1" and in_2120:
        return replace(row, entities=(*row.entities, read_entity(segment)))
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
        self.members: dict[str, MemberDraft] = {}
        self.errors: list[AaaEntry] = []
        self.row: BenefitRow | None = None
        self.row_owner: MemberDraft | None = None
        self.row_broken = False
        self.in_2120 = False
        self.warnings: list[str] = []
        self.dropped: list[BenefitRow] = []

    def read(self, segments: Sequence[Segment]) -> None:
        hl_seen: dict[str, str] = {}
        last_hl: str | None = None
        for level, hl_id, segment in walk_levels(segments):
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
            self.member_segment(self.members.setdefault(name, MemberDraft(name)), segment)
        self.close_row()

    def party_segment(self, level: str, segment: Segment) -> None:
        if segment.id == "NM1":
            if level == codes.LEVEL_INFORMATION_SOURCE:
                self.payer = read_entity(segment)
            else:
                self.receiver = read_entity(segment)
        elif segment.id == "AAA":
            self.errors.append(read_aaa(segment, codes.LEVEL_NAMES[level]))

    def member_segment(self, member: MemberDraft, segment: Segment) -> None:
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
            error = read_aaa(segment, member.level)
            member.aaa_errors.append(error)
            self.errors.append(error)
        else:
            member_segment(member, segment, self.seps)

    def close_row(self) -> None:
        if self.row is not None and self.row_owner is not None and self.row_broken:
            self.dropped.append(self.row)
        elif self.row is not None and self.row_owner is not None:
            self.row_owner.benefits.append(self.row)
            self.errors.extend(self.row.aaa_errors)
        self.row, self.row_owner, self.in_2120, self.row_broken = None, None, False, False


def parse_271(text: str) -> Parsed271:
    """Read a 005010X279A1 271: envelope checked, HL levels walked, EB rows with what follows them."""
    envelope, tx = single_transaction(text, "271", codes.FUNCTIONAL_ID_271)
    reader = _Reader271(envelope.separators)
    reader.read(tx.segments)
    bht = tx.segments[0]
    members = reader.members
    return Parsed271(
        envelope=envelope,
        reference_id=bht.opt(3),
        created_at=parse_date_time(bht, 4, 5) if bht.get(4) else None,
        payer=reader.payer, receiver=reader.receiver,
        subscriber=members["subscriber"].freeze() if "subscriber" in members else None,
        dependent=members["dependent"].freeze() if "dependent" in members else None,
        aaa_errors=tuple(reader.errors), warnings=tuple(reader.warnings), dropped_benefits=tuple(reader.dropped),
    )
