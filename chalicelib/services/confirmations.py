"""Confirm or decline a visit from a reminder's link (no login), and patients' no-show tallies.

A link token is accepted once, for its one action on its one appointment, until it expires: anything
else (forged, expired, used, another appointment's, another action's) is 404 with the same text,
so a token cannot be probed. Declining cancels through the booking service, which frees the slot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..domain import links
from ..domain.access import Caller
from ..domain.errors import InvalidTransition, NotFound
from ..domain.model import Appointment, Status
from ..domain.ports import AppointmentReader, AuditTrail, Clock, PatientReader, ReminderStore
from ..domain.tenant_policy import TenantSettings

NO_SUCH_LINK = "No such link, or it was used or has expired."


class ConfirmationService:
    def __init__(self, repo: ReminderStore, appointments: AppointmentReader, booking: Any, directory: PatientReader,
                 settings_of: Callable[[str], TenantSettings], clock: Clock, audit: AuditTrail,
                 link_key: str | None) -> None:
        self.repo = repo
        self.appointments = appointments
        self.booking = booking
        self.directory = directory
        self.settings_of = settings_of
        self.clock = clock
        self.audit = audit
        self.link_key = link_key.encode() if link_key else None

    def act(self, appointment_id: str, token: object, action: str) -> dict[str, str]:
        now = self.clock()
        claim = links.verify(token, self.link_key, now) if self.link_key else None
        if claim is None or claim.appointment_id != appointment_id or claim.action != action:
            raise NotFound(NO_SUCH_LINK)
        appointment = self.appointments.get(claim.tenant_id, appointment_id)
        if appointment is None:
            raise NotFound(NO_SUCH_LINK)
        caller = Caller(f"link:{claim.nonce[:8]}", claim.tenant_id, frozenset({"patient"}),
                        patient_id=appointment.patient_id)
        # Consumed first: a used link is 404 whatever became of the visit since.
        if not self.repo.consume_link(claim.tenant_id, appointment_id, claim.nonce, action, now):
            raise NotFound(NO_SUCH_LINK)
        if appointment.status is not Status.BOOKED:
            raise InvalidTransition(f"The appointment is {appointment.status.value}; it cannot be {action}ed now.",
                                    extra={"current_status": appointment.status.value})
        if action == "decline":
            done = self.booking.cancel(caller, appointment_id, "declined from a reminder link")
            self.repo.set_confirmation(claim.tenant_id, appointment_id, "declined", now)
            return {"appointment_id": appointment_id, "status": done.status.value, "confirmation": "declined"}
        self.repo.set_confirmation(claim.tenant_id, appointment_id, "confirmed", now)
        self.audit.record(caller, "appointment.confirm", f"appointment/{appointment_id}", appointment.patient_id,
                          "success")
        return {"appointment_id": appointment_id, "status": appointment.status.value, "confirmation": "confirmed"}

    # --- no-shows ----------------------------------------------------------------------------
    def on_change(self, change: str, before: Appointment | None, after: Appointment) -> None:
        if change == "no_show":
            self.repo.count_no_show(after.tenant_id, after.patient_id, after.appointment_id, self.clock())
        elif change == "booked":
            count, _ = self.repo.no_shows(after.tenant_id, after.patient_id)
            if self.flags(after.tenant_id, count)["confirmation_required"]:
                self.repo.set_confirmation(after.tenant_id, after.appointment_id, "pending", self.clock(),
                                           required=True)

    def flags(self, tenant: str, count: int) -> dict[str, bool]:
        policy = self.settings_of(tenant).reminders.no_shows
        return {"confirmation_required": policy.require_confirmation_after is not None
                and count >= policy.require_confirmation_after,
                "video_first": policy.video_first_after is not None and count >= policy.video_first_after}

    def no_shows(self, caller: Caller, patient_id: str) -> dict[str, Any]:
        if self.directory.get_patient(caller.tenant_id, patient_id) is None:
            raise NotFound("No such patient.")
        count, last = self.repo.no_shows(caller.tenant_id, patient_id)
        self.audit.record(caller, "patient.no_shows.read", f"patient/{patient_id}", patient_id, "success")
        return {"patient_id": patient_id, "no_shows": count, "last_no_show_at": last,
                "policy": self.flags(caller.tenant_id, count)}

    def video_first(self, tenant: str, patient_id: str) -> bool:
        """For routing: a tenant may steer patients who often miss visits to video first."""
        count, _ = self.repo.no_shows(tenant, patient_id)
        return self.flags(tenant, count)["video_first"]
