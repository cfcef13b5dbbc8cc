"""The authorization matrix, as data: route -> role -> scope.

"tenant": any object of the caller's tenant; "own": only the caller's own objects (the service
checks ownership and answers 404 for anything else); a role missing from a route gets 403.
A route with no entry here is refused by the matrix test, so a new route cannot ship unguarded.
"""

from __future__ import annotations

from ..domain.access import Caller
from ..domain.errors import Forbidden

PUBLIC = "public"
# No JWT: the body's signed, expiring, single-use link token is the whole authorization, for one action
# on the one appointment in the path (services/confirmations.py); anything else about it is a 404.
LINK = "link-token"
T, OWN = "tenant", "own"
_DIRECTORY = {"admin": T, "scheduler": T, "clinician": T, "patient": T}

ACCESS: dict[str, dict[str, str] | str] = {
    "GET /v1/health": PUBLIC,
    "GET /v1/openapi.json": PUBLIC,
    "POST /v1/sites": {"admin": T},
    "GET /v1/sites": {"admin": T, "scheduler": T, "clinician": T, "patient": T},
    "GET /v1/sites/{site_id}": {"admin": T, "scheduler": T, "clinician": T, "patient": T},
    "POST /v1/clinicians": {"admin": T},
    "GET /v1/clinicians": {"admin": T, "scheduler": T, "clinician": T, "patient": T},
    "GET /v1/clinicians/{clinician_id}": {"admin": T, "scheduler": T, "clinician": T, "patient": T},
    "PUT /v1/clinicians/{clinician_id}/availability": {"admin": T, "clinician": OWN},
    "PATCH /v1/clinicians/{clinician_id}": {"admin": T},
    "PATCH /v1/sites/{site_id}": {"admin": T},
    "PATCH /v1/patients/{patient_id}": {"admin": T, "scheduler": T},
    "GET /v1/tenant/settings": {"admin": T},
    "PUT /v1/tenant/settings": {"admin": T},
    "POST /v1/patients": {"admin": T, "scheduler": T},
    "GET /v1/patients/{patient_id}": {"admin": T, "scheduler": T, "patient": OWN},
    "GET /v1/availability": {"admin": T, "scheduler": T, "clinician": T, "patient": OWN},
    "POST /v1/appointments": {"scheduler": T, "patient": OWN},
    "GET /v1/appointments": {"admin": T, "scheduler": T, "clinician": OWN, "patient": OWN},
    "GET /v1/appointments/{appointment_id}": {"admin": T, "scheduler": T, "clinician": OWN, "patient": OWN},
    "POST /v1/appointments/{appointment_id}/cancel": {"admin": T, "scheduler": T, "clinician": OWN, "patient": OWN},
    "POST /v1/appointments/{appointment_id}/reschedule": {"scheduler": T, "patient": OWN},
    "POST /v1/appointments/{appointment_id}/check-in": {"scheduler": T, "clinician": OWN, "patient": OWN},
    "POST /v1/appointments/{appointment_id}/complete": {"scheduler": T, "clinician": OWN},
    "POST /v1/appointments/{appointment_id}/no-show": {"scheduler": T, "clinician": OWN},
    "POST /v1/appointments/{appointment_id}/licensure/redecide": {"admin": T, "scheduler": T},
    "POST /v1/appointments/{appointment_id}/switch-modality": {"scheduler": T, "clinician": OWN, "patient": OWN},
    "POST /v1/appointments/{appointment_id}/video/join": {"clinician": OWN, "patient": OWN},
    "POST /v1/appointments/{appointment_id}/video/admit": {"clinician": OWN},
    "POST /v1/appointments/{appointment_id}/video/end": {"clinician": OWN},
    "GET /v1/appointments/{appointment_id}/video/attendance": {"admin": T, "scheduler": T, "clinician": OWN},
    "POST /v1/appointments/{appointment_id}/video/invitations": {"clinician": OWN},
    # No login: the single-use link in the body is the credential (used, expired or forged -> 404).
    "POST /v1/video/invitations/join": PUBLIC,
    "POST /v1/licensure/checks": {"admin": T, "scheduler": T, "clinician": OWN},
    "POST /v1/routing/recommendations": {"scheduler": T, "patient": OWN},
    "GET /v1/patients/{patient_id}/screenings": {"admin": T, "scheduler": T, "clinician": OWN, "patient": OWN},
    "GET /v1/escalations": {"admin": T, "scheduler": T, "clinician": T},
    "POST /v1/escalations/{escalation_id}/acknowledge": {"admin": T, "scheduler": T, "clinician": T},
    "POST /v1/escalations/{escalation_id}/resolve": {"admin": T, "scheduler": T, "clinician": T},
    "GET /v1/audit": {"admin": T},
    "GET /v1/audit/verify": {"admin": T},
    # Payers work across tenants: "own" = the payer_id of the token (anything else is 404).
    "PUT /v1/payers/{payer_id}": {"payer": OWN},
    "GET /v1/payers/{payer_id}": {"payer": OWN},
    "GET /v1/payers/{payer_id}/audit": {"payer": OWN},
    "PUT /v1/payers/{payer_id}/members/{member_id}": {"payer": OWN},
    "POST /v1/eligibility/checks": {"scheduler": T, "payer": OWN},
    "GET /v1/eligibility/checks/{check_id}": {"scheduler": T, "payer": OWN},
    "POST /v1/eligibility/x12": {"scheduler": T, "payer": OWN},
    # FHIR R4 (api/fhir.py): the same rules as the /v1 routes over the same objects.
    "GET /fhir/R4/metadata": PUBLIC,
    "GET /fhir/R4/Patient": {"admin": T, "scheduler": T, "patient": OWN},
    "GET /fhir/R4/Patient/{patient_id}": {"admin": T, "scheduler": T, "patient": OWN},
    "GET /fhir/R4/Practitioner": _DIRECTORY,
    "GET /fhir/R4/Practitioner/{clinician_id}": _DIRECTORY,
    "GET /fhir/R4/PractitionerRole": _DIRECTORY,
    "GET /fhir/R4/PractitionerRole/{clinician_id}": _DIRECTORY,
    "GET /fhir/R4/Location": _DIRECTORY,
    "GET /fhir/R4/Location/{site_id}": _DIRECTORY,
    "GET /fhir/R4/Schedule": _DIRECTORY,
    "GET /fhir/R4/Schedule/{clinician_id}": _DIRECTORY,
    "GET /fhir/R4/Slot": {"admin": T, "scheduler": T, "clinician": T, "patient": OWN},
    "GET /fhir/R4/Appointment": {"admin": T, "scheduler": T, "clinician": OWN, "patient": OWN},
    "GET /fhir/R4/Appointment/{appointment_id}": {"admin": T, "scheduler": T, "clinician": OWN, "patient": OWN},
    "POST /fhir/R4/Appointment": {"scheduler": T, "patient": OWN},
    "GET /fhir/R4/$bulk-publish": _DIRECTORY,
    # Public only when the tenant's settings publish the feed; otherwise a bearer of that tenant (else 404).
    "GET /fhir/R4/public/{tenant_id}/$bulk-publish": PUBLIC,
    "GET /fhir/R4/public/{tenant_id}/files/{file_name}": PUBLIC,
    "GET /v1/appointments/{appointment_id}/reminders": {"admin": T, "scheduler": T, "clinician": OWN, "patient": OWN},
    "POST /v1/appointments/{appointment_id}/confirm": LINK,
    "POST /v1/appointments/{appointment_id}/decline": LINK,
    # No-show counts are for the people who schedule, never for patients (not even their own).
    "GET /v1/patients/{patient_id}/no-shows": {"admin": T, "scheduler": T},
    "POST /v1/waitlist": {"scheduler": T, "patient": OWN},
    "GET /v1/waitlist/{waitlist_id}": {"admin": T, "scheduler": T, "patient": OWN},
    "POST /v1/waitlist/{waitlist_id}/accept": {"scheduler": T, "patient": OWN},
    "POST /v1/waitlist/{waitlist_id}/decline": {"scheduler": T, "patient": OWN},
    "POST /v1/waitlist/{waitlist_id}/cancel": {"scheduler": T, "patient": OWN},
}


# Routes that read or write PHI (patients, visits, eligibility, rosters, the audit log itself): a refused
# attempt on one of these (403, or 404 for an object the caller may not see) is audited as "denied".
PHI_ROUTES = frozenset(r for r in ACCESS if any(part in r for part in (
    "/v1/patients", "/v1/appointments", "/v1/availability", "/v1/audit", "/v1/eligibility", "/members/",
    "/v1/payers/{payer_id}/audit")))


def without_login(route: str) -> bool:
    """Routes that take no bearer token: public ones, and those a link token in the body authorizes."""
    return ACCESS.get(route) in (PUBLIC, LINK)


def authorize(route: str, caller: Caller) -> None:
    allowed = ACCESS.get(route)
    if not isinstance(allowed, dict) or not (caller.roles & allowed.keys()):
        raise Forbidden(f"The role {caller.primary_role} may not use {route}.")
