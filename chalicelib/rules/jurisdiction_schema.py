"""Rules file shapes for licensure: jurisdictions, licence types, compacts, prescribing.

This module registers JURISDICTION_FILE_MODELS into schema.FILE_MODELS (schema.py imports it), so
these files are validated, bundled and get a JSON Schema like every other kind. Cross-file
references (a compact naming a jurisdiction or licence type that does not exist) are checked in
jurisdiction_compile.py.
"""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, model_validator

from ..domain.license_types import normalize_type
from ..domain.model import Discipline, Modality
from .schema import FILE_MODELS, FileHeader, RuleBase, Strict, _require_unique

JurisdictionCode = Annotated[str, Field(pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$",
                                        description="ISO 3166-2 code, e.g. US-NY, US-DC, CA-ON")]
UpperCode = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,40}$")]
Schedule = Literal["II", "III", "IV", "V"]
Text = Annotated[str, Field(min_length=3)]


class TrackedRule(RuleBase):
    """A rule that can be marked uncertain ([?] in the facts); it must then say why in `note`."""

    uncertain: bool = Field(False, description="The facts behind this rule are marked [?]; decisions say so")

    @model_validator(mode="after")
    def _uncertain_says_why(self) -> TrackedRule:
        if self.uncertain and not self.note:
            raise ValueError("an uncertain rule needs a note saying what to re-check")
        return self


class ConditionSpec(Strict):
    code: UpperCode
    detail: Text


# --- jurisdictions.yaml -------------------------------------------------------------------------

class JurisdictionRule(TrackedRule):
    code: JurisdictionCode
    name: Text
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    category: Literal["state", "district", "territory", "province"]
    default_zone: Annotated[str, Field(description="IANA zone, e.g. America/New_York")]
    other_zones: list[str] = Field(default_factory=list, description="Further IANA zones inside it")
    postal_zones: dict[Annotated[str, Field(pattern=r"^[0-9A-Z]{1,5}$")], str] = Field(
        default_factory=dict,
        description="Postal-code prefix -> one of other_zones, for addresses that tell which zone applies")

    @model_validator(mode="after")
    def _consistent(self) -> JurisdictionRule:
        if not self.code.startswith(f"{self.country}-"):
            raise ValueError(f"code {self.code} does not belong to country {self.country}")
        for prefix, zone in self.postal_zones.items():
            if zone not in self.other_zones:
                raise ValueError(f"postal_zones[{prefix}]: {zone!r} is not one of other_zones")
        for zone in (self.default_zone, *self.other_zones):
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown IANA zone {zone!r}") from exc
        return self


class JurisdictionsFile(FileHeader):
    kind: Literal["jurisdictions"]
    rules: Annotated[list[JurisdictionRule], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> JurisdictionsFile:
        _require_unique([r.id for r in self.rules], "id")
        _require_unique([r.code for r in self.rules], "code")
        return self


# --- license_types.yaml -------------------------------------------------------------------------

class BaselineRule(TrackedRule):
    statement: Text


class LicenseTypeRule(TrackedRule):
    code: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,40}$")]
    name: Text
    aliases: list[str] = Field(default_factory=list, description="Other spellings admins may enter")
    disciplines: list[Discipline] = Field(description="Disciplines this credential lets practise (may be empty)")
    modalities: Annotated[list[Modality], Field(min_length=1, default_factory=lambda: list(Modality),
                                                description="Modalities the credential covers")]
    basis: Literal["license", "exception"] = "license"
    jurisdictions: list[JurisdictionCode] = Field(default_factory=list,
                                                  description="Where the type exists; empty = anywhere")
    requires_license_elsewhere: bool = False
    uncertain_disciplines: list[Discipline] = Field(default_factory=list)
    uncertain_modalities: list[Modality] = Field(default_factory=list)
    conditions: list[ConditionSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> LicenseTypeRule:
        if self.basis == "exception" and not self.jurisdictions:
            raise ValueError("an exception applies in named jurisdictions: list them")
        if set(self.uncertain_disciplines) & set(self.disciplines):
            raise ValueError("uncertain_disciplines lists disciplines that are excluded, not included")
        if set(self.uncertain_modalities) & set(self.modalities):
            raise ValueError("uncertain_modalities lists modalities that are excluded, not included")
        return self


class LicenseTypesFile(FileHeader):
    kind: Literal["license_types"]
    baseline: BaselineRule
    rules: Annotated[list[LicenseTypeRule], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> LicenseTypesFile:
        _require_unique([r.id for r in self.rules] + [self.baseline.id], "id")
        _require_unique([key for r in self.rules for key in {normalize_type(k) for k in (r.code, *r.aliases)}],
                        "code or alias (compared without case or punctuation)")
        return self


# --- compacts.yaml ------------------------------------------------------------------------------

class MembershipGroup(Strict):
    status: Literal["operational", "enacted", "pending"]
    jurisdictions: Annotated[list[JurisdictionCode], Field(min_length=1)]
    since: date
    until: date | None = None
    dated_by: Literal["event", "source"] = Field(
        "event", description="event: the status began on `since`; source: `since` is only the source's date")
    can_be_home: bool = True
    source: Text | None = Field(None, description="Citation for this group; defaults to the compact's")
    uncertain: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> MembershipGroup:
        if self.until is not None and self.until < self.since:
            raise ValueError("until is before since")
        if self.uncertain and not self.note:
            raise ValueError("an uncertain membership group needs a note saying what to re-check")
        _require_unique(self.jurisdictions, "jurisdiction")
        return self


class PrivilegeKindSpec(Strict):
    kind: UpperCode
    name: Text
    modalities: Annotated[list[Modality], Field(min_length=1)]
    max_days_per_calendar_year: Annotated[int, Field(ge=1, le=366)] | None = None
    conditions: list[ConditionSpec] = Field(default_factory=list)


class CompactRule(TrackedRule):
    compact: UpperCode
    name: Text
    model: Literal["privilege", "multistate_license", "expedited_licensure"]
    disciplines: list[Discipline]
    home_license_types: Annotated[list[str], Field(min_length=1)]
    issuing_from: date | None = Field(description="First day privileges/licences are issued; null = not issuing")
    privilege_kinds: list[PrivilegeKindSpec] = Field(default_factory=list)
    privilege_scope: Literal["all_members", "listed_states"] = "all_members"
    home_state_must_be_operational: bool = True
    membership_uncertain: bool = Field(
        False, description="The member list may be incomplete ([?]): 'not a member' refusals are flagged uncertain")
    conditions: list[ConditionSpec] = Field(default_factory=list)
    members: Annotated[list[MembershipGroup], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> CompactRule:
        if self.membership_uncertain and not self.note:
            raise ValueError("membership_uncertain needs a note saying what to re-check")
        if self.model == "privilege" and not self.privilege_kinds:
            raise ValueError("a privilege compact needs privilege_kinds")
        if self.model == "expedited_licensure" and (self.privilege_kinds or self.privilege_scope != "all_members"):
            raise ValueError("an expedited-licensure compact grants no privilege kinds")
        _require_unique([k.kind for k in self.privilege_kinds], "privilege kind")
        starts = [(j, g.since) for g in self.members for j in g.jurisdictions]
        _require_unique(starts, "(jurisdiction, since) membership start")
        return self


class CompactsFile(FileHeader):
    kind: Literal["compacts"]
    rules: Annotated[list[CompactRule], Field(min_length=1)]

    @model_validator(mode="after")
    def _no_overlap(self) -> CompactsFile:
        _require_unique([r.id for r in self.rules], "id")
        by_compact: dict[str, list[CompactRule]] = {}
        for r in self.rules:
            by_compact.setdefault(r.compact, []).append(r)
        for name, versions in by_compact.items():
            versions.sort(key=lambda r: r.effective_from)
            for before, after in pairwise(versions):
                if before.effective_to is None or before.effective_to >= after.effective_from:
                    raise ValueError(f"{name}: rules {before.id} and {after.id} overlap in time")
        return self


# --- prescribing.yaml ---------------------------------------------------------------------------

class PrescribingRuleSpec(TrackedRule):
    effect: Literal["permit_telemedicine", "require_prior_in_person_evaluation",
                    "require_dea_registration_in_patient_state"]
    status: Literal["in_force", "proposed"] = Field(
        "in_force", description="proposed: cited to explain a refusal, never applied")
    schedules: Annotated[list[Schedule], Field(min_length=1)]
    modalities: list[Modality] = Field(default_factory=list, description="Empty = every modality")
    medication: Literal["any", "oud"] = Field("any", description="oud: FDA-approved OUD medications only")
    conditions: list[ConditionSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> PrescribingRuleSpec:
        if self.effect == "permit_telemedicine" and (not self.modalities or Modality.IN_PERSON in self.modalities):
            raise ValueError("permit_telemedicine names telehealth modalities (video, phone) only")
        return self


class PrescribingFile(FileHeader):
    kind: Literal["prescribing"]
    rules: Annotated[list[PrescribingRuleSpec], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> PrescribingFile:
        _require_unique([r.id for r in self.rules], "id")
        return self


JURISDICTION_FILE_MODELS: dict[str, type[FileHeader]] = {
    "jurisdictions": JurisdictionsFile,
    "license_types": LicenseTypesFile,
    "compacts": CompactsFile,
    "prescribing": PrescribingFile,
}
FILE_MODELS.update(JURISDICTION_FILE_MODELS)
