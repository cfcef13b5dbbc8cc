"""The HL tree shared by 270 and 271: the payer and provider loops, member loops, AAA/REF/DTP segments."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Literal

from ..domain.eligibility import AaaEntry
from . import codes
from .inquiry import EligibilityInquiry
from .response import BenefitRow, DateInfo, Entity, Member, Reference, TraceNumber, aaa
from .syntax import Segment, Separators, Value, X12Error, d8, parse_d8, repeats


def default_originator_id(interchange_id: str) -> str:
    """TRN03 when none is given: "9" (user-assigned) + the first 9 letters/digits of the ISA id."""
    cleaned = re.sub(r"[^0-9A-Z]", "", interchange_id.upper())
    return "9" + cleaned[:9].ljust(9, "0")


def source_and_receiver(inquiry: EligibilityInquiry) -> list[list[Value]]:
    if inquiry.provider_first_name:
        provider: list[Value] = ["NM1", "1P", "1", inquiry.provider_name, inquiry.provider_first_name,
                                  "", "", "", "XX", inquiry.provider_npi]
    else:
        provider = ["NM1", "1P", "2", inquiry.provider_name, "", "", "", "", "XX", inquiry.provider_npi]
    return [
        ["HL", "1", "", codes.LEVEL_INFORMATION_SOURCE, "1"],
        ["NM1", "PR", "2", inquiry.payer_name, "", "", "", "", "PI", inquiry.payer_id],
        ["HL", "2", "1", codes.LEVEL_INFORMATION_RECEIVER, "1"],
        provider,
    ]


def aaa_segments(errors: Sequence[AaaEntry]) -> list[list[Value]]:
    return [["AAA", "Y" if e.valid_request else "N", "", e.code, e.follow_up_action or ""]
            for e in errors]


def ref_segments(refs: Sequence[Reference]) -> list[list[Value]]:
    return [["REF", r.qualifier, r.value, r.description or ""] for r in refs]


def date_segments(dates: Sequence[DateInfo]) -> list[list[Value]]:
    out: list[list[Value]] = []
    for d in dates:
        if d.end is None:
            out.append(["DTP", d.qualifier, "D8", d8(d.start)])
        else:
            out.append(["DTP", d.qualifier, "RD8", f"{d8(d.start)}-{d8(d.end)}"])
    return out


def parse_dtp(segment: Segment) -> DateInfo | None:
    fmt, value = segment.get(2), segment.get(3)
    if fmt == "D8":
        return DateInfo(segment.get(1), parse_d8(value, segment, "DTP03"))
    if fmt == "RD8":
        start, sep, end = value.partition("-")
        if not sep:
            raise X12Error("ELEMENT_INVALID", "is not a CCYYMMDD-CCYYMMDD range", position=segment.position,
                           element="DTP03")
        return DateInfo(segment.get(1), parse_d8(start, segment, "DTP03"), parse_d8(end, segment, "DTP03"))
    return None  # other formats carry nothing this product uses


def read_aaa(segment: Segment, level: str) -> AaaEntry:
    return aaa(segment.get(3), segment.opt(4), valid_request=segment.get(1) != "N", level=level)


def read_entity(segment: Segment) -> Entity:
    return Entity(entity_code=segment.get(1), entity_type=segment.get(2), name=segment.get(3),
                  first_name=segment.opt(4), id_qualifier=segment.opt(8), id=segment.opt(9))


def _trn(segment: Segment) -> TraceNumber:
    return TraceNumber(type_code=segment.get(1), trace_number=segment.get(2),
                       originator_id=segment.opt(3), supplemental_id=segment.opt(4))


_PARENT_LEVEL = {
    codes.LEVEL_INFORMATION_SOURCE: None,
    codes.LEVEL_INFORMATION_RECEIVER: codes.LEVEL_INFORMATION_SOURCE,
    codes.LEVEL_SUBSCRIBER: codes.LEVEL_INFORMATION_RECEIVER,
    codes.LEVEL_DEPENDENT: codes.LEVEL_SUBSCRIBER,
}


def walk_levels(segments: Sequence[Segment]) -> Iterator[tuple[str, str, Segment]]:
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


class MemberDraft:
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
        self.aaa_errors: list[AaaEntry] = []
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


def member_segment(draft: MemberDraft, segment: Segment, seps: Separators) -> None:
    """Segments of 2000C/2100C (2000D/2100D) outside any EB row."""
    if segment.id == "TRN":
        draft.trace_numbers.append(_trn(segment))
    elif segment.id == "NM1":
        draft.names = {"last": segment.opt(3), "first": segment.opt(4), "middle": segment.opt(5),
                       "id": segment.opt(9)}
    elif segment.id == "DMG":
        if segment.get(2):
            draft.birth_date = parse_d8(segment.get(2), segment, "DMG02")
        draft.gender = segment.opt(3)
    elif segment.id == "INS":
        draft.relationship = segment.opt(2)
    elif segment.id == "REF":
        draft.references.append(Reference(segment.get(1), segment.get(2), segment.opt(3)))
    elif segment.id == "DTP":
        info = parse_dtp(segment)
        if info:
            draft.dates.append(info)
    elif segment.id == "EQ":
        draft.eq_codes.extend(repeats(segment.get(1), seps))
