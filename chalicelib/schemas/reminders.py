"""Request bodies of the reminder-link and waitlist routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from ..domain.model import Modality
from .common import Body, Id, Jurisdiction
from .routing import WindowIn


class LinkActionIn(Body):
    token: Annotated[str, Field(min_length=1, max_length=512, description="The token from the reminder's link")]


class WaitlistIn(Body):
    patient_id: Id
    service: Annotated[str, Field(pattern=r"^[0-9A-Z]{5}$")]
    modalities: Annotated[list[Modality], Field(min_length=1, max_length=3)]
    patient_jurisdiction: Jurisdiction | None = None
    window: WindowIn
    clinician_id: Id | None = None

    @model_validator(mode="after")
    def _distinct(self) -> WaitlistIn:
        if len(set(self.modalities)) != len(self.modalities):
            raise ValueError("modalities has duplicates")
        return self
