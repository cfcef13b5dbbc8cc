"""Domain objects -> FHIR R4 resources (plain dicts; tests validate them with fhir.resources R4B models).

Times leave in UTC with a Z, as in /v1. No resource carries more PHI than the /v1 JSON of the same object.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

from ..domain.availability import Slot
from ..domain.model import Appointment, Clinician, CompactPrivilege, Modality, Patient, Site
from ..domain.rulebook import ServiceDefinition
from ..domain.standing import grants
from . import codes as c

Resource = dict[str, Any]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def instant(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ref(kind: str, internal: str) -> dict[str, str]:
    return {"reference": f"{kind}/{c.fhir_id(internal)}"}


def _state(jurisdiction: str) -> tuple[str, str]:
    country, _, region = jurisdiction.partition("-")
    return country, region


# --- directory ---------------------------------------------------------------------------------
def patient(p: Patient) -> Resource:
    country, state = _state(p.home_jurisdiction)
    telecom = [{"system": "phone", "value": p.phone}] if p.phone else []
    telecom += [{"system": "email", "value": p.email}] if p.email else []
    resource: Resource = {
        "resourceType": "Patient", "id": c.fhir_id(p.patient_id), "active": True,
        # The name is sent as written: splitting one name into given/family guesses (API.md).
        "name": [{"text": p.name}], "birthDate": p.birth_date.isoformat(),
        "address": [{"use": "home", "state": state, "country": country}],
    }
    if telecom:
        resource["telecom"] = telecom
    if p.preferred_language:
        resource["communication"] = [{"language": {"coding": [{"system": c.LANGUAGE, "code": p.preferred_language}]},
                                      "preferred": True}]
    return resource


def practitioner(x: Clinician, on: date) -> Resource:
    qualifications = [{
        "identifier": [{"value": lic.number}],
        "code": {"text": f"{lic.type} licence"},
        "period": {"end": lic.expires_on.isoformat()},
        "issuer": {"display": lic.jurisdiction},
        "extension": [{"url": c.EXT_LICENSED_JURISDICTION, "valueCodeableConcept": c.jurisdiction_concept(
            lic.jurisdiction)}],
    } for lic in x.licenses if grants(lic.status, lic.effective_from, on) and lic.expires_on >= on]
    resource: Resource = {
        "resourceType": "Practitioner", "id": c.fhir_id(x.clinician_id), "active": True,
        "identifier": [{"system": c.NPI, "value": x.npi}], "name": [{"text": x.name}],
    }
    if qualifications:
        resource["qualification"] = qualifications
    if x.languages:
        resource["communication"] = [{"coding": [{"system": c.LANGUAGE, "code": lang}]} for lang in x.languages]
    return resource


def licensed_jurisdictions(x: Clinician, on: date) -> list[str]:
    return sorted({lic.jurisdiction for lic in x.licenses
                   if grants(lic.status, lic.effective_from, on) and lic.expires_on >= on})


def _privilege(p: CompactPrivilege) -> Resource:
    parts: list[Resource] = [{"url": "compact", "valueCode": p.compact},
                             {"url": "home-jurisdiction", "valueCode": p.home_jurisdiction},
                             {"url": "expires", "valueDate": p.expires_on.isoformat()},
                             {"url": "status", "valueCode": p.status}]
    if p.kind:
        parts.insert(1, {"url": "kind", "valueCode": p.kind})
    parts += [{"url": "jurisdiction", "valueCode": j} for j in p.jurisdictions]
    return {"url": c.EXT_COMPACT_PRIVILEGE, "extension": parts}


def practitioner_role(x: Clinician, on: date, telehealth_jurisdictions: Iterable[str]) -> Resource:
    """One role per clinician: discipline, modalities, languages, where licensed, compact privileges."""
    extensions: list[Resource] = [{"url": c.EXT_MODALITY, "valueCoding": c.modality_coding(m)}
                                  for m in sorted(x.modalities)]
    extensions += [{"url": c.EXT_LANGUAGE, "valueCode": lang} for lang in x.languages]
    extensions += [{"url": c.EXT_LICENSED_JURISDICTION, "valueCodeableConcept": c.jurisdiction_concept(j)}
                   for j in licensed_jurisdictions(x, on)]
    extensions += [_privilege(p) for p in x.compact_privileges
                   if grants(p.status, p.effective_from, on) and p.expires_on >= on]
    locations = [ref("Location", s) for s in x.site_ids]
    if any(m.is_telehealth for m in x.modalities):
        locations += [{"reference": f"Location/{c.virtual_location_id(j)}"} for j in sorted(telehealth_jurisdictions)]
    resource: Resource = {
        "resourceType": "PractitionerRole", "id": c.fhir_id(x.clinician_id), "active": True,
        "practitioner": ref("Practitioner", x.clinician_id),
        "code": [{"coding": [{"system": c.EXT_DISCIPLINE, "code": x.discipline.value}],
                  "text": x.discipline.value.replace("_", " ")}],
        "extension": extensions,
    }
    if locations:
        resource["location"] = locations
    available = _available_times(x)
    if available:
        resource["availableTime"] = available
    return resource


def _hhmmss(t: time) -> str:
    return "23:59:59" if t == time.max else t.strftime("%H:%M:%S")


def _available_times(x: Clinician) -> list[Resource]:
    return [{"daysOfWeek": [DAYS[r.weekday]], "availableStartTime": _hhmmss(r.start),
             "availableEndTime": _hhmmss(r.end)} for r in x.availability.rules]


def location(site: Site, telecom: list[Resource] | None = None) -> Resource:
    country, state = _state(site.jurisdiction)
    resource: Resource = {
        "resourceType": "Location", "id": c.fhir_id(site.site_id), "status": "active", "name": site.name,
        "mode": "instance",
        "physicalType": {"coding": [{"system": c.LOCATION_PHYSICAL_TYPE, "code": "bu", "display": "Building"}]},
        "address": {"line": [site.address.line1], "city": site.address.city, "state": state,
                    "postalCode": site.address.postal_code, "country": country},
        "extension": [{"url": c.EXT_PATIENT_JURISDICTION, "valueCode": site.jurisdiction}],
    }
    if telecom:
        resource["telecom"] = telecom
    return resource


def virtual_location(jurisdiction: str, telecom: list[Resource] | None = None) -> Resource:
    """Telehealth to a patient located in one jurisdiction (SMART Scheduling Links: physicalType virtual)."""
    country, state = _state(jurisdiction)
    resource: Resource = {
        "resourceType": "Location", "id": c.virtual_location_id(jurisdiction), "status": "active",
        "name": f"Telehealth ({jurisdiction})", "mode": "kind",
        "description": f"Video or phone visits for patients located in {jurisdiction} at the time of the visit",
        "physicalType": {"coding": [{"system": c.LOCATION_PHYSICAL_TYPE, "code": "vi", "display": "Virtual"}]},
        "address": {"state": state, "country": country},
        "extension": [{"url": c.EXT_PATIENT_JURISDICTION, "valueCode": jurisdiction}],
    }
    if telecom:
        resource["telecom"] = telecom
    return resource


def schedule(x: Clinician, services: Iterable[ServiceDefinition], telehealth_jurisdictions: Iterable[str]) -> Resource:
    """One schedule per clinician: its slots are computed from the availability rules, never stored."""
    actors = [ref("PractitionerRole", x.clinician_id), ref("Practitioner", x.clinician_id)]
    actors += [ref("Location", s) for s in x.site_ids]
    if any(m.is_telehealth for m in x.modalities):
        actors += [{"reference": f"Location/{c.virtual_location_id(j)}"} for j in sorted(telehealth_jurisdictions)]
    return {
        "resourceType": "Schedule", "id": c.fhir_id(x.clinician_id), "active": True,
        "serviceType": [c.cpt_concept(s.code, s.name) for s in sorted(services, key=lambda s: s.code)],
        "actor": actors,
        "comment": "Slots are the clinician's lawful, free times; search Slot with this schedule.",
    }


# --- slots -------------------------------------------------------------------------------------
def slot_id(s: Slot, service: str, jurisdiction: str) -> str:
    """Stable for the same option: the same time, clinician, modality, site, service and patient location."""
    key = "|".join((s.clinician_id, instant(s.start) or "", s.modality.value, s.site_id or "", service, jurisdiction))
    return "slot-" + hashlib.sha256(key.encode()).hexdigest()[:40]


def slot(s: Slot, service: ServiceDefinition, jurisdiction: str, deep_link: str | None = None,
         booking_phone: str | None = None) -> Resource:
    where = (f"Location/{c.fhir_id(s.site_id)}" if s.site_id else f"Location/{c.virtual_location_id(jurisdiction)}")
    extensions: list[Resource] = [
        {"url": c.EXT_MODALITY, "valueCoding": c.modality_coding(s.modality)},
        {"url": c.EXT_PATIENT_JURISDICTION, "valueCode": jurisdiction},
        {"url": c.EXT_BASE + "slot-location", "valueReference": {"reference": where}},
    ]
    if deep_link:
        extensions.append({"url": c.BOOKING_DEEP_LINK, "valueUrl": deep_link})
    if booking_phone:
        extensions.append({"url": c.BOOKING_PHONE, "valueString": booking_phone})
    return {
        "resourceType": "Slot", "id": slot_id(s, service.code, jurisdiction),
        "schedule": ref("Schedule", s.clinician_id), "status": "free",
        "start": instant(s.start), "end": instant(s.end),
        "serviceType": [c.cpt_concept(service.code, service.name)],
        "extension": extensions,
    }


# --- appointments ------------------------------------------------------------------------------
def appointment(a: Appointment) -> Resource:
    where = (f"Location/{c.fhir_id(a.site_id)}" if a.site_id
             else f"Location/{c.virtual_location_id(a.patient_jurisdiction)}")
    extensions: list[Resource] = [
        {"url": c.EXT_MODALITY, "valueCoding": c.modality_coding(a.modality)},
        {"url": c.EXT_PLACE_OF_SERVICE, "valueCoding": {"system": c.PLACE_OF_SERVICE,
                                                        "code": a.billing.place_of_service}},
        {"url": c.EXT_PATIENT_JURISDICTION, "valueCode": a.patient_jurisdiction},
    ]
    extensions += [{"url": c.EXT_BILLING_MODIFIER, "valueCoding": {"system": c.CPT, "code": m}}
                   for m in a.billing.modifiers]
    resource: Resource = {
        "resourceType": "Appointment", "id": c.fhir_id(a.appointment_id),
        "status": c.STATUS_TO_FHIR.get(a.status.value, "booked"),
        "serviceType": [c.cpt_concept(a.service)],
        "start": instant(a.start), "end": instant(a.end),
        "minutesDuration": int((a.end - a.start).total_seconds() // 60),
        "participant": [
            {"actor": ref("Patient", a.patient_id), "required": "required", "status": "accepted"},
            {"actor": ref("Practitioner", a.clinician_id), "required": "required", "status": "accepted"},
            {"actor": {"reference": where}, "required": "required", "status": "accepted"},
        ],
        "extension": extensions,
    }
    if a.created_at:
        resource["created"] = instant(a.created_at)
    if a.status.value == "cancelled" and a.cancel_reason:
        resource["cancelationReason"] = {"text": a.cancel_reason}
    if a.modality is Modality.IN_PERSON and a.room:
        resource["comment"] = f"Room {a.room}"
    return resource


# --- bundles and outcomes ----------------------------------------------------------------------
def searchset(resources: list[Resource], self_url: str, next_url: str | None = None) -> Resource:
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    bundle: Resource = {"resourceType": "Bundle", "type": "searchset", "link": links,
                        "entry": [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r,
                                   "search": {"mode": "match"}} for r in resources]}
    if not next_url:
        bundle["total"] = len(resources)
    return bundle


ISSUE_TYPE = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 409: "conflict", 412: "conflict",
              413: "too-costly", 415: "not-supported", 422: "business-rule", 429: "throttled", 503: "transient"}


def operation_outcome(status: int, code: str, title: str, detail: str, fields: list[str]) -> Resource:
    """An error as FHIR says it, with the /v1 error code in issue.details (the field names in expression)."""
    issue: Resource = {
        "severity": "error" if status < 500 else "fatal", "code": ISSUE_TYPE.get(status, "exception"),
        "details": {"coding": [{"system": c.ISSUE_DETAILS, "code": code}], "text": title},
        "diagnostics": detail,
    }
    if fields:
        issue["expression"] = fields
    return {"resourceType": "OperationOutcome", "issue": [issue]}
