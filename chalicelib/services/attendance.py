"""Attendance of video visits, from Chime's meeting events (EventBridge -> the Chalice handler).

Events arrive at least once and in any order; each is stored once under the visit it belongs to
(found through the meeting's owner item, written when a join records the meeting). Reading the
attendance is a read of PHI-adjacent data (who attended a mental-health visit): it is audited.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from ..domain.access import Caller, may_see_appointment
from ..domain.attendance import EVENT_KINDS, PresenceEvent, time_check, together_minutes
from ..domain.errors import NotFound
from ..domain.meeting_state import MeetingState
from ..domain.model import Appointment
from ..domain.ports import AppointmentReader, AttendanceStore, AuditTrail

log = logging.getLogger(__name__)


class AttendanceService:
    def __init__(self, appointments: AppointmentReader, attendance: AttendanceStore,
                 audit: AuditTrail) -> None:
        self.appointments = appointments
        self.attendance = attendance
        self.audit = audit

    def meeting_opened(self, tenant: str, appointment_id: str, meeting_id: str) -> None:
        self.attendance.remember_meeting(meeting_id, tenant, appointment_id)

    def record_event(self, event: dict[str, Any]) -> str:
        """One EventBridge "Chime Meeting State Change" event -> stored | duplicate | ignored | unknown_meeting."""
        detail = event.get("detail") or {}
        kind = EVENT_KINDS.get(str(detail.get("eventType", "")))
        meeting_id = detail.get("meetingId")
        if kind is None or not meeting_id:
            return "ignored"
        owner = self.attendance.owner_of(str(meeting_id))
        if owner is None:
            log.warning("chime event for a meeting this stage did not make: %s", detail.get("eventType"))
            return "unknown_meeting"
        external = str(detail.get("externalUserId") or "")
        role = external.split("-", 1)[0] if "-" in external else None
        presence = PresenceEvent(at=_event_time(detail, event), kind=kind, meeting_id=str(meeting_id),
                                 attendee_id=detail.get("attendeeId"), role=role)
        return "stored" if self.attendance.add(*owner, presence) else "duplicate"

    def attendance_of(self, caller: Caller, appointment_id: str) -> dict[str, Any]:
        appointment = self.appointments.get(caller.tenant_id, appointment_id)
        if appointment is None or not may_see_appointment(caller, appointment):
            raise NotFound("No such appointment.")
        events = self.attendance.events(caller.tenant_id, appointment_id)
        self.audit.record(caller, "video.attendance.read", f"appointment/{appointment_id}", appointment.patient_id,
                          "success")
        minutes = together_minutes(events)
        return {
            "appointment_id": appointment_id,
            "items": [{"at": e.at, "event": e.kind, "role": e.role, "attendee_id": e.attendee_id,
                       "meeting_id": e.meeting_id} for e in sorted(events, key=lambda e: e.at)],
            "connected_minutes": minutes,
            "time_check": MeetingState.from_doc(appointment.video).time_check
            or time_check(appointment.service, minutes, any_events=bool(events)),
        }

    def on_complete(self, appointment: Appointment, state: MeetingState) -> dict[str, Any] | None:
        """The VisitCheck of services/video.py: connected minutes against the service's time band."""
        events = self.attendance.events(appointment.tenant_id, appointment.appointment_id)
        return time_check(appointment.service, together_minutes(events), any_events=bool(events))


def _event_time(detail: dict[str, Any], event: dict[str, Any]) -> datetime:
    stamp = detail.get("timestamp")
    if isinstance(stamp, int | float):
        return datetime.fromtimestamp(stamp / 1000, tz=UTC)
    return datetime.fromisoformat(str(event.get("time", "")).replace("Z", "+00:00")).astimezone(UTC)
