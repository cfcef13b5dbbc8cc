"""Appointment reminders: planned when a visit is booked, moved when it moves, cancelled with it, and
sent by a scheduled job (api/jobs.py) that reads due reminders by time bucket.

Sending is at most once: the job claims a reminder by a conditional write (`scheduled -> sending`)
before it calls SNS or SES, so a retried or overlapping run finds nothing left to claim. A run that
dies between claim and send leaves the reminder `sending`; a later run marks it `failed`
(`send_unconfirmed`) rather than risk a second message.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ..domain import links
from ..domain.access import Caller, may_see_appointment
from ..domain.errors import NotFound
from ..domain.jurisdictions import care_zone
from ..domain.model import Appointment, Modality, Status
from ..domain.ports import AppointmentReader, AuditTrail, Clock, DirectoryReader, ReminderStore, Sender, SendFailed
from ..domain.reminders import Reminder, plan
from ..domain.rulebook import RuleBook
from ..domain.tenant_policy import TenantSettings
from . import messages

LOOKBACK = timedelta(hours=6)  # a reminder more than this late is not worth sending; it stays visible
STUCK_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class Sent:
    tenant_id: str
    reminder_id: str
    channel: str
    status: str


def system_caller(tenant: str, who: str = "system:reminders") -> Caller:
    return Caller(who, tenant, frozenset({"system"}))


class ReminderService:
    def __init__(self, repo: ReminderStore, appointments: AppointmentReader, directory: DirectoryReader,
                 settings_of: Callable[[str], TenantSettings],
                 rules: Callable[[], RuleBook], clock: Clock, sender: Callable[[], Sender], audit: AuditTrail,
                 link_key: str | None, link_base: str | None) -> None:
        self.repo = repo
        self.appointments = appointments
        self.directory = directory
        self.settings_of = settings_of
        self.rules = rules
        self.clock = clock
        self.sender = sender
        self.audit = audit
        self.link_key = link_key.encode() if link_key else None
        self.link_base = link_base.rstrip("/") if link_base else ""

    # --- planning (told by booking after commit) ---------------------------------------------
    def on_change(self, change: str, before: Appointment | None, after: Appointment) -> None:
        if change == "booked":
            self.schedule(after)
        elif change in ("rescheduled", "modality"):
            if before is None or before.start != after.start:
                self.cancel_all(after)
                self.schedule(after)
        elif change in ("cancelled", "no_show"):
            self.cancel_all(after)

    def schedule(self, appointment: Appointment) -> list[Reminder]:
        if appointment.status is not Status.BOOKED:
            return []
        policy = self.settings_of(appointment.tenant_id).reminders
        patient = self.directory.get_patient(appointment.tenant_id, appointment.patient_id)
        channels = tuple(c for c in policy.channels
                         if patient is not None and (patient.phone if c == "sms" else patient.email))
        planned = plan(appointment.tenant_id, appointment.appointment_id, appointment.start, self.clock(),
                       self.patient_zone(appointment), policy, channels)
        return [r for r in planned if self.repo.schedule(r)]

    def patient_zone(self, appointment: Appointment) -> str:
        """Quiet hours are the patient's: telehealth visits are already in the zone where the patient is."""
        if appointment.modality.is_telehealth:
            return appointment.timezone
        return care_zone(self.rules().tables, appointment.patient_jurisdiction, appointment.timezone)

    def cancel_all(self, appointment: Appointment) -> int:
        cancelled = 0
        for r in self.repo.for_appointment(appointment.tenant_id, appointment.appointment_id):
            if r.status == "scheduled" and self.repo.finish(r, "cancelled", "scheduled"):
                cancelled += 1
        return cancelled

    # --- reading -----------------------------------------------------------------------------
    def list(self, caller: Caller, appointment_id: str) -> tuple[list[Reminder], dict[str, Any] | None]:
        appointment = self.appointments.get(caller.tenant_id, appointment_id)
        if appointment is None or not may_see_appointment(caller, appointment):
            raise NotFound("No such appointment.")
        return (self.repo.for_appointment(caller.tenant_id, appointment_id),
                self.repo.confirmation(caller.tenant_id, appointment_id))

    # --- sending (the scheduled job) ---------------------------------------------------------
    def send_due(self) -> list[Sent]:
        # Fail closed before claiming anything: a reminder without working links is not sent, and the run
        # fails (the job's errors alarm) instead of marking reminders failed one by one.
        if self.link_key is None:
            raise RuntimeError("HCO_LINK_SIGNING_KEY is not set for this stage (HCO_LINK_SIGNING_KEY_SECRET_ARN)")
        if not self.link_base:
            raise RuntimeError("HCO_LINK_BASE_URL is not set for this stage (infra/regions.json link_base_url)")
        now = self.clock()
        done: list[Sent] = []
        for tenant, appointment_id, reminder_id, send_at in self.repo.due(now, LOOKBACK):
            reminder = self.repo.get(tenant, appointment_id, reminder_id)
            if reminder is None or reminder.status not in ("scheduled", "sending"):
                self.repo.drop_pointer(tenant, appointment_id, reminder_id, send_at)
                continue
            if reminder.status == "sending":
                if send_at < now - STUCK_AFTER and self.repo.finish(reminder, "failed", "sending",
                                                                    failure="send_unconfirmed"):
                    done.append(Sent(tenant, reminder_id, reminder.channel, "failed"))
                continue
            appointment = self.appointments.get(tenant, appointment_id)
            if (appointment is None or appointment.status is not Status.BOOKED
                    or appointment.start != reminder.visit_start):
                self.repo.finish(reminder, "cancelled", "scheduled")  # stale: the visit moved or ended
                continue
            if not self.repo.claim(reminder):
                continue  # another run claimed it first
            done.append(self._send(replace(reminder, status="sending"), appointment, now))
        return done

    def _send(self, reminder: Reminder, appointment: Appointment, now: datetime) -> Sent:
        tenant = appointment.tenant_id
        try:
            message_id = self._deliver(reminder, appointment, now)
        except SendFailed as exc:
            self.repo.finish(reminder, "failed", "sending", failure=exc.code)
            self.audit.record(system_caller(tenant), "reminder.send", f"appointment/{appointment.appointment_id}",
                              appointment.patient_id, "failure")
            return Sent(tenant, reminder.reminder_id, reminder.channel, "failed")
        self.repo.finish(reminder, "sent", "sending", sent_at=now, message_id=message_id)
        self.audit.record(system_caller(tenant), "reminder.send", f"appointment/{appointment.appointment_id}",
                          appointment.patient_id, "success")
        return Sent(tenant, reminder.reminder_id, reminder.channel, "sent")

    def _deliver(self, reminder: Reminder, appointment: Appointment, now: datetime) -> str:
        patient = self.directory.get_patient(appointment.tenant_id, appointment.patient_id)
        to = None if patient is None else messages.destination(patient, reminder.channel)
        if not to:
            raise SendFailed("no_destination")
        language = messages.language_of(patient.preferred_language)
        policy = self.settings_of(appointment.tenant_id).reminders
        expires = min(appointment.start, now + timedelta(hours=policy.link_ttl_hours))
        values = {
            **self._visit_values(appointment, language),
            "join_link": (f"{self.link_base}/visit/{appointment.appointment_id}/join"
                          if appointment.modality is Modality.VIDEO else ""),
            "confirm_link": self.link(appointment, "confirm", expires),
            "decline_link": self.link(appointment, "decline", expires),
        }
        return messages.deliver(self.sender(), reminder.channel, to,
                                messages.render("reminder", reminder.channel, language, values))

    def tell(self, appointment: Appointment, kind: str) -> int:
        """A one-off notice of a change the patient did not make (kind: a template, e.g. `released`), on the
        tenant's channels the patient has; returns how many went out. Audited like a reminder."""
        patient = self.directory.get_patient(appointment.tenant_id, appointment.patient_id)
        if patient is None:
            return 0
        language = messages.language_of(patient.preferred_language)
        sent = messages.notify(self.sender(), patient, self.settings_of(appointment.tenant_id).reminders.channels,
                               kind, language, self._visit_values(appointment, language))
        self.audit.record(system_caller(appointment.tenant_id), f"patient.notice.{kind}",
                          f"appointment/{appointment.appointment_id}", appointment.patient_id,
                          "success" if sent else "failure")
        return sent

    def _visit_values(self, appointment: Appointment, language: str) -> dict[str, str]:
        """When and where, as the patient reads it: the visit's local time and the clinic's name or its kind."""
        return {"time": messages.local_time(appointment.start, appointment.timezone, language),
                "place": messages.place_of(appointment.modality.value, self._site_name(appointment), language)}

    def _site_name(self, appointment: Appointment) -> str | None:
        if not appointment.site_id:
            return None
        site = self.directory.get_site(appointment.tenant_id, appointment.site_id)
        return site.name if site is not None else None

    def link(self, appointment: Appointment, action: str, expires: datetime) -> str:
        """A single-use link: the nonce is stored now and consumed by the first valid use."""
        if self.link_key is None:
            raise RuntimeError("HCO_LINK_SIGNING_KEY is not set")
        nonce = secrets.token_urlsafe(16)
        self.repo.issue_link(appointment.tenant_id, appointment.appointment_id, nonce, action, expires)
        token = links.sign(links.LinkClaim(appointment.tenant_id, appointment.appointment_id, action, nonce,
                                           expires), self.link_key)
        return f"{self.link_base}/visit/{appointment.appointment_id}/{action}?token={token}"
