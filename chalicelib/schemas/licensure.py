"""Request body of POST /v1/licensure/checks."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from ..domain.model import Modality
from .common import Body, Id, Jurisdiction


class PrescribingIn(Body):
    controlled_substance_schedule: Literal["II", "III", "IV", "V"]
    oud_medication: bool = Field(default=False, description="Buprenorphine or another FDA-approved OUD medication")
    prior_in_person_evaluation: bool = False


class LicensureCheckIn(Body):
    clinician_id: Id
    patient_jurisdiction: Jurisdiction
    modality: Modality
    service: str | None = Field(default=None, pattern=r"^[0-9A-Z]{5}$")
    date: date
    prescribing: PrescribingIn | None = None
    temporary_days_used: int | None = Field(default=None, ge=0, le=366,
                                            description="Days of temporary in-person practice used this year (TAP)")
