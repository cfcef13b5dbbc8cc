"""OpenAPI description of the FHIR routes (GET /v1/openapi.json): FHIR resources are open-ended JSON,
described by their resourceType; the query models list each search parameter. Imported only when the
document is built. The routes parse their own input (chalicelib/fhir/inbound.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FhirResource(BaseModel):
    """A FHIR R4 resource (https://hl7.org/fhir/R4/)."""

    model_config = ConfigDict(extra="allow", defer_build=True)
    resourceType: str


class OperationOutcome(BaseModel):
    """A FHIR OperationOutcome; issue[].details.coding[].code is the /v1 error code (e.g. SLOT_TAKEN)."""

    model_config = ConfigDict(extra="allow", defer_build=True)
    resourceType: str
    issue: list[dict[str, Any]]


class BulkManifest(BaseModel):
    """SMART Scheduling Links $bulk-publish manifest."""

    model_config = ConfigDict(extra="allow", defer_build=True)
    transactionTime: str
    request: str
    output: list[dict[str, Any]]
    error: list[Any]


class Ndjson(BaseModel):
    model_config = ConfigDict(defer_build=True)


class _Query(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)
    count: str | None = Field(default=None, alias="_count", description="Page size 1-200")
    cursor: str | None = Field(default=None, alias="_cursor", description="From the Bundle's next link")


class IdQuery(_Query):
    id: str | None = Field(default=None, alias="_id")


class RoleQuery(IdQuery):
    practitioner: str | None = None


class ScheduleQuery(IdQuery):
    actor: str | None = None
    service_type: str | None = Field(default=None, alias="service-type")


class SlotQuery(_Query):
    schedule: str | None = None
    start: list[str] = Field(description="Two bounds: start=ge...&start=lt...")
    service_type: str = Field(alias="service-type", description="CPT code")
    status: str | None = None
    patient: str | None = None
    patient_jurisdiction: str | None = Field(default=None, alias="patient-jurisdiction")
    modality: str | None = None


class AppointmentQuery(_Query):
    patient: str | None = None
    practitioner: str | None = None
    date: list[str] | None = None


class AppointmentIn(BaseModel):
    """A FHIR Appointment to book: participant (Patient, Practitioner/PractitionerRole, optional Location),
    start, serviceType (CPT) and the visit-modality extension (or a Location participant)."""

    model_config = ConfigDict(extra="allow", defer_build=True)
    resourceType: str
    start: str | None = None
    participant: list[dict[str, Any]] | None = None


