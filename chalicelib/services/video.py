"""Video visits on Chime SDK Meetings: join (find-or-create at first join), admit, end, phone fallback.

Meetings are created just in time: Chime ends a meeting nobody joined after 5 minutes and any
meeting after 24 h, so a meeting made at booking would be gone by the visit. The meeting id,
control region, generation and attendee ids live on the appointment (domain/meeting_state.py).

A join answers within one deadline (settings.video) whatever Chime does: every call and retry
shares it, and past it, or on any refusal from Chime, the answer is 503 VIDEO_UNAVAILABLE with
the phone fallback. The meeting ends with the visit: `end`, complete, cancel, no-show and a switch
to another modality delete it (BookingService calls `visit_ended`), and a later join is 409 VISIT_ENDED.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from typing import Any, Protocol

from ..domain.access import Caller, may_see_appointment
from ..domain.audit_entry import AuditEntry
from ..domain.care import CareDecision
from ..domain.deadline import Deadline
from ..domain.errors import (
    Conflict,
    DomainError,
    FieldError,
    InvalidTransition,
    LocationNotConfirmed,
    NotFound,
    VideoUnavailable,
)
from ..domain.meeting_state import AlreadyEnded, MeetingState, Superseded, admitted, claim, ended
from ..domain.model import Appointment, Modality, Status
from ..domain.ports import AppointmentStore, AuditTrail, Clock, IdFactory, MediaRegionChooser, VideoRoomsByRegion
from ..domain.video_rooms import AttendeeInfo, ChimeRequestRejected, MeetingInfo, MeetingNotFound, opaque_external_id
from ..settings import Settings, VideoSettings
from .booking import StatedLocation

log = logging.getLogger(__name__)


class VisitDoors(Protocol):
    """The lifecycle doors video shares with check-in and completion (services/booking.py)."""

    def confirm_location(self, caller: Caller, current: Appointment, body: StatedLocation, *,
                         check_in: bool) -> Appointment: ...
    def ready_to_start(self, caller: Caller, current: Appointment) -> CareDecision: ...
    def start(self, caller: Caller, current: Appointment) -> Appointment: ...


class AttendanceBook(Protocol):
    """services/attendance.py: which visit a meeting belongs to (for Chime's events), and the time check
    made when a visit completes (connected minutes against the service's time band)."""

    def meeting_opened(self, tenant: str, appointment_id: str, meeting_id: str) -> None: ...
    def on_complete(self, appointment: Appointment, state: MeetingState) -> dict[str, Any] | None: ...


SAVE_ATTEMPTS = 4
JOIN_ROUNDS = 3
TERMINAL = frozenset({Status.COMPLETED, Status.CANCELLED, Status.NO_SHOW})
FALLBACK_DETAIL = "Video could not be started. Switch this visit to phone and call the patient back."


class OutsideJoinWindow(DomainError):
    code = "OUTSIDE_JOIN_WINDOW"
    status = 409
    title = "The visit cannot be joined now"


class NotAVideoVisit(DomainError):
    code = "NOT_A_VIDEO_VISIT"
    status = 409
    title = "This appointment is not a video visit"


class VisitEnded(DomainError):
    code = "VISIT_ENDED"
    status = 409
    title = "This visit has ended; its meeting is closed"


@dataclass(frozen=True)
class Joined:
    meeting: MeetingInfo
    attendee: AttendeeInfo
    waiting_room: bool


class VideoService:
    def __init__(self, appointments: AppointmentStore, rooms: VideoRoomsByRegion, settings: Settings,
                 clock: Clock, new_id: IdFactory, audit: AuditTrail, visits: VisitDoors, *,
                 media_region: MediaRegionChooser, attendance: AttendanceBook | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.appointments = appointments
        self.rooms = rooms
        self.media_region = media_region
        self.settings = settings
        self.limits: VideoSettings = settings.video
        self.clock = clock
        self.new_id = new_id
        self.audit = audit
        self.visits = visits
        self.attendance = attendance
        self.monotonic = monotonic

    # --- the doors ---------------------------------------------------------------------------
    def join(self, caller: Caller, appointment_id: str, location: StatedLocation | None = None) -> Joined:
        """The patient's join confirms where they are (as check-in does) and re-decides licensure there;
        without a confirmed location the patient cannot join. A clinician may join and wait; the visit
        starts (in_progress) only once the patient's location is confirmed and lawful."""
        appointment = self._participant_view(caller, appointment_id)
        role = "clinician" if caller.clinician_id == appointment.clinician_id and caller.has("clinician") else "patient"
        self._require_joinable(appointment)
        if role == "patient":
            if location is not None:
                appointment = self.visits.confirm_location(caller, appointment, location,
                                                           check_in=appointment.status is Status.BOOKED)
            elif appointment.confirmed_location is None:
                raise LocationNotConfirmed(
                    "Tell us where you are for this visit: send {patient_jurisdiction, callback_phone} with the join.",
                    errors=[FieldError("patient_jurisdiction", "is required until the location is confirmed")])
        joined = self.enter_as(caller, appointment, role)
        if role == "clinician":
            self._start_if_ready(caller, appointment_id)
        return joined

    def enter_as(self, caller: Caller, appointment: Appointment, key: str) -> Joined:
        """Put one participant (patient, clinician, or an invited guest `role.invitation`) into the visit's
        meeting within the join deadline; any Chime failure is 503 with the phone fallback."""
        deadline = Deadline(self.limits.join_deadline_seconds, self.monotonic)
        appointment_id = appointment.appointment_id
        try:
            meeting, attendee, state = self._enter(appointment, key, deadline)
        except AlreadyEnded as exc:
            raise VisitEnded("The visit has ended; it cannot be joined again.") from exc
        except (VideoUnavailable, ChimeRequestRejected, MeetingNotFound) as exc:
            log.warning("video join unavailable after %.1fs: %s", deadline.elapsed(), type(exc).__name__)
            self.audit.record(caller, "video.join", f"appointment/{appointment_id}", appointment.patient_id,
                              "video_unavailable")
            raise _unavailable(appointment_id) from exc
        self.audit.record(caller, "video.join", f"appointment/{appointment_id}", appointment.patient_id, "success")
        waiting = not _presents(key) and not state.patient_admitted and attendee.in_waiting_room
        return Joined(meeting, attendee, waiting)

    def admit(self, caller: Caller, appointment_id: str) -> Appointment:
        """Admitting the patient is the start of care: the same decision as any start (location confirmed,
        lawful there now, not under review), else 409 and the patient stays in the waiting room."""
        appointment = self._participant_view(caller, appointment_id)
        state = MeetingState.from_doc(appointment.video)
        if appointment.status in TERMINAL or state.is_ended(video_now=appointment.modality is Modality.VIDEO):
            raise VisitEnded("The visit has ended; there is nobody to admit.")
        self.visits.ready_to_start(caller, appointment)
        patient_attendee = state.attendees.get("patient")
        if not state.meeting_id or not patient_attendee:
            raise InvalidTransition("The patient has not joined yet; nobody is waiting to be admitted.")
        deadline = Deadline(self.limits.join_deadline_seconds, self.monotonic)
        waiting = [patient_attendee] + [a for key, a in state.attendees.items() if "." in key and not _presents(key)]
        try:
            for attendee_id in waiting:  # the patient, and the guests who waited with them
                self.rooms(state.control_region).admit(state.meeting_id, attendee_id, deadline=deadline)
        except MeetingNotFound as exc:
            raise InvalidTransition("The meeting has ended; join again to start a new one.") from exc
        except (VideoUnavailable, ChimeRequestRejected) as exc:
            raise _unavailable(appointment_id) from exc
        try:
            updated, _ = self._save_state(caller.tenant_id, appointment_id,
                                          lambda s: admitted(s, str(state.meeting_id)),
                                          AuditEntry(caller, "video.admit", f"appointment/{appointment_id}",
                                                     appointment.patient_id, "success"))
        except Superseded as exc:
            raise InvalidTransition("The meeting changed while admitting; admit again.") from exc
        if updated.status in (Status.BOOKED, Status.CHECKED_IN):
            updated = self.visits.start(caller, updated)
        return updated

    def end(self, caller: Caller, appointment_id: str) -> Appointment:
        appointment = self._participant_view(caller, appointment_id)
        updated = self.visit_ended(caller, appointment, "ended")
        self.audit.record(caller, "video.end", f"appointment/{appointment_id}", appointment.patient_id, "success")
        return updated

    def visit_ended(self, caller: Caller, appointment: Appointment, reason: str) -> Appointment:
        """The visit is over (end, complete, cancel, no-show, switch away from video): delete the meeting in
        the control region that holds it, so every JoinToken dies with it, and record the end with a new
        generation. Chime being down does not block the visit's own change: the meeting then ends by
        itself once nobody is connected, and no join can reach it (409 VISIT_ENDED)."""
        state = MeetingState.from_doc(appointment.video)
        if state.meeting_id:
            deadline = Deadline(self.limits.cleanup_deadline_seconds, self.monotonic)
            try:
                self.rooms(state.control_region).end_meeting(state.meeting_id, deadline=deadline)
            except (VideoUnavailable, ChimeRequestRejected) as exc:
                log.warning("video meeting clean-up failed (%s); Chime ends it when nobody is connected",
                            type(exc).__name__)
        at = _z(self.clock())
        time_check = None
        if reason == Status.COMPLETED.value and self.attendance is not None:
            time_check = self.attendance.on_complete(appointment, state)

        def close(s: MeetingState) -> MeetingState:
            closed = ended(s, reason=reason, at=at)
            return replace(closed, time_check=time_check) if time_check is not None else closed

        updated, _ = self._save_state(appointment.tenant_id, appointment.appointment_id, close, AuditEntry(
            caller, "video.meeting_ended", f"appointment/{appointment.appointment_id}", appointment.patient_id,
            reason))
        return updated

    # --- internals ---------------------------------------------------------------------------
    def _enter(self, appointment: Appointment, role: str,
               deadline: Deadline) -> tuple[MeetingInfo, AttendeeInfo, MeetingState]:
        """Find or make the meeting, add this participant, record both: re-read and rejoin the stored
        meeting when another invocation stored a newer one meanwhile."""
        tenant, appointment_id = appointment.tenant_id, appointment.appointment_id
        current = appointment
        for _ in range(JOIN_ROUNDS):
            state = MeetingState.from_doc(current.video)
            video_now = current.modality is Modality.VIDEO
            if state.is_ended(video_now=video_now):
                raise AlreadyEnded
            meeting, generation, region = self._find_or_create(current, state, deadline)
            self._opened(current, meeting, state)
            admitted_here = state.patient_admitted and state.meeting_id == meeting.meeting_id
            profile = "full" if _presents(role) or admitted_here else "waiting"
            external = _external_user_id(current, role)
            try:
                attendee = self.rooms(region).add_attendee(meeting.meeting_id, external, profile, deadline=deadline)
            except MeetingNotFound:
                # Ended between our calls: re-create once, with the next generation (a new token).
                generation += 1
                region = self.rooms.default_region
                meeting = self._create(current, generation, deadline)
                self._opened(current, meeting, state)
                attendee = self.rooms(region).add_attendee(meeting.meeting_id, external, profile, deadline=deadline)
            try:
                _, saved = self._save_state(tenant, appointment_id, partial(
                    claim, meeting_id=meeting.meeting_id, generation=generation, control_region=region,
                    media_region=meeting.media_region, role=role, attendee_id=attendee.attendee_id,
                    video_now=video_now))
                return meeting, attendee, saved
            except AlreadyEnded:
                self._discard(meeting, region, state)
                raise
            except Superseded:
                reread = self.appointments.get(tenant, appointment_id)
                if reread is None:
                    raise NotFound("No such appointment.") from None
                current = reread
        raise VideoUnavailable("The meeting kept changing under concurrent joins.")

    def _find_or_create(self, appointment: Appointment, state: MeetingState,
                        deadline: Deadline) -> tuple[MeetingInfo, int, str]:
        if state.meeting_id:
            region = state.control_region or self.rooms.default_region
            existing = self.rooms(region).get_meeting(state.meeting_id, deadline=deadline)
            if existing is not None:
                return existing, state.generation, region
            generation = state.generation + 1  # Chime ended it (nobody connected for 5 minutes, or 24 h)
        else:
            generation = state.generation
        return self._create(appointment, generation, deadline), generation, self.rooms.default_region

    def _create(self, appointment: Appointment, generation: int, deadline: Deadline) -> MeetingInfo:
        media_region = self.media_region(self.settings.region, appointment.patient_jurisdiction)
        token = f"{appointment.tenant_id}:{appointment.appointment_id}"
        external = opaque_external_id("appt", appointment.tenant_id, appointment.appointment_id)
        return self.rooms().find_or_create_meeting(token, generation, external, media_region, deadline=deadline)

    def _opened(self, appointment: Appointment, meeting: MeetingInfo, read: MeetingState) -> None:
        # Before anyone can connect: Chime's events name only the meeting, and must find this visit.
        if self.attendance is not None and meeting.meeting_id != read.meeting_id:
            self.attendance.meeting_opened(appointment.tenant_id, appointment.appointment_id, meeting.meeting_id)

    def _discard(self, meeting: MeetingInfo, region: str, read: MeetingState) -> None:
        """A join that raced the end of the visit made a meeting nobody may use: delete it."""
        if meeting.meeting_id == read.meeting_id:
            return
        try:
            self.rooms(region).end_meeting(meeting.meeting_id,
                                           deadline=Deadline(self.limits.cleanup_deadline_seconds, self.monotonic))
        except (VideoUnavailable, ChimeRequestRejected):
            log.warning("could not delete a meeting made after the visit ended")

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

    def _require_open(self, appointment: Appointment) -> None:
        state = MeetingState.from_doc(appointment.video)
        if appointment.status in TERMINAL or state.is_ended(video_now=appointment.modality is Modality.VIDEO):
            raise VisitEnded("The visit has ended; it cannot be joined again.",
                             extra={"current_status": appointment.status.value})
        if appointment.modality is not Modality.VIDEO:
            raise NotAVideoVisit(f"This is a {appointment.modality.value} visit.")

    def _require_joinable(self, appointment: Appointment) -> None:
        self._require_open(appointment)
        now = self.clock()
        opens = appointment.start - timedelta(minutes=self.settings.join_window_before_minutes)
        if not opens <= now <= appointment.end:
            raise OutsideJoinWindow("The visit can be joined from "
                                    f"{self.settings.join_window_before_minutes} minutes before its start "
                                    "until its end.",
                                    extra={"opens_at": _z(opens), "closes_at": _z(appointment.end)})

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

    def _save_state(self, tenant: str, appointment_id: str, change: Callable[[MeetingState], MeetingState],
                    entry: AuditEntry | None = None) -> tuple[Appointment, MeetingState]:
        """Read, decide, write under the appointment's version condition; a lost race decides again on the
        fresh state (so `change` may raise Superseded or AlreadyEnded on what it finds)."""
        for _ in range(SAVE_ATTEMPTS):
            current = self.appointments.get(tenant, appointment_id)
            if current is None:
                raise NotFound("No such appointment.")
            state = change(MeetingState.from_doc(current.video))
            new = replace(current, video=state.to_doc(), updated_at=self.clock())
            try:
                return self.appointments.save(current, new, self.new_id("tx"), audit=entry), state
            except Conflict:
                continue
        raise Conflict("The appointment kept changing; retry.", headers={"Retry-After": "1"})


def _unavailable(appointment_id: str) -> VideoUnavailable:
    return VideoUnavailable(
        FALLBACK_DETAIL,
        extra={"fallback": {"modality": "phone",
                            "action": f"/v1/appointments/{appointment_id}/switch-modality",
                            "body": {"modality": "phone", "reason": "video_unavailable"}}},
        headers={"Retry-After": "5"})


def _presents(key: str) -> bool:
    """Clinicians (the visit's own, or a supervising one) are never held in the waiting room."""
    return key == "clinician" or key.startswith("supervisor.")


def _external_user_id(appointment: Appointment, key: str) -> str:
    # Opaque and stable per participant of this appointment: no names, no patient ids in Chime. The role
    # prefix (patient, clinician, interpreter, ...) is what attendance reads from Chime's events.
    digest = hashlib.sha256(f"{appointment.tenant_id}:{appointment.appointment_id}:{key}".encode()).hexdigest()
    return f"{key.split('.')[0]}-{digest[:32]}"


def _z(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
