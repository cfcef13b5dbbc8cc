"""Confirm or decline a visit from a reminder's link (no login), and patients' no-show tallies.

A link token is accepted once, for its one action on its one appointment, until it expires: anything
else (forged, expired, used, another appointment's, another action's) is 404 with the same text,
so a token cannot be probed. Declining cancels through the booking service, which frees the slot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ..domain import links
from ..domain.access import Caller
from ..domain.errors import Conflict, InvalidTransition, NotFound
from ..domain.model import Appointment, Status
from ..domain.ports import AppointmentReader, AuditTrail, Clock, PatientReader, ReminderStore
from ..domain.tenant_policy import TenantSettings

NO_SUCH_LINK = "No such link, or it was used or has expired."
RELEASE_LOOKBACK = timedelta(hours=24)  # a release pointer this late (job down a day) is still honoured
RELEASED_REASON = "unconfirmed: no confirmation by the release time"
log = logging.getLogger(__name__)


class ConfirmationService:
    def __init__(self, repo: ReminderStore, appointments: AppointmentReader, booking: Any, directory: PatientReader,
                 settings_of: Callable[[str], TenantSettings], clock: Clock, audit: AuditTrail,
                 link_key: str | None, tell: Callable[[Appointment, str], int] | None = None) -> None:
        self.repo = repo
        self.appointments = appointments
        self.booking = booking
        self.directory = directory
        self.settings_of = settings_of
        self.clock = clock
        self.audit = audit
        self.link_key = link_key.encode() if link_key else None
        # Tells the patient of a change they did not make (ReminderService.tell): a released visit.
        self.tell = tell or (lambda appointment, template: 0)

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
                self.repo.require_confirmation(after.tenant_id, after.appointment_id, self.clock(),
                                               self.release_at(after))
        elif change in ("rescheduled", "modality") and before is not None and before.start != after.start:
            current = self.repo.confirmation(after.tenant_id, after.appointment_id) or {}
            if current.get("required") and current.get("status") == "pending":
                self.repo.require_confirmation(after.tenant_id, after.appointment_id, self.clock(),
                                               self.release_at(after))

    def release_at(self, appointment: Appointment) -> datetime | None:
        """When a visit still unconfirmed is released; None when policy keeps it, or when that time has
        already passed at booking (a visit booked at short notice was just chosen: nothing to confirm)."""
        minutes = self.settings_of(appointment.tenant_id).reminders.no_shows.release_unconfirmed_minutes_before
        if minutes is None:
            return None
        at = appointment.start - timedelta(minutes=minutes)
        return at if at > self.clock() else None

    # --- the release job ---------------------------------------------------------------------
    def release_unconfirmed(self) -> list[str]:
        """Visits whose required confirmation did not come by their release time are cancelled (the slot goes
        to the waitlist through the cancel's followers) and the patient is told. A pointer that no longer
        matches (confirmed, declined, moved, ended) is dropped; a re-run finds nothing left to release."""
        now = self.clock()
        released = []
        for tenant, appointment_id, at in self.repo.releases_due(now, RELEASE_LOOKBACK):
            outcome = self._release(tenant, appointment_id, at, now)
            if outcome is None:
                continue  # a racing change: the pointer stays for the next run
            if outcome:
                released.append(appointment_id)
            self.repo.drop_release(tenant, appointment_id, at)
        return released

    def _release(self, tenant: str, appointment_id: str, at: datetime, now: datetime) -> bool | None:
        current = self.repo.confirmation(tenant, appointment_id) or {}
        appointment = self.appointments.get(tenant, appointment_id)
        due = current.get("release_at")
        if (appointment is None or appointment.status is not Status.BOOKED or current.get("status") != "pending"
                or not current.get("required") or due is None or datetime.fromisoformat(due) != at):
            return False
        caller = Caller("system:confirmations", tenant, frozenset({"scheduler"}))
        try:
            done = self.booking.cancel(caller, appointment_id, RELEASED_REASON)
        except InvalidTransition:
            return False  # it moved on between the read and the cancel
        except Conflict:
            return None
        self.repo.set_confirmation(tenant, appointment_id, "released", now)
        try:
            self.tell(done, "released")
        except Exception as exc:  # the release stands; a failed notice is logged, without PHI
            log.warning("release notice failed", extra={"appointment_id": appointment_id,
                                                        "error": type(exc).__name__})
        return True

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
