"""The shape of every rules file, as pydantic models; JSON Schemas are generated from these."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..domain.model import Discipline, Modality

RuleId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,80}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleBase(Strict):
    id: RuleId
    source: Annotated[str, Field(min_length=3, description="Citation: statute, regulation or page")]
    effective_from: date
    effective_to: date | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> RuleBase:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        return self


class FileHeader(Strict):
    kind: str
    version: Annotated[str, Field(min_length=1)]
    checked_on: date
    review_by: date
    description: str | None = None


class ServiceRule(RuleBase):
    code: Annotated[str, Field(pattern=r"^[0-9A-Z]{5}$")]
    name: str
    duration_minutes: Annotated[int, Field(ge=5, le=480)]
    slot_step_minutes: Annotated[int, Field(ge=15, le=240, multiple_of=15)] = 15
    disciplines: Annotated[list[Discipline], Field(min_length=1)]
    modalities: Annotated[list[Modality], Field(min_length=1)]
    service_type_codes: dict[str, Annotated[list[Annotated[str, Field(pattern=r"^[0-9A-Z]{1,2}$")]],
                                            Field(min_length=1)]]

    @model_validator(mode="after")
    def _default_service_types(self) -> ServiceRule:
        if "default" not in self.service_type_codes:
            raise ValueError("service_type_codes needs a 'default' entry")
        unknown = set(self.service_type_codes) - {"default"} - {d.value for d in Discipline}
        if unknown:
            raise ValueError(f"service_type_codes has unknown disciplines: {sorted(unknown)}")
        return self


class ServiceCatalogFile(FileHeader):
    kind: Literal["service_catalog"]
    rules: Annotated[list[ServiceRule], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> ServiceCatalogFile:
        _require_unique([r.id for r in self.rules], "id")
        _require_unique([r.code for r in self.rules], "code")
        return self


def _require_unique(values: list[Any], what: str) -> None:
    seen: set[Any] = set()
    dupes = {v for v in values if v in seen or seen.add(v)}  # type: ignore[func-returns-value]
    if dupes:
        raise ValueError(f"duplicate {what}: {sorted(dupes)}")


# kind -> file model. Add a kind here and its files are validated, bundled and schema'd.
FILE_MODELS: dict[str, type[FileHeader]] = {
    "service_catalog": ServiceCatalogFile,
}

# Licensure kinds (jurisdictions, license_types, compacts, prescribing) live in their own module,
# which builds on the bases above and registers itself into FILE_MODELS: hence the import here.
# Payer defaults (kind payer_policy, scheduling_rules/payers/) register the same way.
from . import jurisdiction_schema, payer_schema, routing_schema  # noqa: E402, F401
