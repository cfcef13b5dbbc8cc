"""What a 270 says: one inquiry about a member (or their dependent), and the NPI check."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from .envelope import EnvelopeInfo


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
class Parsed270:
    inquiry: EligibilityInquiry
    envelope: EnvelopeInfo


def is_valid_npi(npi: str) -> bool:
    """NPI check digit: Luhn over the 80840 prefix and the first nine digits."""
    if not re.fullmatch(r"\d{10}", npi):
        return False
    total = 0
    for i, ch in enumerate(reversed("80840" + npi[:9])):
        digit = int(ch) * (2 if i % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return (10 - total % 10) % 10 == int(npi[9])


SERVICE_TYPE = re.compile(r"[0-9A-Z]{1,3}")
