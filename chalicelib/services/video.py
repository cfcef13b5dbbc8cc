"""Video visits on Chime SDK Meetings: join (find-or-create at first join), admit, end, phone fallback.

Meetings are created just in time: Chime ends a meeting nobody joined after 5 minutes and any
meeting after 24 h, so a meeting made at booking would be gone by the visit. The meeting id,
control region, generation and attendee ids live on the appointment in DynamoDB.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Protocol

from ..adapters.chime import (
    AttendeeInfo,
    ChimeVideoRooms,
    MeetingInfo,
    MeetingNotFound,
    choose_media_region,
    control_region_for,
    opaque_external_id,
)
from ..adapters.dynamo.appointments import AppointmentRepository
from ..domain.access import Caller, may_see_appointment
from ..domain.care import CareDecision
from ..domain.errors import (
    Conflict,
    DomainError,
    FieldError,
    InvalidTransition,
    LocationNotConfirmed,
    NotFound,
    VideoUnavailable,
)
from ..domain.model import Appointment, Modality, Status
from ..domain.ports import AuditTrail, Clock, IdFactory
from ..schemas.appointments import CheckInIn, VideoJoinIn
from ..settings import Settings


class VisitDoors(Protocol):
    """The lifecycle doors video shares with check-in and completion (services/booking.py)."""

    def confirm_location(self, caller: Caller, current: Appointment, body: CheckInIn, *,
                         check_in: bool) -> Appointment: ...
    def ready_to_start(self, caller: Caller, current: Appointment) -> CareDecision: ...
    def start(self, caller: Caller, current: Appointment) -> Appointment: ...

SAVE_ATTEMPTS = 4
JOINABLE = frozenset({Status.BOOKED, Status.CHECKED_IN, Status.IN_PROGRESS})


class OutsideJoinWindow(DomainError):
    code = "OUTSIDE_JOIN_WINDOW"
    status = 409
    title = "The visit cannot be joined now"


class NotAVideoVisit(DomainError):
    code = "NOT_A_VIDEO_VISIT"
    status = 409
    title = "This appointment is not a video visit"


@dataclass(frozen=True)
class Joined:
    meeting: MeetingInfo
    attendee: AttendeeInfo
    waiting_room: bool


class VideoService:
    def __init__(self, appointments: AppointmentRepository, rooms: Callable[[], ChimeVideoRooms],
                 settings: Settings, clock: Clock, new_id: IdFactory, audit: AuditTrail,
                 visits: VisitDoors) -> None:
        self.appointments = appointments
        self.rooms = rooms
        self.settings = settings
        self.clock = clock
        self.new_id = new_id
        self.audit = audit
        self.visits = visits

    def join(self, caller: Caller, appointment_id: str, body: VideoJoinIn | None = None) -> Joined:
        """The patient's join confirms where they are (as check-in does) and re-decides licensure there;
        without a confirmed location the patient cannot join. A clinician may join and wait; the visit
        starts (in_progress) only once the patient's location is confirmed and lawful."""
        appointment = self._participant_view(caller, appointment_id)
        role = "clinician" if caller.clinician_id == appointment.clinician_id and caller.has("clinician") else "patient"
        self._require_joinable(appointment)
        location = body.location() if body is not None else None
        if role == "patient":
            if location is not None:
                appointment = self.visits.confirm_location(caller, appointment, location,
                                                           check_in=appointment.status is Status.BOOKED)
            elif appointment.confirmed_location is None:
                raise LocationNotConfirmed(
                    "Tell us where you are for this visit: send {patient_jurisdiction, callback_phone} with the join.",
                    errors=[FieldError("patient_jurisdiction", "is required until the location is confirmed")])
        try:
            meeting = self._meeting(appointment)
            attendee = self.rooms().add_attendee(meeting.meeting_id, _external_user_id(appointment, role),
                                                 "full" if role == "clinician" else "waiting")
        except VideoUnavailable as exc:
            self.audit.record(caller, "video.join", f"appointment/{appointment_id}", appointment.patient_id,
                              "video_unavailable")
            raise VideoUnavailable(
                "Video could not be started. Switch this visit to phone and call the patient back.",
                extra={"fallback": {"modality": "phone",
                                    "action": f"/v1/appointments/{appointment_id}/switch-modality",
                                    "body": {"modality": "phone", "reason": "video_unavailable"}}},
                headers={"Retry-After": "5"}) from exc
        admitted = self._record(appointment_id, caller.tenant_id, meeting, role, attendee)
        self.audit.record(caller, "video.join", f"appointment/{appointment_id}", appointment.patient_id, "success")
        if role == "clinician":
            self._start_if_ready(caller, appointment_id)
        waiting = role == "patient" and not admitted and attendee.in_waiting_room
        return Joined(meeting, attendee, waiting)

    def admit(self, caller: Caller, appointment_id: str) -> Appointment:
        """Admitting the patient is the start of care: the same decision as any start (location confirmed,
        lawful there now, not under review), else 409 and the patient stays in the waiting room."""
        appointment = self._participant_view(caller, appointment_id)
        self.visits.ready_to_start(caller, appointment)
        video = appointment.video or {}
        patient_attendee = (video.get("attendees") or {}).get("patient")  # type: ignore[union-attr]
        if not video.get("meeting_id") or not patient_attendee:
            raise InvalidTransition("The patient has not joined yet; nobody is waiting to be admitted.")
        try:
            self.rooms().admit(str(video["meeting_id"]), str(patient_attendee))
        except MeetingNotFound as exc:
            raise InvalidTransition("The meeting has ended; join again to start a new one.") from exc
        updated = self._update_video(caller.tenant_id, appointment_id, lambda v: {**v, "patient_admitted": True})
        self.audit.record(caller, "video.admit", f"appointment/{appointment_id}", appointment.patient_id, "success")
        if updated.status in (Status.BOOKED, Status.CHECKED_IN):
            updated = self.visits.start(caller, updated)
        return updated

    def end(self, caller: Caller, appointment_id: str) -> Appointment:
        appointment = self._participant_view(caller, appointment_id)
        video = appointment.video or {}
        if video.get("meeting_id"):
            self.rooms().end_meeting(str(video["meeting_id"]))
        updated = self._update_video(caller.tenant_id, appointment_id,
                                     lambda v: {**v, "meeting_id": None, "attendees": {}, "patient_admitted": False,
                                                "ended_at": self.clock().isoformat()})
        self.audit.record(caller, "video.end", f"appointment/{appointment_id}", appointment.patient_id, "success")
        return updated

    # --- internals ---------------------------------------------------------------------------
    def _participant_view(self, caller: Caller, appointment_id: str) -> Appointment:
        """Only that appointment's patient or clinician: everyone else gets 404, as if it did not exist."""
        appointment = self.appointments.get(caller.tenant_id, appointment_id)
        if appointment is None or not may_see_appointment(caller, appointment):
            raise NotFound("No such appointment.")
        is_patient = caller.has("patient") and caller.patient_id == appointment.patient_id
        is_clinician = caller.has("clinician") and caller.clinician_id == appointment.clinician_id
        if not (is_patient or is_clinician):
            raise NotFound("No such appointment.")
        return appointment

    def _require_joinable(self, appointment: Appointment) -> None:
        if appointment.modality is not Modality.VIDEO:
            raise NotAVideoVisit(f"This is a {appointment.modality.value} visit.")
        if appointment.status not in JOINABLE:
            raise InvalidTransition(f"An appointment that is {appointment.status.value} cannot be joined.",
                                    extra={"current_status": appointment.status.value})
        now = self.clock()
        opens = appointment.start - timedelta(minutes=self.settings.join_window_before_minutes)
        if not opens <= now <= appointment.end:
            raise OutsideJoinWindow("The visit can be joined from "
                                    f"{self.settings.join_window_before_minutes} minutes before its start "
                                    "until its end.",
                                    extra={"opens_at": _z(opens), "closes_at": _z(appointment.end)})

    def _meeting(self, appointment: Appointment) -> MeetingInfo:
        video = appointment.video or {}
        generation = int(video.get("generation", 0))  # type: ignore[call-overload]
        rooms = self.rooms()
        if video.get("meeting_id"):
            existing = rooms.get_meeting(str(video["meeting_id"]))
            if existing is not None:
                return existing
            generation += 1  # Chime ended it (nobody joined for 5 minutes, or 24 h): make a new one
        media_region = choose_media_region(self.settings.region, appointment.patient_jurisdiction)
        token = f"{appointment.tenant_id}:{appointment.appointment_id}"
        external = opaque_external_id("appt", appointment.tenant_id, appointment.appointment_id)
        return rooms.find_or_create_meeting(token, generation, external, media_region)

    def _record(self, appointment_id: str, tenant: str, meeting: MeetingInfo, role: str,
                attendee: AttendeeInfo) -> bool:
        """Store the meeting and this attendee on the appointment; concurrent joins merge. Returns admitted."""
        def merge(video: dict[str, Any]) -> dict[str, Any]:
            same_meeting = video.get("meeting_id") == meeting.meeting_id
            generation = int(video.get("generation", 0))
            if video.get("meeting_id") and not same_meeting:
                generation += 1
            attendees = dict(video.get("attendees") or {}) if same_meeting else {}
            attendees[role] = attendee.attendee_id
            return {"meeting_id": meeting.meeting_id, "media_region": meeting.media_region,
                    "control_region": control_region_for(self.settings.region)
                    if not self.settings.chime_control_region else self.settings.chime_control_region,
                    "generation": generation, "attendees": attendees,
                    "patient_admitted": bool(video.get("patient_admitted")) and same_meeting}

        updated = self._update_video(tenant, appointment_id, merge)
        return bool((updated.video or {}).get("patient_admitted"))

    def _start_if_ready(self, caller: Caller, appointment_id: str) -> None:
        """The clinician joined: start the visit if the patient's location is confirmed and lawful; otherwise
        the clinician waits in the meeting and admit gives the reason."""
        current = self.appointments.get(caller.tenant_id, appointment_id)
        if current is None or current.status not in (Status.BOOKED, Status.CHECKED_IN):
            return
        try:
            self.visits.start(caller, current)
        except DomainError:  # not ready (location, review, licensure): admit will say why
            return

    def _update_video(self, tenant: str, appointment_id: str,
                      change: Callable[[dict[str, Any]], dict[str, Any]]) -> Appointment:
        for _ in range(SAVE_ATTEMPTS):
            current = self.appointments.get(tenant, appointment_id)
            if current is None:
                raise NotFound("No such appointment.")
            new = replace(current, video=change(dict(current.video or {})), updated_at=self.clock())
            try:
                return self.appointments.save(current, new, self.new_id("tx"))
            except Conflict:
                continue  # the other participant joined at the same moment: re-read and merge
        raise Conflict("The appointment kept changing; retry the join.", headers={"Retry-After": "1"})


def _external_user_id(appointment: Appointment, role: str) -> str:
    # Opaque and stable per participant of this appointment: no names, no patient ids in Chime.
    digest = hashlib.sha256(f"{appointment.tenant_id}:{appointment.appointment_id}:{role}".encode()).hexdigest()
    return f"{role}-{digest[:32]}"


def _z(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
