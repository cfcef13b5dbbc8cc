"""The ISA/GS/ST envelope: written around a transaction set, read and checked (control numbers, counts)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from . import codes
from .syntax import (
    Segment,
    Separators,
    Value,
    X12Error,
    _check_no_separators,
    _render_segment,
    check_length,
    d8,
    hhmm,
    parse_date_time,
    tokenize,
)

UsageIndicator = Literal["T", "P"]


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


def render_interchange(transaction: str, functional_id: str, body: list[list[Value]],
                        envelope: Envelope) -> str:
    seps = envelope.separators
    created = envelope.created_at
    tcn = envelope.transaction_control_number
    segments: list[list[Value]] = [
        ["GS", functional_id, envelope.application_sender_code or envelope.sender_id,
         envelope.application_receiver_code or envelope.receiver_id, d8(created.date()), hhmm(created),
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
        envelope.created_at.strftime("%y%m%d"), hhmm(envelope.created_at),
        seps.repetition, codes.ISA_VERSION, f"{envelope.interchange_control_number:09d}",
        "1" if envelope.acknowledgment_requested else "0", envelope.usage_indicator, seps.component,
    ]
    for i, value in enumerate(fields[1:16], start=1):
        if i != 11:  # ISA11 is the repetition separator itself
            _check_no_separators(value, seps, "ISA", i)
    return seps.element.join(fields)


def check_envelope(envelope: Envelope) -> None:
    check_length(envelope.sender_id, "ISA06", 1, 15)
    check_length(envelope.receiver_id, "ISA08", 1, 15)
    check_length(envelope.sender_qualifier, "ISA05", 2, 2)
    check_length(envelope.receiver_qualifier, "ISA07", 2, 2)
    check_length(envelope.application_sender_code or envelope.sender_id, "GS02", 2, 15)
    check_length(envelope.application_receiver_code or envelope.receiver_id, "GS03", 2, 15)
    check_length(envelope.transaction_control_number, "ST02", 4, 9)
    if not 1 <= envelope.interchange_control_number <= 999_999_999:
        raise X12Error("ELEMENT_INVALID", "must be 1 to 999999999", segment="ISA", element="ISA13")
    if not 1 <= envelope.group_control_number <= 999_999_999:
        raise X12Error("ELEMENT_INVALID", "must be 1 to 999999999", segment="GS", element="GS06")
    if envelope.usage_indicator not in ("T", "P"):
        raise X12Error("ELEMENT_INVALID", "must be T or P", segment="ISA", element="ISA15")
    if envelope.segment_suffix not in ("", "\n", "\r\n"):
        raise X12Error("ELEMENT_INVALID", "segment suffix must be empty or a line break")


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
    created_at = parse_date_time(gs, 4, 5)
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


def single_transaction(text: str, transaction: str, functional_id: str
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
