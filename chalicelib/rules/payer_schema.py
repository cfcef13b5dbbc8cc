"""Rules file shape for payer defaults (kind ``payer_policy``, files in scheduling_rules/payers/).

Each rule is one payer's defaults, or the default for every payer (``payer_id: "*"``): the
telehealth policy (covered by modality, place of service at home / elsewhere, modifiers) and,
optionally, the connector. A payer overrides any of it through ``PUT /v1/payers/{payer_id}``; the
API version wins field by field. Registers itself into schema.FILE_MODELS (schema.py imports it).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .jurisdiction_schema import TrackedRule
from .schema import FILE_MODELS, FileHeader, Strict, _require_unique

PlaceOfService = Annotated[str, Field(pattern=r"^[0-9]{2}$", description="CMS place-of-service code, e.g. 10, 02")]
Modifier = Annotated[str, Field(pattern=r"^[0-9A-Z]{2}$", description="CPT/HCPCS modifier, e.g. 95, 93")]


class CoverageSpec(Strict):
    covered: bool


class ModifiersSpec(Strict):
    video: Annotated[list[Modifier], Field(max_length=4)]
    phone: Annotated[list[Modifier], Field(max_length=4)]


class TelehealthSpec(Strict):
    video: CoverageSpec
    phone: CoverageSpec
    place_of_service_home: PlaceOfService = "10"
    place_of_service_other: PlaceOfService = "02"
    modifiers: ModifiersSpec


X12Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ]{0,14}$")]
X12Qualifier = Annotated[str, Field(pattern=r"^[0-9A-Z]{2}$")]


class X12PartnerSpec(Strict):
    """The clearinghouse's companion-guide settings (see domain.payer_policy.X12Partner)."""

    sender_id: X12Id | None = None
    sender_qualifier: X12Qualifier = "ZZ"
    receiver_id: X12Id | None = Field(None, description="ISA08/GS03: the clearinghouse, never the payer")
    receiver_qualifier: X12Qualifier = "ZZ"
    application_receiver_code: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{2,15}$")] | None = None
    usage_indicator: Literal["T", "P"] | None = None
    provider_entity: Literal["person", "organization"] = "person"
    organization_name: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    organization_npi: Annotated[str, Field(pattern=r"^[0-9]{10}$")] | None = None
    character_set: Literal["basic", "extended"] = "basic"


class ConnectorSpec(Strict):
    kind: Literal["x12_http", "roster"]
    url: Annotated[str, Field(pattern=r"^https://", max_length=2048)] | None = Field(
        None, description="x12_http only; https (the URL policy is checked again at runtime)")
    x12: X12PartnerSpec | None = None

    @model_validator(mode="after")
    def _url_fits_kind(self) -> ConnectorSpec:
        if (self.kind == "x12_http") != (self.url is not None):
            raise ValueError("an x12_http connector needs a url; a roster connector has none")
        return self


class PayerPolicyRule(TrackedRule):
    payer_id: Annotated[str, Field(pattern=r"^(\*|[A-Za-z0-9_-]{2,64})$",
                                   description='The payer id, or "*" for every payer without its own entry')]
    name: Annotated[str, Field(min_length=1, max_length=60)]
    connector: ConnectorSpec | None = None
    telehealth: TelehealthSpec


class PayerPolicyFile(FileHeader):
    kind: Literal["payer_policy"]
    rules: Annotated[list[PayerPolicyRule], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> PayerPolicyFile:
        _require_unique([r.id for r in self.rules], "id")
        return self


FILE_MODELS["payer_policy"] = PayerPolicyFile
