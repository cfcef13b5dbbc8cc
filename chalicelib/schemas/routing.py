"""Request bodies of the routing and escalation routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ..domain.model import Modality
from .common import Body, Id, Jurisdiction, ShortText, UtcDatetime

RiskLevel = Literal["none", "low", "moderate", "high", "imminent"]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]


class ScreeningIn(Body):
    instrument: Literal["PHQ-9", "GAD-7", "C-SSRS"]
    answers: Annotated[list[Annotated[int, Field(ge=0, le=3)]], Field(min_length=1, max_length=30,
                       description="PHQ-9: 9 answers 0-3; GAD-7: 7 answers 0-3; C-SSRS screener: 6 answers, "
                                   "1 = yes, 0 = no")]


class PreferencesIn(Body):
    modality: Modality | None = None
    language: Language | None = None
    accessibility_needs: bool = Field(default=False, description="Mobility or accessibility needs: prefer video")


class WindowIn(Body):
    from_: UtcDatetime = Field(alias="from")
    to: UtcDatetime

    @model_validator(mode="after")
    def _ordered(self) -> WindowIn:
        if self.to <= self.from_:
            raise ValueError("to must be after from")
        return self


class RoutingPrescribingIn(Body):
    controlled_substance_schedule: Literal["II", "III", "IV", "V"]


class RoutingRequestIn(Body):
    patient_id: Id
    service: Annotated[str, Field(pattern=r"^[0-9A-Z]{5}$")]
    window: WindowIn
    patient_jurisdiction: Jurisdiction | None = None
    risk_level: RiskLevel = "none"
    screening: ScreeningIn | None = None
    preferences: PreferencesIn = PreferencesIn()
    prescribing: RoutingPrescribingIn | None = Field(
        default=None, description="An initial evaluation that may lead to controlled-substance prescribing")
    postal_code: Annotated[str, Field(pattern=r"^[A-Za-z0-9 -]{3,10}$")] | None = Field(
        default=None, description="The patient's postal code, to prefer a near site")
    limit: Annotated[int, Field(ge=1, le=50)] = 10


class AcknowledgeIn(Body):
    note: ShortText | None = None


class ResolveIn(Body):
    outcome: Annotated[ShortText, Field(min_length=1)]
