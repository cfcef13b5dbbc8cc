"""FHIR R4 at /fhir/R4: the same services, callers and rules as /v1, spoken as FHIR resources.

Kept light for `import app`: the mapping (chalicelib/fhir) loads on the first FHIR request. Every
error leaves as an OperationOutcome carrying the /v1 error code (FhirBlueprint converts the
problem+json the endpoint decorator produces), every success as application/fhir+json.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from chalice import Blueprint, Response

from ..bootstrap import get_services
from ..domain.errors import FieldError, NotFound, ValidationFailed
from .endpoint import Call, endpoint
from .openapi_registry import ROUTES, record
from .problems import PROBLEM_JSON

FHIR_JSON = "application/fhir+json"
FHIR_NDJSON = "application/fhir+ndjson"
BASE = "/fhir/R4"


class FhirBlueprint(Blueprint):
    """Wraps each registered view so its problem+json errors become OperationOutcome resources."""

    def route(self, path: str, **kwargs: Any) -> Callable[[Callable[..., Response]], Any]:
        register = super().route(path, **kwargs)

        def wrap(view: Callable[..., Response]) -> Any:
            @functools.wraps(view)
            def as_fhir(**params: str) -> Response:
                return as_operation_outcome(view(**params))

            return register(as_fhir)

        return wrap


fhir = FhirBlueprint(__name__)


# Documentation models live in chalicelib/fhir/openapi_models.py, named here and imported only when the
# OpenAPI document is built, so `import app` defines no pydantic model for FHIR.
DOCS = "chalicelib.fhir.openapi_models:"
FhirResource, OperationOutcome, BulkManifest, Ndjson = (DOCS + n for n in (
    "FhirResource", "OperationOutcome", "BulkManifest", "Ndjson"))
IdQuery, RoleQuery, ScheduleQuery, SlotQuery, AppointmentQuery, AppointmentIn = (DOCS + n for n in (
    "IdQuery", "RoleQuery", "ScheduleQuery", "SlotQuery", "AppointmentQuery", "AppointmentIn"))


def _document(method: str, path: str, response: Any = FhirResource, content_type: str = FHIR_JSON) -> None:
    """FHIR routes answer FHIR media types, and their errors are OperationOutcome (api/openapi.py reads this)."""
    key = f"{method} {path}"
    record(replace(ROUTES[key], response=response, extra={
        "response_content_type": content_type, "error_content_type": FHIR_JSON, "error_model": OperationOutcome,
        "path_schema": {"type": "string", "pattern": r"^[A-Za-z0-9._-]{1,64}$"}}))


def fhir_route(method: str, path: str, *, summary: str, query: Any = None, errors: tuple[int, ...] = (),
               response: Any = FhirResource, content_type: str = FHIR_JSON, bp: Blueprint | None = None, **kw: Any
               ) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        wrapped = endpoint(bp or fhir, method, BASE + path, query=query, summary=summary, errors=errors,
                           **kw)(view)
        _document(method, BASE + path, response, content_type)
        return wrapped

    return decorate


# --- helpers -------------------------------------------------------------------------------------
def answer(resource: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(resource, separators=(",", ":")), status_code=status,
                    headers={"Content-Type": FHIR_JSON, **(headers or {})})


def as_operation_outcome(response: Response) -> Response:
    headers = dict(response.headers or {})
    if headers.get("Content-Type") != PROBLEM_JSON:
        return response
    from ..fhir.resources import operation_outcome

    problem = json.loads(response.body)
    fields = [e["field"] for e in problem.get("errors") or [] if isinstance(e, dict) and "field" in e]
    headers["Content-Type"] = FHIR_JSON
    outcome = operation_outcome(problem["status"], problem["code"], problem["title"], problem["detail"], fields)
    return Response(body=json.dumps(outcome), status_code=response.status_code, headers=headers)


def values(call: Call, name: str) -> list[str]:
    params = call.request.query_params
    if not params:
        return []
    if name not in params:
        return []
    found = params.getlist(name) if hasattr(params, "getlist") else [params.get(name)]
    return [v for v in found if v not in (None, "")]


def one(call: Call, name: str) -> str | None:
    found = values(call, name)
    if len(found) > 1:
        raise ValidationFailed(f"Invalid fields: {name}", errors=[FieldError(name, "give it once")])
    return found[0] if found else None


def base_url(call: Call) -> str:
    host = (call.headers or {}).get("host")
    if not host:
        return ""
    proto = (call.headers or {}).get("x-forwarded-proto") or (
        "http" if host.startswith(("127.0.0.1", "localhost")) else "https")
    return f"{proto}://{host}"


def bundle(call: Call, kind: str, resources: list[dict[str, Any]], next_cursor: str | None) -> Response:
    from urllib.parse import urlencode

    from ..fhir.resources import searchset

    query = [(k, v) for k in sorted(call.request.query_params or {}) for v in values(call, k) if k != "_cursor"]
    self_url = f"{base_url(call)}{BASE}/{kind}" + (f"?{urlencode(query)}" if query else "")
    next_url = None
    if next_cursor:
        next_url = f"{base_url(call)}{BASE}/{kind}?{urlencode([*query, ('_cursor', next_cursor)])}"
    return answer(searchset(resources, self_url, next_url))


def page(call: Call) -> tuple[int, str | None]:
    from ..fhir.inbound import count

    return count(values(call, "_count")), one(call, "_cursor")


def path_id(value: str, kind: str) -> str:
    """An id in the path: one that cannot be an id names nothing (404, as on /v1), not a bad request."""
    from ..fhir.inbound import reference

    try:
        return reference(value, kind, "id")
    except ValidationFailed as exc:
        raise NotFound(f"No such {kind}.") from exc


def ref(call: Call, name: str, kind: str) -> str | None:
    from ..fhir.inbound import reference

    raw = one(call, name)
    return reference(raw, kind, name) if raw else None


# --- metadata ------------------------------------------------------------------------------------
@fhir_route("GET", "/metadata", summary="FHIR CapabilityStatement: exactly what /fhir/R4 supports")
def metadata(call: Call) -> Response:
    from ..fhir.capability import statement
    from ..fhir.resources import instant

    return answer(statement(base_url(call) + BASE, instant(get_services().clock()) or ""))


# --- Patient -------------------------------------------------------------------------------------
@fhir_route("GET", "/Patient/{patient_id}", summary="Read a Patient")
def read_patient(call: Call, patient_id: str) -> Response:
    from ..fhir import reads

    return answer(reads.patient(get_services(), call.caller, path_id(patient_id, "Patient")))


@fhir_route("GET", "/Patient", query=IdQuery, summary="Search Patient by _id (a patient: their own record)")
def search_patient(call: Call) -> Response:
    from ..fhir import reads

    wanted = ref(call, "_id", "Patient")
    if wanted is None and not call.caller.tenant_wide:
        wanted = call.caller.patient_id
    if wanted is None:
        raise ValidationFailed("Invalid fields: _id", errors=[FieldError("_id", "give the patient's id")])
    try:
        found = [reads.patient(get_services(), call.caller, wanted)]
    except NotFound:
        found = []
    return bundle(call, "Patient", found, None)


# --- Practitioner and PractitionerRole -----------------------------------------------------------
@fhir_route("GET", "/Practitioner/{clinician_id}", summary="Read a Practitioner (NPI, licences, languages)")
def read_practitioner(call: Call, clinician_id: str) -> Response:
    from ..fhir import reads

    return answer(reads.practitioner(get_services(), call.caller, path_id(clinician_id, "Practitioner")))


@fhir_route("GET", "/Practitioner", query=IdQuery, summary="Search Practitioner")
def search_practitioner(call: Call) -> Response:
    from ..fhir import reads, resources

    return _directory_search(call, "Practitioner", lambda x: resources.practitioner(x, reads.today(get_services())))


@fhir_route("GET", "/PractitionerRole/{clinician_id}",
            summary="Read a PractitionerRole (discipline, modalities, languages, licensed jurisdictions, compacts)")
def read_role(call: Call, clinician_id: str) -> Response:
    from ..fhir import reads

    return answer(reads.practitioner_role(get_services(), call.caller,
                                          path_id(clinician_id, "PractitionerRole")))


@fhir_route("GET", "/PractitionerRole", query=RoleQuery, summary="Search PractitionerRole")
def search_role(call: Call) -> Response:
    from ..fhir import reads, resources

    def role(x: Any) -> dict[str, Any]:
        on = reads.today(get_services())
        return resources.practitioner_role(x, on, reads.telehealth_jurisdictions(x, on))

    return _directory_search(call, "PractitionerRole", role, ref(call, "practitioner", "Practitioner"))


def _directory_search(call: Call, kind: str, present: Callable[[Any], dict[str, Any]],
                      only: str | None = None) -> Response:
    services = get_services()
    wanted = ref(call, "_id", kind) or only
    if wanted is not None:
        try:
            return bundle(call, kind, [present(services.directory.get_clinician(call.caller, wanted))], None)
        except NotFound:
            return bundle(call, kind, [], None)
    from ..fhir import reads

    limit, cursor = page(call)
    found, next_cursor = reads.clinicians(services, call.caller, limit, cursor)
    return bundle(call, kind, [present(x) for x in found], next_cursor)


# --- Location ------------------------------------------------------------------------------------
@fhir_route("GET", "/Location/{site_id}", summary="Read a Location: a site, or virtual.{jurisdiction} for telehealth")
def read_location(call: Call, site_id: str) -> Response:
    from ..fhir import reads
    from ..fhir.codes import VIRTUAL_PREFIX

    wanted = site_id if site_id.startswith(VIRTUAL_PREFIX) else path_id(site_id, "Location")
    return answer(reads.location(get_services(), call.caller, wanted))


@fhir_route("GET", "/Location", query=IdQuery, summary="Search Location (sites, then virtual telehealth locations)")
def search_location(call: Call) -> Response:
    from ..fhir import reads

    wanted = one(call, "_id")
    if wanted is not None:
        try:
            return read_by_id(call, "Location", wanted)
        except NotFound:
            return bundle(call, "Location", [], None)
    return bundle(call, "Location", reads.locations(get_services(), call.caller.tenant_id), None)


def read_by_id(call: Call, kind: str, wanted: str) -> Response:
    from ..fhir import reads
    from ..fhir.codes import VIRTUAL_PREFIX
    from ..fhir.inbound import reference

    target = wanted if wanted.startswith(VIRTUAL_PREFIX) else reference(wanted, kind, "_id")
    return bundle(call, kind, [reads.location(get_services(), call.caller, target)], None)


# --- Schedule and Slot ---------------------------------------------------------------------------
@fhir_route("GET", "/Schedule/{clinician_id}", summary="Read a Schedule (one per clinician)")
def read_schedule(call: Call, clinician_id: str) -> Response:
    from ..fhir import reads

    return answer(reads.schedule(get_services(), call.caller, path_id(clinician_id, "Schedule")))


@fhir_route("GET", "/Schedule", query=ScheduleQuery, summary="Search Schedule by _id, actor or service-type")
def search_schedule(call: Call) -> Response:
    from ..fhir import codes, inbound, reads, resources

    services = get_services()
    actor = one(call, "actor")
    wanted = ref(call, "_id", "Schedule")
    if actor is not None:
        kind = actor.rpartition("/")[0].rsplit("/", 1)[-1] or "Practitioner"
        if kind not in ("Practitioner", "PractitionerRole"):
            raise ValidationFailed("Invalid fields: actor", errors=[FieldError("actor", "must be a Practitioner "
                                                                                         "or PractitionerRole")])
        by_actor = inbound.reference(actor, kind, "actor")
        if wanted is not None and wanted != by_actor:
            return bundle(call, "Schedule", [], None)
        wanted = by_actor
    service = one(call, "service-type")
    code = inbound.token(service, codes.CPT, "service-type") if service else None
    if wanted is not None:
        try:
            found = [services.directory.get_clinician(call.caller, wanted)]
        except NotFound:
            found = []
        next_cursor = None
    else:
        limit, cursor = page(call)
        found, next_cursor = reads.clinicians(services, call.caller, limit, cursor)
    on = reads.today(services)
    schedules = []
    for x in found:
        offered = reads.services_for(services, x)
        if code is None or any(s.code == code for s in offered):
            schedules.append(resources.schedule(x, offered, reads.telehealth_jurisdictions(x, on)))
    return bundle(call, "Schedule", schedules, next_cursor)


@fhir_route("GET", "/Slot", query=SlotQuery, errors=(404, 429),
            summary="Search free Slots: only those the clinician may lawfully deliver where the patient will be "
                    "(the same search as GET /v1/availability)")
def search_slot(call: Call) -> Response:
    from ..domain.model import Modality
    from ..fhir import codes, inbound, reads

    services = get_services()
    services.rate_limiter.hit(call.caller, "availability")
    status = one(call, "status")
    if status is not None and inbound.token(status, None, "status") != "free":
        raise ValidationFailed("Invalid fields: status", errors=[FieldError("status", "only free is supported")])
    raw_service = one(call, "service-type")
    if raw_service is None:
        raise ValidationFailed("Invalid fields: service-type", errors=[FieldError("service-type", "is required")])
    service = inbound.token(raw_service, codes.CPT, "service-type")
    if services.availability.rules().service(service) is None:
        raise ValidationFailed("Invalid fields: service-type",
                               errors=[FieldError("service-type", "is not in the service catalog")])
    window = inbound.required_window(values(call, "start"), "start")
    raw_where = one(call, "patient-jurisdiction")
    where = inbound.token(raw_where, codes.ISO_3166_2, "patient-jurisdiction") if raw_where else None
    if where is not None:
        from pydantic import TypeAdapter, ValidationError

        from ..schemas.common import Jurisdiction  # the same rule as /v1's patient_jurisdiction

        try:
            TypeAdapter(Jurisdiction).validate_python(where)
        except ValidationError as exc:
            raise ValidationFailed("Invalid fields: patient-jurisdiction", errors=[FieldError(
                "patient-jurisdiction", "must be an ISO 3166-2 code such as US-NY")]) from exc
    raw_mode = one(call, "modality")
    modality: Modality | None = None
    if raw_mode is not None:
        mode = inbound.token(raw_mode, codes.PARTICIPATION_MODE, "modality")
        if mode not in codes.MODALITY_OF_MODE:
            raise ValidationFailed("Invalid fields: modality",
                                   errors=[FieldError("modality", "must be FACE, VIDEOCONF or PHONE")])
        modality = codes.MODALITY_OF_MODE[mode]
    limit, cursor = page(call)
    settings = services.tenant_settings.get(call.caller).publication
    try:
        found, next_cursor = reads.slots(
            services, call.caller, service=service, window=window, patient_id=ref(call, "patient", "Patient"),
            jurisdiction=where, clinician_id=ref(call, "schedule", "Schedule"), modality=modality, limit=limit,
            cursor=cursor, deep_link=settings.booking_url, phone=settings.booking_phone)
    except ValidationFailed as exc:  # the availability search names /v1 parameters: say the FHIR ones
        names = {"patient_jurisdiction": "patient-jurisdiction", "to": "start", "from": "start", "cursor": "_cursor"}
        raise ValidationFailed(exc.detail, errors=[FieldError(names.get(e.field, e.field), e.message)
                                                   for e in exc.errors]) from exc
    return bundle(call, "Slot", found, next_cursor)


# --- Appointment ---------------------------------------------------------------------------------
@fhir_route("GET", "/Appointment/{appointment_id}", summary="Read an Appointment")
def read_appointment(call: Call, appointment_id: str) -> Response:
    from ..fhir.resources import appointment

    found = get_services().booking.get(call.caller, path_id(appointment_id, "Appointment"))
    return answer(appointment(found))


@fhir_route("GET", "/Appointment", query=AppointmentQuery, summary="Search Appointment by patient, practitioner, date")
def search_appointment(call: Call) -> Response:
    from ..fhir import inbound, reads

    start, end = inbound.date_range(values(call, "date"), "date")
    limit, cursor = page(call)
    found, next_cursor = reads.appointments(
        get_services(), call.caller, patient_id=ref(call, "patient", "Patient"),
        clinician_id=ref(call, "practitioner", "Practitioner"), start=start, end=end, limit=limit, cursor=cursor)
    return bundle(call, "Appointment", found, next_cursor)


FHIR_TO_V1_FIELD = {"start": "start", "service": "serviceType", "patient_id": "participant",
                    "clinician_id": "participant", "site_id": "participant", "modality": "extension",
                    "patient_jurisdiction": "extension", "patient_location_type": "extension"}


@fhir_route("POST", "/Appointment", errors=(404, 409, 422, 429), status=201, idempotency_key=True,
            body=AppointmentIn, content_types=[FHIR_JSON, "application/json"],
            summary="Book: the same booking service as POST /v1/appointments (licensure, no double booking)")
def create_appointment(call: Call) -> Response:
    from pydantic import ValidationError

    from ..fhir.inbound import booking_fields
    from ..fhir.resources import appointment
    from ..schemas.appointments import BookingIn
    from .appointment_inputs import booking_request

    services = get_services()
    services.rate_limiter.hit(call.caller, "booking")
    try:
        body = booking_request(BookingIn.model_validate(booking_fields(call.json())))
    except ValidationError as exc:
        errors = [FieldError(FHIR_TO_V1_FIELD.get(str(e["loc"][0]) if e["loc"] else "", "body"),
                             f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}")
                  for e in exc.errors(include_input=False)]
        raise ValidationFailed("Invalid fields: " + ", ".join(sorted({e.field for e in errors})),
                               errors=errors) from exc
    from .idempotency import idempotent

    made = idempotent(call, "POST /fhir/R4/Appointment",
                      lambda: (201, appointment(services.booking.book(call.caller, body))))
    made.headers["Content-Type"] = FHIR_JSON
    if made.status_code == 201:
        made.headers["Location"] = f"{base_url(call)}{BASE}/Appointment/{json.loads(made.body)['id']}"
    return made
