"""The CapabilityStatement: exactly the interactions and search parameters the routes implement.

SUPPORTED is the single table; tests check it against the app's routes, so the statement cannot
claim an interaction that has no route (or omit one that has).
"""

from __future__ import annotations

from typing import Any

from . import codes as c

SP = "http://hl7.org/fhir/SearchParameter/"

# resource -> (interactions, [(search parameter, type, definition, documentation)])
SUPPORTED: dict[str, tuple[tuple[str, ...], list[tuple[str, str, str, str]]]] = {
    "Patient": (("read", "search-type"), [
        ("_id", "token", SP + "Resource-id", "The patient's id (a patient caller: only their own)")]),
    "Practitioner": (("read", "search-type"), [
        ("_id", "token", SP + "Resource-id", "The clinician's id")]),
    "PractitionerRole": (("read", "search-type"), [
        ("_id", "token", SP + "Resource-id", "The role's id (the clinician's id)"),
        ("practitioner", "reference", SP + "PractitionerRole-practitioner", "Practitioner/{id}")]),
    "Location": (("read", "search-type"), [
        ("_id", "token", SP + "Resource-id", "A site's id, or virtual.{ISO 3166-2} for telehealth")]),
    "Schedule": (("read", "search-type"), [
        ("_id", "token", SP + "Resource-id", "The schedule's id (the clinician's id)"),
        ("actor", "reference", SP + "Schedule-actor", "Practitioner/{id} or PractitionerRole/{id}"),
        ("service-type", "token", SP + "Schedule-service-type", f"A CPT code ({c.CPT})")]),
    "Slot": (("search-type",), [
        ("schedule", "reference", SP + "Slot-schedule", "Schedule/{id}: one clinician"),
        ("start", "date", SP + "Slot-start", "Required: both bounds, e.g. start=ge...&start=lt... (at most 31 days)"),
        ("service-type", "token", SP + "Slot-service-type", f"Required: a CPT code ({c.CPT})"),
        ("status", "token", SP + "Slot-status", "Only free is supported (only lawful free slots are computed)"),
        ("patient", "reference", c.SP_PATIENT_JURISDICTION.rsplit("/", 1)[0] + "/Slot-patient",
         "Patient/{id}: slots that patient may book (their visits and home jurisdiction count)"),
        ("patient-jurisdiction", "token", c.SP_PATIENT_JURISDICTION,
         "ISO 3166-2 code of where the patient will be (default: the patient's home); required without patient"),
        ("modality", "token", c.SP_MODALITY, "v3 ParticipationMode FACE, VIDEOCONF or PHONE")]),
    "Appointment": (("read", "search-type", "create"), [
        ("patient", "reference", SP + "Appointment-patient", "Patient/{id}"),
        ("practitioner", "reference", SP + "Appointment-practitioner", "Practitioner/{id}"),
        ("date", "date", SP + "clinical-date", "Prefixes ge, gt, le, lt, eq on the start")]),
}
COMMON = [("_count", "number", "Page size, 1-200 (default 50)"), ("_cursor", "string", "The next page, from link next")]


def statement(base: str, now: str) -> dict[str, Any]:
    resources = []
    for kind, (interactions, params) in SUPPORTED.items():
        entry: dict[str, Any] = {
            "type": kind, "interaction": [{"code": i} for i in interactions],
            "versioning": "no-version", "readHistory": False, "updateCreate": False,
            "searchParam": [{"name": n, "type": t, "definition": d, "documentation": doc}
                            for n, t, d, doc in params]
                           + [{"name": n, "type": t, "documentation": doc} for n, t, doc in COMMON],
        }
        if "create" in interactions:
            entry["conditionalCreate"] = False
            entry["documentation"] = ("Books through the same booking service as POST /v1/appointments "
                                      "(licensure, double-booking guarantee, Idempotency-Key header).")
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement", "status": "active", "date": now, "kind": "instance",
        "publisher": "Hybrid Care Orchestrator",
        "software": {"name": "Hybrid Care Orchestrator FHIR face"},
        "implementation": {"description": "FHIR R4 over the scheduling services", "url": base or "/fhir/R4"},
        "fhirVersion": c.FHIR_VERSION, "format": [c.FHIR_JSON, "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Bearer JWT as on /v1; a caller who may not see a resource gets 404. Errors are "
                             f"OperationOutcome with the /v1 error code in issue.details ({c.ISSUE_DETAILS}).",
            "security": {"cors": False, "description": "Authorization: Bearer <JWT> (Cognito; local dev key)"},
            "resource": resources,
            "operation": [{"name": "bulk-publish", "definition": "http://fhir-registry.smarthealthit.org/"
                                                                 "OperationDefinition/bulk-publish"}],
        }],
    }
