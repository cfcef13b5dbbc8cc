"""Plain inputs of the eligibility use cases: api/eligibility.py maps the request bodies to these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ...domain.eligibility import DependentPatient
from ...domain.model import Discipline, Modality


@dataclass(frozen=True)
class MemberRef:
    """The subscriber as the asker names them (PHI)."""

    member_id: str = field(repr=False)
    first_name: str = field(repr=False)
    last_name: str = field(repr=False)
    birth_date: date = field(repr=False)


@dataclass(frozen=True)
class CheckInput:
    """POST /v1/eligibility/checks."""

    payer_id: str
    member: MemberRef
    service: str
    modality: Modality
    date_of_service: date
    dependent: DependentPatient | None = None
    provider_npi: str | None = None
    provider_name: str | None = None
    discipline: Discipline | None = None
    patient_jurisdiction: str | None = None
    patient_location_type: str = "home"
    clinician_id: str | None = None
    patient_id: str | None = None
