"""FHIR input -> domain input: search parameters (references, tokens, date prefixes) and the Appointment
a client POSTs, turned into the same BookingIn the JSON API books with. Bad input names the FHIR element."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..domain.errors import FieldError, FieldErrors, ValidationFailed
from ..domain.model import Interval
from . import codes as c


def bad(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"Invalid fields: {field}", errors=[FieldError(field, message)])


def reference(value: str, kind: str, field: str) -> str:
    """`Patient/abc`, or just `abc` -> our id. A reference to another kind of resource is refused."""
    text = value.strip()
    if "/" in text:
        prefix, _, text = text.rpartition("/")
        if prefix.rsplit("/", 1)[-1] != kind:
            raise bad(field, f"must reference a {kind}")
    if not text or len(text) > 64 or not all(ch.isalnum() or ch in "-._" for ch in text):
        raise bad(field, f"must be a {kind} id")
    # A FHIR id maps back to ours; one of our own ids ('_' is not a FHIR id character) is taken as given.
    return c.internal_id(text) if "_" not in text else text


def token(value: str, system: str | None, field: str) -> str:
    """`system|code` or `code`; a system other than the one we code with is refused."""
    given_system, sep, code = value.rpartition("|")
    if sep and given_system and system and given_system != system:
        raise bad(field, f"only the system {system} is supported")
    code = code.strip()
    if not code:
        raise bad(field, "must be a code")
    return code


def _moment(text: str, field: str) -> tuple[datetime, timedelta]:
    """A FHIR dateTime value with the precision it was given: a date is a whole UTC day."""
    raw = text.strip().replace(" ", "+")
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime(day.year, day.month, day.day, tzinfo=UTC), timedelta(days=1)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise bad(field, "must be a date (YYYY-MM-DD) or a date-time with an offset") from exc
    if moment.tzinfo is None:
        raise bad(field, "a date-time needs an offset (Z or +hh:mm)")
    if not 1900 <= moment.year <= 2199:
        raise bad(field, "must be within the years 1900-2199")
    return moment.astimezone(UTC), timedelta(seconds=1)


def date_range(values: list[str], field: str) -> tuple[datetime | None, datetime | None]:
    """Search prefixes ge, gt, le, lt, eq (or none) -> a half-open [start, end) window; absent ends are None."""
    start: datetime | None = None
    end: datetime | None = None
    for value in values:
        prefix, rest = (value[:2], value[2:]) if value[:2] in ("ge", "gt", "le", "lt", "eq") else ("eq", value)
        moment, precision = _moment(rest, field)
        lower = {"ge": moment, "gt": moment + precision, "eq": moment}.get(prefix)
        upper = {"lt": moment, "le": moment + precision, "eq": moment + precision}.get(prefix)
        if lower is not None:
            start = lower if start is None else max(start, lower)
        if upper is not None:
            end = upper if end is None else min(end, upper)
    if start is not None and end is not None and end <= start:
        raise bad(field, "the range is empty (the upper bound is not after the lower)")
    return start, end


def required_window(values: list[str], field: str) -> Interval:
    start, end = date_range(values, field)
    if start is None or end is None:
        raise bad(field, "give both bounds, e.g. start=ge2026-03-09T00:00:00Z&start=lt2026-03-10T00:00:00Z")
    return Interval(start, end)


def count(values: list[str]) -> int:
    if not values:
        return 50
    raw = values[-1]
    if not raw.isdigit() or not 1 <= int(raw) <= 200:
        raise bad("_count", "must be an integer from 1 to 200")
    return int(raw)


# --- POST /fhir/R4/Appointment -----------------------------------------------------------------
BOOKABLE_STATUS = ("booked", "proposed", "pending")


def booking_fields(resource: Any) -> dict[str, Any]:
    """The Appointment a client POSTs -> the fields of a /v1 booking (validated by BookingIn after this)."""
    errors = FieldErrors()
    if not isinstance(resource, dict) or resource.get("resourceType") != "Appointment":
        raise bad("resourceType", "must be Appointment")
    if resource.get("status", "booked") not in BOOKABLE_STATUS:
        errors.add("status", "must be booked (or proposed/pending, which are booked at once)")
    fields: dict[str, Any] = {"start": resource.get("start")}
    if not isinstance(resource.get("start"), str):
        errors.add("start", "is required (a date-time with an offset)")
    service = _service(resource.get("serviceType"), errors)
    if service:
        fields["service"] = service
    location_kind = _participants(resource.get("participant"), fields, errors)
    modality = _modality(resource.get("extension"), errors)
    if modality is None and location_kind == "site":
        modality = "in_person"
    elif modality is None and location_kind == "virtual":
        modality = "video"
    if modality is None:
        errors.add("extension", f"give the modality ({c.EXT_MODALITY}) or a Location participant")
    else:
        fields["modality"] = modality
    jurisdiction = _extension_code(resource.get("extension"), c.EXT_PATIENT_JURISDICTION)
    if jurisdiction is None and isinstance(fields.get("_virtual"), str):
        jurisdiction = fields["_virtual"]
    fields.pop("_virtual", None)
    if jurisdiction is not None:
        fields["patient_jurisdiction"] = jurisdiction
    errors.raise_if_any()
    return fields


def _service(value: Any, errors: FieldErrors) -> str | None:
    if not isinstance(value, list) or not value:
        errors.add("serviceType", f"give one service as a CPT coding ({c.CPT})")
        return None
    for concept in value:
        for coding in (concept or {}).get("coding") or [] if isinstance(concept, dict) else []:
            if isinstance(coding, dict) and coding.get("system") == c.CPT and isinstance(coding.get("code"), str):
                return str(coding["code"])
    errors.add("serviceType", f"needs a coding with system {c.CPT}")
    return None


def _participants(value: Any, fields: dict[str, Any], errors: FieldErrors) -> str | None:
    if not isinstance(value, list) or not value:
        errors.add("participant", "give the Patient and the Practitioner (or PractitionerRole)")
        return None
    location_kind = None
    for i, p in enumerate(value):
        actor = p.get("actor") if isinstance(p, dict) else None
        text = actor.get("reference") if isinstance(actor, dict) else None
        if not isinstance(text, str) or "/" not in text:
            errors.add(f"participant[{i}].actor", "must be a reference such as Patient/abc")
            continue
        kind, _, rid = text.rpartition("/")
        kind = kind.rsplit("/", 1)[-1]
        where = f"participant[{i}].actor"
        try:
            if kind == "Patient":
                fields["patient_id"] = reference(text, "Patient", where)
            elif kind in ("Practitioner", "PractitionerRole"):
                fields["clinician_id"] = reference(text, kind, where)
            elif kind == "Location" and rid.startswith(c.VIRTUAL_PREFIX):
                location_kind, fields["_virtual"] = "virtual", rid.removeprefix(c.VIRTUAL_PREFIX)
            elif kind == "Location":
                location_kind, fields["site_id"] = "site", reference(text, "Location", where)
            else:
                errors.add(where, "must be a Patient, Practitioner, PractitionerRole or Location")
        except ValidationFailed as exc:
            errors.errors.extend(exc.errors)
    if "patient_id" not in fields:
        errors.add("participant", "needs a Patient")
    if "clinician_id" not in fields:
        errors.add("participant", "needs a Practitioner or PractitionerRole")
    return location_kind


def _extension_code(value: Any, url: str) -> str | None:
    for ext in value if isinstance(value, list) else []:
        if isinstance(ext, dict) and ext.get("url") == url and isinstance(ext.get("valueCode"), str):
            return str(ext["valueCode"])
    return None


def _modality(value: Any, errors: FieldErrors) -> str | None:
    for ext in value if isinstance(value, list) else []:
        if isinstance(ext, dict) and ext.get("url") == c.EXT_MODALITY:
            coding = ext.get("valueCoding")
            code = coding.get("code") if isinstance(coding, dict) else None
            if code in c.MODALITY_OF_MODE:
                return c.MODALITY_OF_MODE[code].value
            errors.add("extension", "visit-modality must be a v3 ParticipationMode code: FACE, VIDEOCONF or PHONE")
    return None
