"""Video visits: join, admit, end."""

from __future__ import annotations

from chalice import Blueprint, Response

from ..bootstrap import get_services
from ..schemas.appointments import VideoJoinIn
from .presenters import appointment_json
from .routing import Call, endpoint, ok

video = Blueprint(__name__)


@endpoint(video, "POST", "/v1/appointments/{appointment_id}/video/join", body=VideoJoinIn, response="VideoJoinOut",
          errors=(409, 503), summary="Join the visit's Chime SDK meeting (created just in time); the patient's body "
                                     "confirms where they are")
def join(call: Call, appointment_id: str) -> Response:
    body = call.body(VideoJoinIn)
    joined = get_services().video.join(call.caller, appointment_id, body)
    m, a = joined.meeting, joined.attendee
    return ok({
        "meeting": {"MeetingId": m.meeting_id, "MediaRegion": m.media_region, "MediaPlacement": m.media_placement,
                    "ExternalMeetingId": m.external_meeting_id, "MeetingArn": m.meeting_arn},
        "attendee": {"AttendeeId": a.attendee_id, "ExternalUserId": a.external_user_id, "JoinToken": a.join_token},
        "waiting_room": joined.waiting_room,
    })


@endpoint(video, "POST", "/v1/appointments/{appointment_id}/video/admit", response="AppointmentOut",
          errors=(409, 503), summary="Admit the waiting patient")
def admit(call: Call, appointment_id: str) -> Response:
    return ok(appointment_json(get_services().video.admit(call.caller, appointment_id)))


@endpoint(video, "POST", "/v1/appointments/{appointment_id}/video/end", response="AppointmentOut",
          errors=(409, 503), summary="End the meeting")
def end(call: Call, appointment_id: str) -> Response:
    return ok(appointment_json(get_services().video.end(call.caller, appointment_id)))
