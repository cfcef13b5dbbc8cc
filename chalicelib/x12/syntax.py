"""X12 syntax: errors, separators, tokenizing, and the element values (dates, decimals) read and written.

Pure: stdlib only. ``X12Error`` messages name a code, a segment position and an element, never a value (PHI)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from . import codes


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


# Internal helpers are plain slotted classes: a frozen dataclass costs ~1 ms of import each.
class Rep:
    """A repeated element (EQ01, EB03)."""

    __slots__ = ("values",)

    def __init__(self, values: tuple[str, ...]) -> None:
        self.values = values


class Comp:
    """A composite element (EB13)."""

    __slots__ = ("values",)

    def __init__(self, values: tuple[str, ...]) -> None:
        self.values = values


Value = str | Rep | Comp


def _render_segment(segment: list[Value], seps: Separators) -> str:
    seg_id = str(segment[0])
    rendered = [seg_id]
    for i, value in enumerate(segment[1:], start=1):
        if isinstance(value, Rep):
            parts = [_checked(v, seps, seg_id, i) for v in value.values]
            rendered.append(seps.repetition.join(parts))
        elif isinstance(value, Comp):
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


def x12_decimal(value: Decimal | None) -> str:
    """X12 "R" type: no exponent, no trailing zeros, no leading zero before the point."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    if text.startswith("0."):
        text = text[1:]
    elif text.startswith("-0."):
        text = "-" + text[2:]
    return text


def d8(day: date) -> str:
    # Not strftime("%Y..."): glibc does not zero-pad years before 1000 ("420328" for 0042-03-28).
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def hhmm(moment: datetime) -> str:
    return moment.strftime("%H%M")


def check_length(value: str | None, element: str, low: int, high: int) -> None:
    if value is None or not low <= len(value) <= high:
        raise X12Error("ELEMENT_INVALID", f"must be {low} to {high} characters",
                       segment=element[:-2], element=element)


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


def parse_d8(value: str, segment: Segment, element: str) -> date:
    try:
        if len(value) != 8 or not value.isdigit():
            raise ValueError
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise X12Error("ELEMENT_INVALID", "is not a CCYYMMDD date", position=segment.position,
                       element=element) from None


def parse_date_time(segment: Segment, date_n: int, time_n: int) -> datetime:
    day = parse_d8(segment.get(date_n), segment, f"{segment.id}{date_n:02d}")
    hhmm = segment.get(time_n)
    element = f"{segment.id}{time_n:02d}"
    if len(hhmm) < 4 or not hhmm[:4].isdigit():
        raise X12Error("ELEMENT_INVALID", "is not an HHMM time", position=segment.position, element=element)
    try:
        return datetime(day.year, day.month, day.day, int(hhmm[:2]), int(hhmm[2:4]))
    except ValueError:
        raise X12Error("ELEMENT_INVALID", "is not an HHMM time", position=segment.position,
                       element=element) from None


_DECIMAL = re.compile(r"-?(\d+\.?\d*|\.\d+)")


def parse_decimal(segment: Segment, n: int) -> Decimal | None:
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


def parse_percent(segment: Segment, n: int) -> Decimal | None:
    value = parse_decimal(segment, n)
    if value is not None and value > 1:
        # EB08 is a fraction (0.2 = 20 %). Some payers send percentage points (20); read those as
        # the fraction they mean rather than as 2000 %.
        return value / 100
    return value


def repeats(value: str, seps: Separators) -> tuple[str, ...]:
    return tuple(v for v in value.split(seps.repetition) if v) if value else ()
