"""Who is calling, and which objects they may see. The route x role matrix lives in api/route_permissions.py."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import NotFound
from .model import Appointment

ROLES = frozenset({"admin", "scheduler", "clinician", "patient", "payer", "ops"})


@dataclass(frozen=True)
class Caller:
    sub: str
    tenant_id: str
    roles: frozenset[str]
    patient_id: str | None = None
    clinician_id: str | None = None
    payer_id: str | None = None
    request_id: str = ""

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    @property
    def primary_role(self) -> str:
        for role in ("admin", "scheduler", "clinician", "patient", "payer", "ops"):
            if role in self.roles:
                return role
        return "none"

    @property
    def tenant_wide(self) -> bool:
        return self.has("admin", "scheduler")


def may_see_appointment(caller: Caller, appointment: Appointment) -> bool:
    if caller.tenant_id != appointment.tenant_id:
        return False
    if caller.tenant_wide:
        return True
    if caller.has("clinician") and caller.clinician_id == appointment.clinician_id:
        return True
    return caller.has("patient") and caller.patient_id == appointment.patient_id


def require_patient_access(caller: Caller, patient_id: str) -> None:
    """Tenant-wide roles see every patient of their tenant; a patient sees only themself."""
    if caller.tenant_wide or (caller.has("patient") and caller.patient_id == patient_id):
        return
    raise NotFound("No such patient.")


def require_clinician_self_or_admin(caller: Caller, clinician_id: str) -> None:
    if caller.has("admin") or (caller.has("clinician") and caller.clinician_id == clinician_id):
        return
    raise NotFound("No such clinician.")
