"""Rules file shape of scheduling_rules/routing/ (kind routing_policy); registers into schema.FILE_MODELS."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, model_validator

from ..domain.model import Modality
from .schema import FILE_MODELS, FileHeader, RuleBase, RuleId, Strict, _require_unique

Risk = Literal["none", "low", "moderate", "high", "imminent"]
Effect = Literal["escalate", "allow_modalities", "exclude_modalities", "prefer_modalities", "prefer_language",
                 "prefer_current_clinician", "prescribing_rules", "require_in_person_every",
                 "exclude_uncovered_modalities", "prefer_near_site"]


class RoutingRuleSpec(RuleBase):
    effect: Effect
    risk_levels: list[Risk] = []
    modalities: list[Modality] = []
    when: dict[Literal["video_capable", "accessibility_needs", "no_show_video_first"], bool] = {}
    weight: Annotated[int, Field(ge=0, le=100)] = 0
    max_wait_days: Annotated[int, Field(ge=0, le=90)] | None = None
    months: Annotated[int, Field(ge=1, le=60)] | None = None
    lookback_months: Annotated[int, Field(ge=1, le=60)] | None = None
    payers: list[str] = []

    @model_validator(mode="after")
    def _complete(self) -> RoutingRuleSpec:
        needs_modalities = {"allow_modalities", "exclude_modalities", "prefer_modalities"}
        if self.effect in needs_modalities and not self.modalities:
            raise ValueError(f"{self.effect} needs modalities")
        if self.effect in {"escalate", "allow_modalities"} and not self.risk_levels:
            raise ValueError(f"{self.effect} needs risk_levels")
        if self.effect == "require_in_person_every" and (self.months is None or not self.payers):
            raise ValueError("require_in_person_every needs months and payers")
        return self


class BandSpec(Strict):
    min: Annotated[int, Field(ge=0)]
    max: Annotated[int, Field(ge=0)]
    band: str
    risk: Risk


class PositiveItemSpec(Strict):
    index: Annotated[int, Field(ge=1)]
    risk: Risk


class InstrumentSpec(Strict):
    id: RuleId
    source: Annotated[str, Field(min_length=3)]
    effective_from: date
    items: Annotated[int, Field(ge=1, le=30)]
    max_answer: Annotated[int, Field(ge=1, le=10)] = 1
    bands: list[BandSpec] = []
    positive_item: PositiveItemSpec | None = None
    risk_by_item: dict[str, Risk] = {}

    @model_validator(mode="after")
    def _bands_cover_the_range(self) -> InstrumentSpec:
        if self.bands:
            expected = 0
            for b in self.bands:
                if b.min != expected or b.max < b.min:
                    raise ValueError(f"bands must be contiguous from 0: {b.band} starts at {b.min}")
                expected = b.max + 1
            if expected - 1 != self.items * self.max_answer:
                raise ValueError("bands must end at items x max_answer")
        return self


class ResourceSpec(Strict):
    name: str
    phone: str | None = None
    text: str | None = None
    url: str | None = None


class CrisisSpec(Strict):
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    id: RuleId
    source: Annotated[str, Field(min_length=3)]
    effective_from: date
    emergency_number: str
    resources: Annotated[list[ResourceSpec], Field(min_length=1)]


class EscalationSpec(Strict):
    id: RuleId
    source: Annotated[str, Field(min_length=3)]
    effective_from: date
    open_bound_minutes: Annotated[int, Field(ge=1, le=1440)]


class ScreeningSpec(Strict):
    phq9: InstrumentSpec
    gad7: InstrumentSpec
    cssrs: InstrumentSpec


class RoutingPolicyFile(FileHeader):
    kind: Literal["routing_policy"]
    rules: Annotated[list[RoutingRuleSpec], Field(min_length=1)]
    screening: ScreeningSpec
    crisis: Annotated[list[CrisisSpec], Field(min_length=1)]
    escalation: EscalationSpec

    @model_validator(mode="after")
    def _unique(self) -> RoutingPolicyFile:
        _require_unique([r.id for r in self.rules], "id")
        _require_unique([c.country for c in self.crisis], "crisis country")
        if not any(r.effect == "escalate" for r in self.rules):
            raise ValueError("a routing policy must escalate some risk level: a crisis may never go silent")
        return self


FILE_MODELS["routing_policy"] = RoutingPolicyFile
