"""Video visits: join, admit, end, attendance; and Chime's meeting events (EventBridge)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from chalice.app import CloudWatchEvent

from ..bootstrap import get_services
from ..schemas.appointments import VideoJoinIn
from ..schemas.video import VideoInvitationIn, VideoInvitationJoinIn
from .appointment_inputs import join_location
from .endpoint import Call, created, endpoint, ok
from .presenters import appointment_json, utc, video_join_json

video = Blueprint(__name__)


@endpoint(video, "POST", "/v1/appointments/{appointment_id}/video/join", body=VideoJoinIn, response="VideoJoinOut",
          errors=(409, 503), summary="Join the visit's Chime SDK meeting (created just in time); the patient's body "
                                     "confirms where they are")
def join(call: Call, appointment_id: str) -> Response:
    location = join_location(call.body(VideoJoinIn))
    return ok(video_join_json(get_services().video.join(call.caller, appointment_id, location)))


@endpoint(video, "POST", "/v1/appointments/{appointment_id}/video/invitations", body=VideoInvitationIn,
          response="VideoInvitationOut", status=201, errors=(409, 422),
          summary="Invite an interpreter, a guardian (minor patient) or a supervising clinician: a single-use link")
def invite(call: Call, appointment_id: str) -> Response:
    body = call.body(VideoInvitationIn)
    return created(_guests().invite(call.caller, appointment_id, body.role))


@endpoint(video, "POST", "/v1/video/invitations/join", body=VideoInvitationJoinIn, response="VideoGuestJoinOut",
          errors=(404, 409, 503), summary="Join a visit with an invitation link (no login; the link works once)")
def join_by_invitation(call: Call) -> Response:
    body = call.body(VideoInvitationJoinIn)
    joined, role = _guests().join(body.token)
    return ok({**video_join_json(joined), "role": role})


@endpoint(video, "POST", "/v1/appointments/{appointment_id}/video/admit", response="AppointmentOut",
          errors=(409, 503), summary="Admit the waiting patient")
def admit(call: Call, appointment_id: str) -> Response:
    return ok(appointment_json(get_services().video.admit(call.caller, appointment_id)))


@endpoint(video, "POST", "/v1/appointments/{appointment_id}/video/end", response="AppointmentOut",
          errors=(409, 503), summary="End the meeting")
def end(call: Call, appointment_id: str) -> Response:
    return ok(appointment_json(get_services().video.end(call.caller, appointment_id)))


@endpoint(video, "GET", "/v1/appointments/{appointment_id}/video/attendance", response="VideoAttendanceOut",
          summary="Who joined, left or dropped when, from the video service's events; connected minutes "
                  "against the service's time band")
def attendance(call: Call, appointment_id: str) -> Response:
    found = _attendance().attendance_of(call.caller, appointment_id)
    return ok({**found, "items": [{**item, "at": utc(item["at"])} for item in found["items"]]})


# Chime SDK meeting lifecycle events, delivered by EventBridge (at least once, in any order).
@video.on_cw_event({"source": ["aws.chime"], "detail-type": ["Chime Meeting State Change"]},
                   name="chime_meeting_events")
def chime_meeting_events(event: CloudWatchEvent) -> dict[str, Any]:
    return {"outcome": _attendance().record_event(event.to_dict())}


def _guests() -> Any:
    guests = get_services().video_guests
    if guests is None:
        raise RuntimeError("video guests are not wired (chalicelib/bootstrap.py)")
    return guests


def _attendance() -> Any:
    service = get_services().attendance
    if service is None:
        raise RuntimeError("attendance is not wired (chalicelib/bootstrap.py)")
    return service
