"""Sites, clinicians, availability rules and patients."""

from __future__ import annotations

from chalice import Blueprint, Response

from ..bootstrap import get_services
from ..domain.errors import FieldError, ValidationFailed
from ..schemas.directory import (
    AvailabilityIn,
    ClinicianIn,
    ClinicianPatch,
    PatientIn,
    PatientPatch,
    SiteIn,
    SitePatch,
    TenantSettingsIn,
)
from ..schemas.queries import PageQuery
from . import directory_inputs as inputs
from .endpoint import Call, endpoint, ok
from .idempotency import idempotent
from .presenters import clinician_json, clinician_view, patient_json, settings_json, site_json

directory = Blueprint(__name__)


@endpoint(directory, "POST", "/v1/sites", body=SiteIn, response="SiteOut", status=201, idempotency_key=True,
          summary="Create a site")
def create_site(call: Call) -> Response:
    body = inputs.site_draft(call.body(SiteIn))
    return idempotent(call, "POST /v1/sites",
                      lambda: (201, site_json(get_services().directory.create_site(call.caller, body))))


@endpoint(directory, "GET", "/v1/sites", query=PageQuery, response="SiteList", summary="List the tenant's sites")
def list_sites(call: Call) -> Response:
    page = call.params(PageQuery)
    sites, next_cursor = get_services().directory.list_sites(call.caller, page.limit, page.cursor)
    return ok({"items": [site_json(s) for s in sites], "next_cursor": next_cursor})


@endpoint(directory, "GET", "/v1/sites/{site_id}", response="SiteOut", summary="Get a site")
def get_site(call: Call, site_id: str) -> Response:
    return ok(site_json(get_services().directory.get_site(call.caller, site_id)))


@endpoint(directory, "PATCH", "/v1/sites/{site_id}", body=SitePatch, response="SiteOut", errors=(404, 409, 412),
          summary="Change a site (its in-person visits are decided again when its place changes)")
def patch_site(call: Call, site_id: str) -> Response:
    body = inputs.site_changes(call.body(SitePatch))
    return ok(site_json(get_services().directory.patch_site(call.caller, site_id, body, if_match(call))))


@endpoint(directory, "POST", "/v1/clinicians", body=ClinicianIn, response="ClinicianOut", status=201,
          idempotency_key=True, summary="Create a clinician")
def create_clinician(call: Call) -> Response:
    body = inputs.clinician_draft(call.body(ClinicianIn))
    return idempotent(call, "POST /v1/clinicians",
                      lambda: (201, clinician_json(get_services().directory.create_clinician(call.caller, body))))


@endpoint(directory, "GET", "/v1/clinicians", query=PageQuery, response="ClinicianList",
          summary="List the tenant's clinicians")
def list_clinicians(call: Call) -> Response:
    page = call.params(PageQuery)
    clinicians, next_cursor = get_services().directory.list_clinicians(call.caller, page.limit, page.cursor)
    return ok({"items": [clinician_view(c, call.caller) for c in clinicians], "next_cursor": next_cursor})


@endpoint(directory, "GET", "/v1/clinicians/{clinician_id}", response="ClinicianOut", summary="Get a clinician")
def get_clinician(call: Call, clinician_id: str) -> Response:
    return ok(clinician_view(get_services().directory.get_clinician(call.caller, clinician_id), call.caller))


@endpoint(directory, "PATCH", "/v1/clinicians/{clinician_id}", body=ClinicianPatch, response="ClinicianOut",
          errors=(404, 409, 412),
          summary="Change a clinician: licences, privileges, DEA registrations and their status; visits that "
                  "lost their authority are flagged needs_review")
def patch_clinician(call: Call, clinician_id: str) -> Response:
    body = inputs.clinician_changes(call.body(ClinicianPatch))
    clinician, review = get_services().directory.patch_clinician(call.caller, clinician_id, body, if_match(call))
    return ok({**clinician_json(clinician), "visits_review": review})


@endpoint(directory, "PUT", "/v1/clinicians/{clinician_id}/availability", body=AvailabilityIn,
          response="ClinicianOut", errors=(409,), summary="Replace a clinician's weekly availability and exceptions")
def put_availability(call: Call, clinician_id: str) -> Response:
    body = inputs.availability(call.body(AvailabilityIn))
    clinician = get_services().directory.set_availability(call.caller, clinician_id, body)
    return ok(clinician_json(clinician))


@endpoint(directory, "POST", "/v1/patients", body=PatientIn, response="PatientOut", status=201,
          idempotency_key=True, summary="Register a patient")
def create_patient(call: Call) -> Response:
    body = inputs.patient_draft(call.body(PatientIn))
    return idempotent(call, "POST /v1/patients",
                      lambda: (201, patient_json(get_services().directory.create_patient(call.caller, body))))


@endpoint(directory, "GET", "/v1/patients/{patient_id}", response="PatientOut", summary="Get a patient")
def get_patient(call: Call, patient_id: str) -> Response:
    return ok(patient_json(get_services().directory.get_patient(call.caller, patient_id)))


@endpoint(directory, "PATCH", "/v1/patients/{patient_id}", body=PatientPatch, response="PatientOut",
          errors=(404, 409, 412), summary="Change a patient's record")
def patch_patient(call: Call, patient_id: str) -> Response:
    body = inputs.patient_changes(call.body(PatientPatch))
    return ok(patient_json(get_services().directory.patch_patient(call.caller, patient_id, body, if_match(call))))


@endpoint(directory, "GET", "/v1/tenant/settings", response="TenantSettingsOut", summary="The tenant's policy")
def get_tenant_settings(call: Call) -> Response:
    return ok(settings_json(get_services().tenant_settings.get(call.caller)))


@endpoint(directory, "PUT", "/v1/tenant/settings", body=TenantSettingsIn, response="TenantSettingsOut",
          errors=(409, 412), summary="Set the tenant's policy (e.g. refuse allowances resting on uncertain rules)")
def put_tenant_settings(call: Call) -> Response:
    body = inputs.settings_update(call.body(TenantSettingsIn))
    return ok(settings_json(get_services().tenant_settings.put(call.caller, body, if_match(call))))


def if_match(call: Call) -> int | None:
    """`If-Match: 3` (or `"3"`, `W/"3"`): the version the caller last read."""
    raw = (call.headers or {}).get("if-match")
    if raw is None or not raw.strip():
        return None
    text = raw.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 12:
        raise ValidationFailed("If-Match must be a record version", errors=[FieldError("If-Match",
                                                                                     "must be an integer version")])
    return int(text)
