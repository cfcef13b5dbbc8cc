"""Request (and documented response) bodies of the payer and eligibility routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints, model_validator

from ..domain.model import Discipline, Modality
from .common import Body, Fraction, Id, Jurisdiction, Money, Npi

PayerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{2,64}$")]
MemberId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{2,80}$")]
FirstName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=35)]
LastName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
PayerName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
PlaceOfService = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")]
Modifier = Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{2}$")]
Service = Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{5}$")]


class _In(Body):
    """Built on first use, not when `import app` runs (a Lambda cold start)."""

    model_config = ConfigDict(defer_build=True)


# --- PUT /v1/payers/{payer_id} --------------------------------------------------------------------

class ConnectorIn(_In):
    kind: Literal["x12_http", "roster"]
    url: Annotated[str, StringConstraints(max_length=2048)] | None = Field(
        None, description="x12_http: where 270s are POSTed. https on deployed stages; http://127.0.0.1:PORT "
                          "or localhost only on the local stage. Private, link-local and metadata addresses "
                          "are refused (422 CONNECTOR_URL_NOT_ALLOWED).")

    @model_validator(mode="after")
    def _url_fits_kind(self) -> ConnectorIn:
        if self.kind == "x12_http" and not self.url:
            raise ValueError("url is required for an x12_http connector")
        if self.kind == "roster" and self.url:
            raise ValueError("url is used only by an x12_http connector")
        return self


class CoverageIn(_In):
    covered: bool


class ModifiersIn(_In):
    video: Annotated[list[Modifier], Field(max_length=4)] | None = None
    phone: Annotated[list[Modifier], Field(max_length=4)] | None = None


class TelehealthPolicyIn(_In):
    """Any subset: the fields left out keep the defaults of scheduling_rules/payers/."""

    video: CoverageIn | None = None
    phone: CoverageIn | None = None
    place_of_service_home: PlaceOfService | None = None
    place_of_service_other: PlaceOfService | None = None
    modifiers: ModifiersIn | None = None


class PayerIn(_In):
    name: PayerName
    connector: ConnectorIn
    telehealth_policy: TelehealthPolicyIn | None = None


# --- PUT /v1/payers/{payer_id}/members/{member_id} ------------------------------------------------

class PlanIn(_In):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class RosterBenefitsIn(_In):
    copay: Money | None = None
    coinsurance: Fraction | None = None
    deductible_remaining: Money | None = None
    out_of_pocket_remaining: Money | None = None


class MemberIn(_In):
    first_name: FirstName
    last_name: LastName
    birth_date: date
    plan: PlanIn | None = None
    active_from: date
    active_to: date | None = None
    benefits: RosterBenefitsIn = Field(default_factory=RosterBenefitsIn)

    @model_validator(mode="after")
    def _dates_in_order(self) -> MemberIn:
        if self.active_to is not None and self.active_to < self.active_from:
            raise ValueError("active_to is before active_from")
        return self


# --- POST /v1/eligibility/checks ------------------------------------------------------------------

class MemberRefIn(_In):
    member_id: MemberId
    first_name: FirstName
    last_name: LastName
    birth_date: date


class EligibilityCheckIn(_In):
    payer_id: PayerId
    member: MemberRefIn
    provider_npi: Npi | None = Field(None, description="Required unless clinician_id names the provider.")
    service: Service
    modality: Modality
    date_of_service: date = Field(description="The visit's local date: this is what DTP*291 carries.")
    patient_jurisdiction: Jurisdiction | None = None
    patient_location_type: Literal["home", "other"] = Field(
        "home", description="Where the patient is for a telehealth visit: home (POS 10) or other (POS 02).")
    clinician_id: Id | None = Field(None, description="Scheduler only: the tenant's clinician (NPI, discipline, "
                                                      "payer networks).")
    discipline: Discipline | None = Field(None, description="Picks the service type codes when no clinician_id.")
    provider_name: PayerName | None = None
    patient_id: Id | None = Field(None, description="Scheduler only: links the check to a patient in the audit.")


class CheckQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    include: Literal["raw271"] | None = None


class X12Text(RootModel[str]):
    """An X12 document as text (documents the body of POST /v1/eligibility/x12; the view reads raw bytes)."""

    model_config = ConfigDict(defer_build=True)


# --- responses (documentation: GET /v1/openapi.json) ----------------------------------------------

class _Out(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow")


class BenefitsOut(_Out):
    copay: str | None = Field(description='Decimal string, "25.00"')
    coinsurance: str | None = Field(description='Decimal fraction string, "0.2" = 20 %')
    deductible_remaining: str | None
    out_of_pocket_remaining: str | None
    in_network: bool | None = Field(description="Whether the provider is in the payer's network, from our directory "
                                                "(clinician payer_networks); null unless known. EB12 only labels "
                                                "which benefit row is the in- or out-of-network one.")


class TelehealthOut(_Out):
    covered: bool | None
    place_of_service: str
    modifiers: list[str]


class AaaOut(_Out):
    code: str
    description: str | None
    level: str
    follow_up_action: str | None


class PlanOut(_Out):
    name: str | None
    begin: date | None
    end: date | None


class PendingOut(_Out):
    attempts: int
    next_attempt_at: datetime | None
    give_up_at: datetime | None
    reason: str | None


class EligibilityCheckOut(_Out):
    check_id: str
    status: Literal["active", "inactive", "not_found", "error", "pending"]
    payer_id: str
    service: str
    modality: Modality
    date_of_service: date
    service_type_codes: list[str]
    plan: PlanOut
    benefits: BenefitsOut
    benefit_network: str | None
    telehealth: TelehealthOut
    aaa_errors: list[AaaOut]
    source: Literal["x12_http", "roster"]
    cached: bool
    checked_at: datetime | None
    requested_at: datetime
    pending: PendingOut | None
    error: str | None


class PayerOut(_Out):
    payer_id: str
    name: str
    connector: dict[str, str | None] | None
    telehealth_policy: dict[str, object]
    telehealth_policy_source: dict[str, object]
    version: int


class MemberOut(_Out):
    payer_id: str
    created: bool
    plan: dict[str, str | None]
    active_from: date
    active_to: date | None
