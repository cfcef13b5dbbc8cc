"""Video visits end to end through the API on the local Chime SDK Meetings emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.api
START = "2026-03-03T10:00:00-05:00"  # 15:00 UTC


@pytest.fixture
def visit(world, api, scheduler, clock, chime):
    chime.backend.clear_faults()
    a = scheduler.post("/v1/appointments", {
        "patient_id": world["patient"]["patient_id"], "clinician_id": world["clinician"]["clinician_id"],
        "service": "90834", "start": START, "modality": "video", "patient_jurisdiction": "US-NY"}).json
    clock.now = datetime(2026, 3, 3, 14, 50, tzinfo=UTC)  # ten minutes before the start
    patient = api.as_role("patient", patient_id=world["patient"]["patient_id"])
    clinician = api.as_role("clinician", clinician_id=world["clinician"]["clinician_id"])
    yield {"id": a["appointment_id"], "patient": patient, "clinician": clinician}
    chime.backend.clear_faults()


HERE = {"patient_jurisdiction": "US-NY", "callback_phone": "+1 212 555 0100"}


def join(who, appointment_id):
    # A patient's join confirms where they are (a clinician's body is ignored): API.md, Video.
    return who.post(f"/v1/appointments/{appointment_id}/video/join", HERE)


def test_patient_and_clinician_join_the_same_meeting_and_the_patient_waits(visit):
    p = join(visit["patient"], visit["id"])
    c = join(visit["clinician"], visit["id"])
    assert p.status == 200 and c.status == 200, (p.json, c.json)
    assert p.json["meeting"]["MeetingId"] == c.json["meeting"]["MeetingId"]
    assert p.json["meeting"]["MediaRegion"] == "us-east-1"
    assert p.json["meeting"]["MediaPlacement"]["SignalingUrl"].startswith("wss://")
    assert p.json["attendee"]["AttendeeId"] != c.json["attendee"]["AttendeeId"]
    assert p.json["attendee"]["JoinToken"] and p.json["waiting_room"] is True
    assert c.json["waiting_room"] is False
    # nothing about the patient leaks into Chime's ids
    assert visit["id"] not in p.json["attendee"]["ExternalUserId"]
    assert p.json["attendee"]["ExternalUserId"].startswith("patient-")


def test_admit_takes_the_patient_out_of_the_waiting_room(visit, chime):
    first = join(visit["patient"], visit["id"])
    join(visit["clinician"], visit["id"])
    r = visit["clinician"].post(f"/v1/appointments/{visit['id']}/video/admit")
    assert r.status == 200 and r.json["status"] == "in_progress"
    meeting_id = first.json["meeting"]["MeetingId"]
    attendee_id = first.json["attendee"]["AttendeeId"]
    state = chime.backend.snapshot()
    assert meeting_id in str(state) and attendee_id in str(state)
    again = join(visit["patient"], visit["id"])
    assert again.json["waiting_room"] is False
    assert again.json["attendee"]["AttendeeId"] == attendee_id


def test_a_third_party_cannot_join(visit, api, scheduler):
    stranger = scheduler.post("/v1/patients", {"name": "Stranger", "birth_date": "1970-01-01",
                                                 "home_jurisdiction": "US-NY"}).json
    r = join(api.as_role("patient", patient_id=stranger["patient_id"]), visit["id"])
    assert r.status == 404 and r.json["code"] == "NOT_FOUND"
    assert join(scheduler, visit["id"]).status == 403


def test_joining_outside_the_window_is_refused(visit, clock):
    clock.now = datetime(2026, 3, 3, 14, 40, tzinfo=UTC)  # 20 minutes early
    r = join(visit["patient"], visit["id"])
    assert r.status == 409 and r.json["code"] == "OUTSIDE_JOIN_WINDOW"
    assert r.json["opens_at"] == "2026-03-03T14:45:00Z"
    clock.now = datetime(2026, 3, 3, 15, 46, tzinfo=UTC)  # after the end
    assert join(visit["patient"], visit["id"]).json["code"] == "OUTSIDE_JOIN_WINDOW"


def test_a_phone_visit_has_no_video_room(world, api, scheduler, clock):
    a = scheduler.post("/v1/appointments", {
        "patient_id": world["patient"]["patient_id"], "clinician_id": world["clinician"]["clinician_id"],
        "service": "90834", "start": START, "modality": "phone", "patient_jurisdiction": "US-NY"}).json
    clock.now = datetime(2026, 3, 3, 14, 55, tzinfo=UTC)
    r = join(api.as_role("patient", patient_id=world["patient"]["patient_id"]), a["appointment_id"])
    assert r.status == 409 and r.json["code"] == "NOT_A_VIDEO_VISIT"


def test_a_meeting_chime_ended_is_recreated_on_the_next_join(visit, chime):
    first = join(visit["patient"], visit["id"]).json["meeting"]["MeetingId"]
    chime.backend.advance_clock(6 * 60)  # nobody connected for more than 5 minutes: Chime ends it
    second = join(visit["clinician"], visit["id"])
    assert second.status == 200
    assert second.json["meeting"]["MeetingId"] != first
    appointment = visit["clinician"].get(f"/v1/appointments/{visit['id']}")
    assert appointment.status == 200


def test_end_deletes_the_meeting_and_a_later_join_makes_a_new_one(visit):
    first = join(visit["clinician"], visit["id"]).json["meeting"]["MeetingId"]
    assert visit["clinician"].post(f"/v1/appointments/{visit['id']}/video/end").status == 200
    again = join(visit["clinician"], visit["id"]).json["meeting"]["MeetingId"]
    assert again != first


def test_throttling_is_retried_then_the_join_succeeds(visit, chime):
    chime.backend.inject_fault("CreateMeeting", "ThrottlingException", count=2)
    r = join(visit["patient"], visit["id"])
    assert r.status == 200 and r.json["meeting"]["MeetingId"]


def test_when_video_cannot_start_the_answer_offers_phone_and_the_switch_bills_93(visit, chime):
    chime.backend.inject_fault("CreateMeeting", "ServiceUnavailableException", count=50)
    r = join(visit["patient"], visit["id"])
    assert r.status == 503 and r.json["code"] == "VIDEO_UNAVAILABLE"
    assert r.json["fallback"]["modality"] == "phone"
    switched = visit["patient"].post(f"/v1/appointments/{visit['id']}/switch-modality",
                                     {"modality": "phone", "reason": "video_unavailable"})
    assert switched.status == 200
    assert switched.json["billing"]["modifiers"] == ["93"] and switched.json["modality"] == "phone"
    assert datetime.fromisoformat(switched.json["start"].replace("Z", "+00:00")) - timedelta(0) == datetime(
        2026, 3, 3, 15, 0, tzinfo=UTC)
