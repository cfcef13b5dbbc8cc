"""Request (and documented response) bodies of the payer and eligibility routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints, model_validator

from ..domain.model import Discipline, Modality
from .common import Body, Fraction, Id, Jurisdiction, Money, Npi

PayerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{2,64}$")]
# Spaces are allowed as printed on cards ("W123 456 789") and removed before sending.
MemberId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]{1,79}$")]
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

X12Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ]{0,14}$")]
X12Qualifier = Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{2}$")]


class X12PartnerIn(_In):
    """The clearinghouse's companion-guide settings; every field optional."""

    sender_id: X12Id | None = Field(None, description="ISA06/GS02; default: the deployment's sender id")
    sender_qualifier: X12Qualifier | None = Field(None, description="ISA05, e.g. ZZ (mutually defined), 30 (EIN)")
    receiver_id: X12Id | None = Field(None, description="ISA08/GS03: the clearinghouse's id (the payer is named "
                                                        "only in 2100A NM109)")
    receiver_qualifier: X12Qualifier | None = Field(None, description="ISA07")
    application_receiver_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{2,15}$")] | None = None
    usage_indicator: Literal["T", "P"] | None = Field(None, description="ISA15 forced; default: P on deployed "
                                                                         "stages, T on the local stage")
    provider_entity: Literal["person", "organization"] | None = Field(
        None, description="person (default): NM1*1P*1 with the clinician's names; organization: NM1*1P*2")
    organization_name: PayerName | None = None
    organization_npi: Annotated[str, StringConstraints(pattern=r"^[0-9]{10}$")] | None = None
    character_set: Literal["basic", "extended"] | None = Field(
        None, description="basic (default): names transliterated (MARIA); extended: accented letters kept (MARÍA)")


class ConnectorIn(_In):
    kind: Literal["x12_http", "roster"]
    url: Annotated[str, StringConstraints(max_length=2048)] | None = Field(
        None, description="x12_http: where 270s are POSTed. https on deployed stages; http://127.0.0.1:PORT "
                          "or localhost only on the local stage. Private, link-local and metadata addresses "
                          "are refused (422 CONNECTOR_URL_NOT_ALLOWED).")

    x12: X12PartnerIn | None = None

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


class DependentIn(_In):
    """The patient when they are covered as the member's dependent (their own name and birth date)."""

    first_name: FirstName
    last_name: LastName
    birth_date: date
    relationship: Literal["01", "19", "34"] | None = None


class EligibilityCheckIn(_In):
    payer_id: PayerId
    member: MemberRefIn = Field(description="The subscriber (the policy holder).")
    dependent: DependentIn | None = Field(None, description="Set when the patient is the subscriber's dependent "
                                                            "(sent as HL 23).")
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
    carve_out: bool = Field(description="The payer says another entity administers this service (EB*U)")
    refer_to: list[dict[str, str | None]] = Field(description="Who to ask for a carved-out service")
    rejection: dict[str, object] | None = Field(description="A TA1 or 999 the clearinghouse sent instead "
                                                             "of a 271, with its codes")
    warnings: list[str]
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
