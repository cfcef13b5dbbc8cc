"""The authorization matrix, as data: route -> role -> scope.

"tenant": any object of the caller's tenant; "own": only the caller's own objects (the service
checks ownership and answers 404 for anything else); a role missing from a route gets 403.
A route with no entry here is refused by the matrix test, so a new route cannot ship unguarded.
"""

from __future__ import annotations

from ..domain.access import Caller
from ..domain.errors import Forbidden

PUBLIC = "public"
T, OWN = "tenant", "own"

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
    "GET /v1/audit": {"admin": T},
    "GET /v1/audit/verify": {"admin": T},
    # Payers work across tenants: "own" = the payer_id of the token (anything else is 404).
    "PUT /v1/payers/{payer_id}": {"payer": OWN},
    "GET /v1/payers/{payer_id}": {"payer": OWN},
    "PUT /v1/payers/{payer_id}/members/{member_id}": {"payer": OWN},
    "POST /v1/eligibility/checks": {"scheduler": T, "payer": OWN},
    "GET /v1/eligibility/checks/{check_id}": {"scheduler": T, "payer": OWN},
    "POST /v1/eligibility/x12": {"scheduler": T, "payer": OWN},
}


def authorize(route: str, caller: Caller) -> None:
    allowed = ACCESS.get(route)
    if not isinstance(allowed, dict) or not (caller.roles & allowed.keys()):
        raise Forbidden(f"The role {caller.primary_role} may not use {route}.")
