"""Query strings of the list and search routes: the routes validate with these models and the
OpenAPI document lists their fields as query parameters.

An empty value (`?patient_id=`) counts as absent; unknown parameters are ignored. A `+` in a
time offset arrives as a space when the client did not percent-encode it; it is read as `+`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ..domain.model import Modality
from .common import Id, Jurisdiction, to_utc


def _plus_from_space(value: Any) -> Any:
    return value.replace(" ", "+") if isinstance(value, str) else value


QueryMoment = Annotated[AwareDatetime, BeforeValidator(_plus_from_space), AfterValidator(to_utc),
                        Field(description="RFC 3339 date-time with an offset (years 1900-2199)",
                              examples=["2026-03-09T09:00:00-05:00"])]
Cursor = Annotated[str, Field(min_length=1, max_length=2048, description="`next_cursor` of the previous page")]
Limit = Annotated[int, Field(ge=1, le=200, description="Page size (default 50)")]


class QueryModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v not in (None, "")}
        return data


class PageQuery(QueryModel):
    limit: Limit = 50
    cursor: Cursor | None = None


class AvailabilityQuery(QueryModel):
    service: Annotated[str, Field(pattern=r"^[0-9A-Z]{5}$", examples=["90834"], description="CPT code")]
    from_: QueryMoment = Field(alias="from")
    to: QueryMoment
    patient_id: Id | None = None
    patient_jurisdiction: Jurisdiction | None = Field(
        default=None, description="Where the patient will be; default: the patient's home jurisdiction")
    modality: Modality | None = None
    clinician_id: Id | None = None
    limit: Limit = 50
    cursor: Cursor | None = None


class AppointmentListQuery(QueryModel):
    clinician_id: Id | None = None
    patient_id: Id | None = None
    from_: QueryMoment | None = Field(default=None, alias="from")
    to: QueryMoment | None = None
    needs_review: bool = Field(default=False, description="Only visits whose licensure needs review "
                               "(alone: every flagged visit of the tenant, for schedulers and admins)")
    limit: Limit = 50
    cursor: Cursor | None = None


class AuditQuery(QueryModel):
    patient_id: Id | None = None
    from_: QueryMoment | None = Field(default=None, alias="from", description="Default: 30 days ago")
    to: QueryMoment | None = None
    limit: Limit = 50
    cursor: Cursor | None = None


class EscalationQuery(QueryModel):
    status: Literal["open", "acknowledged", "resolved"] | None = None
    limit: Limit = 50
