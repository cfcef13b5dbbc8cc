"""Acknowledgments a clearinghouse sends instead of a 271: TA1 (interchange) and 999 (implementation).

A payer or clearinghouse that refuses our 270 answers with one of these rather than a 271. They
carry the reason as codes; the eligibility service surfaces those codes instead of calling the
answer unreadable. Reading only: we never send either. No values are kept, only codes (a 999's
IK3/IK4 name segment ids and element positions, which are not PHI).

Sources: X12 005010X231A1 (999: AK1, AK2, IK3, IK4, IK5, AK9) and X12.5 interchange control (TA1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .syntax import Segment, X12Error, tokenize

# TA104 interchange acknowledgment code.
TA1_ACK_CODES = {"A": "Accepted", "E": "Accepted with errors", "R": "Rejected"}

# TA105 interchange note codes (X12.5).
TA1_NOTE_CODES = {
    "000": "No error",
    "001": "Interchange control numbers in header and trailer do not match",
    "002": "Standard in ISA11 not supported",
    "003": "Version of the controls not supported",
    "004": "Segment terminator is invalid",
    "005": "Invalid interchange ID qualifier for sender",
    "006": "Invalid interchange sender ID",
    "007": "Invalid interchange ID qualifier for receiver",
    "008": "Invalid interchange receiver ID",
    "009": "Unknown interchange receiver ID",
    "010": "Invalid authorization information qualifier value",
    "011": "Invalid authorization information value",
    "012": "Invalid security information qualifier value",
    "013": "Invalid security information value",
    "014": "Invalid interchange date value",
    "015": "Invalid interchange time value",
    "016": "Invalid interchange standards identifier value",
    "017": "Invalid interchange version ID value",
    "018": "Invalid interchange control number value",
    "019": "Invalid acknowledgment requested value",
    "020": "Invalid test indicator value",
    "021": "Invalid number of included groups value",
    "022": "Invalid control structure",
    "023": "Improper (premature) end-of-file (transmission)",
    "024": "Invalid interchange content (e.g. invalid GS segment)",
    "025": "Duplicate interchange control number",
    "026": "Invalid data element separator",
    "027": "Invalid component element separator",
    "028": "Invalid delivery date in deferred delivery request",
    "029": "Invalid delivery time in deferred delivery request",
    "030": "Invalid delivery time code in deferred delivery request",
    "031": "Invalid grade of service code",
}

# IK501 / AK901 transaction set and functional group acknowledgment codes.
ACK_CODES_999 = {"A": "Accepted", "E": "Accepted but errors were noted", "M": "Rejected, message authentication "
                 "code (MAC) failed", "P": "Partially accepted", "R": "Rejected", "W": "Rejected, assurance "
                 "failed validity tests", "X": "Rejected, content after decryption could not be analyzed"}

# IK502-IK506 implementation transaction set syntax error codes.
IK5_ERRORS = {
    "1": "Transaction set not supported",
    "2": "Transaction set trailer missing",
    "3": "Transaction set control number in header and trailer do not match",
    "4": "Number of included segments does not match actual count",
    "5": "One or more segments in error",
    "6": "Missing or invalid transaction set identifier",
    "7": "Missing or invalid transaction set control number",
    "23": "Transaction set control number not unique within the functional group",
    "I5": "Implementation one or more segments in error",
    "I6": "Implementation convention not supported",
}

# IK304 implementation segment syntax error codes.
IK3_ERRORS = {
    "1": "Unrecognized segment ID",
    "2": "Unexpected segment",
    "3": "Required segment missing",
    "4": "Loop occurs over maximum times",
    "5": "Segment exceeds maximum use",
    "6": "Segment not in defined transaction set",
    "7": "Segment not in proper sequence",
    "8": "Segment has data element errors",
    "I4": "Implementation 'not used' segment present",
    "I6": "Implementation dependent segment missing",
    "I7": "Implementation loop occurs under minimum times",
    "I8": "Implementation segment below minimum use",
    "I9": "Implementation dependent 'not used' segment present",
}

# IK403 implementation data element syntax error codes.
IK4_ERRORS = {
    "1": "Required data element missing",
    "2": "Conditional required data element missing",
    "3": "Too many data elements",
    "4": "Data element too short",
    "5": "Data element too long",
    "6": "Invalid character in data element",
    "7": "Invalid code value",
    "8": "Invalid date",
    "9": "Invalid time",
    "10": "Exclusion condition violated",
    "12": "Too many repetitions",
    "13": "Too many components",
    "I10": "Implementation 'not used' data element present",
    "I11": "Implementation too few repetitions",
    "I12": "Implementation pattern match failure",
    "I13": "Implementation dependent 'not used' data element present",
    "I6": "Code value not used in implementation",
    "I9": "Implementation dependent data element missing",
}

# AK905-AK909 functional group syntax error codes.
AK9_ERRORS = {
    "1": "Functional group not supported",
    "2": "Functional group version not supported",
    "3": "Functional group trailer missing",
    "4": "Group control number in the functional group header and trailer do not agree",
    "5": "Number of included transaction sets does not match actual count",
    "6": "Group control number violates syntax",
    "19": "Functional group control number not unique within interchange",
}


@dataclass(frozen=True)
class AckCode:
    code: str  # "TA1:022", "IK5:I5", "IK3:8", "IK4:7", "AK9:5"
    description: str
    segment: str | None = None  # IK3: the segment id in error (a segment name, never a value)
    element: str | None = None  # IK4: the element position in error, "NM109"


@dataclass(frozen=True)
class Acknowledgment:
    kind: Literal["TA1", "999"]
    accepted: bool
    ack_code: str  # TA104, or IK501 (AK901 when there is no IK5)
    codes: tuple[AckCode, ...]

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "accepted": self.accepted, "ack_code": self.ack_code,
                "codes": [{"code": c.code, "description": c.description, "segment": c.segment,
                           "element": c.element} for c in self.codes]}


def _describe(table: dict[str, str], code: str) -> str:
    return table.get(code, f"Unknown code {code}")


def read_acknowledgment(text: str) -> Acknowledgment | None:
    """The TA1 or 999 in ``text``; None when it is neither (e.g. a 271, or not X12 at all)."""
    try:
        _, segments = tokenize(text)
    except X12Error:
        return None
    ta1 = next((s for s in segments if s.id == "TA1"), None)
    if ta1 is not None:
        ack = ta1.get(4)
        note = ta1.get(5)
        found = (AckCode(f"TA1:{note}", _describe(TA1_NOTE_CODES, note)),) if note and note != "000" else ()
        return Acknowledgment("TA1", ack == "A", ack, found)
    if not any(s.id == "ST" and s.get(1) == "999" for s in segments):
        return None
    return _read_999(segments)


def _read_999(segments: Sequence[Segment]) -> Acknowledgment:
    found: list[AckCode] = []
    ik5_code = ak9_code = ""
    segment_id: str | None = None
    for s in segments:
        if s.id == "IK3":
            segment_id = s.get(1) or None
            if s.get(4):
                found.append(AckCode(f"IK3:{s.get(4)}", _describe(IK3_ERRORS, s.get(4)), segment_id))
        elif s.id == "IK4":
            position = s.get(1).split(":")[0] if s.get(1) else ""
            element = f"{segment_id or ''}{int(position):02d}" if position.isdigit() else None
            found.append(AckCode(f"IK4:{s.get(3)}", _describe(IK4_ERRORS, s.get(3)), segment_id, element))
        elif s.id == "IK5":
            ik5_code = ik5_code or s.get(1)
            found += [AckCode(f"IK5:{c}", _describe(IK5_ERRORS, c)) for c in s.elements[1:6] if c]
        elif s.id == "AK9":
            ak9_code = s.get(1)
            found += [AckCode(f"AK9:{c}", _describe(AK9_ERRORS, c)) for c in s.elements[4:9] if c]
    ack = ik5_code or ak9_code
    return Acknowledgment("999", ack in ("A", "E") and ak9_code in ("A", "E", ""), ack, tuple(found))


def describe_ack(code: str) -> str:
    return _describe(ACK_CODES_999, code)
