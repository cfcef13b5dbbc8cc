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


def test_end_deletes_the_meeting_and_a_later_join_is_visit_ended(visit, chime, services, tenant):
    first = join(visit["clinician"], visit["id"]).json["meeting"]["MeetingId"]
    generation = stored_video(services, tenant, visit["id"])["generation"]
    assert visit["clinician"].post(f"/v1/appointments/{visit['id']}/video/end").status == 200
    assert first not in live_meetings(chime)
    for who in ("patient", "clinician"):
        again = join(visit[who], visit["id"])
        assert again.status == 409 and again.json["code"] == "VISIT_ENDED", again.json
    video = stored_video(services, tenant, visit["id"])
    assert video["meeting_id"] is None and video["generation"] == generation + 1 and video["ended_reason"] == "ended"


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


# --- helpers ---------------------------------------------------------------------------------

def stored_video(services, tenant, appointment_id):
    return services.booking.appointments.get(tenant, appointment_id).video


def live_meetings(chime):
    return {m["MeetingId"]: m for m in chime.backend.snapshot()["meetings"]}


def rebuild(settings, clock, **changes):
    """The app's services on other settings (same moto tables, same emulator)."""
    from dataclasses import replace

    from chalicelib import bootstrap

    video = replace(settings.video, **changes.pop("video", {}))
    built = bootstrap.build(replace(settings, video=video, **changes), clock)
    bootstrap.install(built)
    return built


def admitted_visit(visit):
    join(visit["patient"], visit["id"])
    join(visit["clinician"], visit["id"])
    r = visit["clinician"].post(f"/v1/appointments/{visit['id']}/video/admit")
    assert r.status == 200 and r.json["status"] == "in_progress", r.json


# --- the meeting ends with the visit -----------------------------------------------------------

@pytest.mark.parametrize("door", ["complete", "cancel", "no-show", "switch-modality"])
def test_every_end_of_the_visit_deletes_the_meeting_and_refuses_later_joins(visit, chime, services, tenant, door):
    # A no-show is a visit the patient never joined: only the clinician waited in the meeting.
    first = visit["clinician"] if door == "no-show" else visit["patient"]
    meeting = join(first, visit["id"]).json["meeting"]["MeetingId"]
    if door == "complete":
        admitted_visit(visit)
    if door == "switch-modality":
        body = {"modality": "phone", "reason": "patient has no camera"}
        r = visit["clinician"].post(f"/v1/appointments/{visit['id']}/switch-modality", body)
    elif door == "cancel":
        r = visit["clinician"].post(f"/v1/appointments/{visit['id']}/cancel", {"reason": "patient request"})
    else:
        r = visit["clinician"].post(f"/v1/appointments/{visit['id']}/{door}")
    assert r.status == 200, r.json
    assert meeting not in live_meetings(chime)
    assert meeting in str(chime.backend.snapshot()["ended"])
    after = join(visit["patient"], visit["id"])
    assert after.status == 409 and after.json["code"] == "VISIT_ENDED", after.json
    video = stored_video(services, tenant, visit["id"])
    assert video["meeting_id"] is None and video["attendees"] == {} and video["ended_at"]


def test_a_visit_switched_back_to_video_gets_a_new_meeting_with_a_new_token(visit, chime, services, tenant):
    first = join(visit["patient"], visit["id"]).json["meeting"]["MeetingId"]
    assert visit["clinician"].post(f"/v1/appointments/{visit['id']}/switch-modality",
                                   {"modality": "phone", "reason": "bandwidth"}).status == 200
    assert visit["clinician"].post(f"/v1/appointments/{visit['id']}/switch-modality",
                                   {"modality": "video", "reason": "bandwidth back"}).status == 200
    again = join(visit["patient"], visit["id"])
    assert again.status == 200, again.json
    assert again.json["meeting"]["MeetingId"] != first
    assert stored_video(services, tenant, visit["id"])["generation"] == 1


# --- one deadline, no 500s ---------------------------------------------------------------------

class _Timed:
    """RoomsByRegion that records when each Chime call began and ended (real time: timeouts are real)."""

    def __init__(self, inner):
        self.inner, self.default_region, self.calls = inner, inner.default_region, []

    def __call__(self, control_region=None):
        import time

        rooms, calls = self.inner(control_region), self.calls

        class Rooms:
            def __getattr__(self, name):
                method = getattr(rooms, name)

                def timed(*args, **kwargs):
                    began = time.monotonic()
                    try:
                        return method(*args, **kwargs)
                    finally:
                        calls.append((began, time.monotonic()))

                return timed

        return Rooms()

    def span(self):
        return max(end for _, end in self.calls) - min(began for began, _ in self.calls)


# Without the deadline, 20 attempts per call would keep these joins busy for 10 s and more.
IMPATIENT = {"join_deadline_seconds": 1.5, "read_timeout_seconds": 0.25, "connect_timeout_seconds": 0.1,
             "max_attempts": 20}


def test_a_join_answers_503_with_phone_fallback_within_its_deadline_when_chime_hangs(visit, chime, settings, clock):
    built = rebuild(settings, clock, video=IMPATIENT)
    timed = built.video.rooms = _Timed(built.video.rooms)
    chime.backend.inject_fault("*", None, count=1000, delay_seconds=0.4)  # every call outlives the read timeout
    r = join(visit["patient"], visit["id"])
    assert r.status == 503 and r.json["code"] == "VIDEO_UNAVAILABLE", r.json
    assert r.json["fallback"]["modality"] == "phone" and r.headers["Retry-After"] == "5"
    # All Chime work, retries and backoff included, fits the deadline (no attempt starts that could not end)
    assert timed.span() <= 1.5 + 0.5, timed.span()


def test_slow_503s_with_retry_after_do_not_stretch_the_join_past_its_deadline(visit, chime, settings, clock):
    built = rebuild(settings, clock, video=IMPATIENT)
    timed = built.video.rooms = _Timed(built.video.rooms)
    chime.backend.inject_fault("CreateMeeting", "ServiceUnavailableException", count=1000, delay_seconds=0.2,
                               retry_after=2)
    r = join(visit["patient"], visit["id"])
    assert r.status == 503 and r.json["code"] == "VIDEO_UNAVAILABLE"
    assert timed.span() <= 1.5 + 0.5, timed.span()


@pytest.mark.parametrize("error", ["BadRequestException", "ForbiddenException", "UnauthorizedException"])
def test_a_chime_refusal_is_503_with_the_phone_fallback_never_500(visit, chime, error):
    chime.backend.inject_fault("CreateAttendee", error, count=1)
    r = join(visit["patient"], visit["id"])
    assert r.status == 503 and r.json["code"] == "VIDEO_UNAVAILABLE", r.json
    assert r.json["fallback"]["action"].endswith("/switch-modality")


def test_a_meeting_that_ends_between_calls_is_recreated_once(visit, chime, services, tenant):
    first = join(visit["clinician"], visit["id"]).json["meeting"]["MeetingId"]
    chime.backend.inject_fault("CreateAttendee", "NotFoundException", count=1)  # ended after GetMeeting
    r = join(visit["patient"], visit["id"])
    assert r.status == 200, r.json
    assert r.json["meeting"]["MeetingId"] != first
    video = stored_video(services, tenant, visit["id"])
    assert video["meeting_id"] == r.json["meeting"]["MeetingId"] and video["generation"] == 1
    assert set(video["attendees"]) == {"patient"}  # the clinician's attendee died with the old meeting


def test_a_meeting_that_keeps_ending_is_not_recreated_twice(visit, chime):
    join(visit["clinician"], visit["id"])
    chime.backend.inject_fault("CreateAttendee", "NotFoundException", count=2)
    r = join(visit["patient"], visit["id"])
    assert r.status == 503 and r.json["code"] == "VIDEO_UNAVAILABLE"


# --- meeting state: versioned, routed to its control region --------------------------------------

class _Interleave:
    """RoomsByRegion that runs `between` once, right after one add_attendee: a stale invocation."""

    def __init__(self, inner, between):
        self.inner, self.between, self.default_region = inner, between, inner.default_region

    def __call__(self, control_region=None):
        rooms = self.inner(control_region)
        outer = self

        class Rooms:
            def __getattr__(self, name):
                return getattr(rooms, name)

            def add_attendee(self, *args, **kwargs):
                attendee = rooms.add_attendee(*args, **kwargs)
                if outer.between is not None:
                    step, outer.between = outer.between, None
                    step()
                return attendee

        return Rooms()


def test_a_stale_join_cannot_split_patient_and_clinician(visit, chime, services, tenant):
    first = join(visit["clinician"], visit["id"]).json["meeting"]["MeetingId"]

    def meanwhile():
        # While the patient's join holds the old meeting, Chime ends it and the clinician rejoins a new one.
        chime.backend.handle("DeleteMeeting", "us-east-1", {"MeetingId": first})
        services.video.rooms = real
        joined = join(visit["clinician"], visit["id"])
        assert joined.status == 200 and joined.json["meeting"]["MeetingId"] != first
        services.video.rooms = stale

    real = services.video.rooms
    stale = _Interleave(real, meanwhile)
    services.video.rooms = stale
    patient = join(visit["patient"], visit["id"])
    clinician = join(visit["clinician"], visit["id"])
    assert patient.status == 200, patient.json
    assert patient.json["meeting"]["MeetingId"] == clinician.json["meeting"]["MeetingId"] != first
    video = stored_video(services, tenant, visit["id"])
    assert video["meeting_id"] == clinician.json["meeting"]["MeetingId"] and set(video["attendees"]) == {
        "patient", "clinician"}


def test_calls_about_a_meeting_go_to_the_control_region_stored_with_it(visit, chime, settings, clock, services,
                                                                       tenant):
    first = join(visit["patient"], visit["id"]).json["meeting"]["MeetingId"]
    assert stored_video(services, tenant, visit["id"])["control_region"] == "us-east-1"
    rebuild(settings, clock, chime_control_region="us-west-2")  # e.g. new meetings fail over to Oregon
    again = join(visit["clinician"], visit["id"])
    assert again.status == 200 and again.json["meeting"]["MeetingId"] == first
    assert live_meetings(chime)[first]["ControlRegion"] == "us-east-1"
    admit = visit["clinician"].post(f"/v1/appointments/{visit['id']}/video/admit")
    assert admit.status == 200, admit.json


# --- the waiting room ----------------------------------------------------------------------------

def test_the_waiting_patient_receives_no_media_until_admitted_and_admission_is_audited(visit, chime, api, world):
    p = join(visit["patient"], visit["id"]).json
    join(visit["clinician"], visit["id"])
    meeting, attendee = p["meeting"]["MeetingId"], p["attendee"]["AttendeeId"]
    assert p["waiting_room"] is True
    assert chime.backend.receives(meeting, attendee) == frozenset()
    assert visit["clinician"].post(f"/v1/appointments/{visit['id']}/video/admit").status == 200
    assert chime.backend.receives(meeting, attendee) == {"Audio", "Video", "Content"}
    audit = api.as_role("admin").get(f"/v1/audit?patient_id={world['patient']['patient_id']}").json["items"]
    admits = [e for e in audit if e["action"] == "video.admit"]
    assert len(admits) == 1 and admits[0]["actor"]["role"] == "clinician" and admits[0]["outcome"] == "success"


# --- attendance from Chime's meeting events --------------------------------------------------------

def deliver_events(api, chime, meeting_id):
    """What EventBridge does in AWS (and local/run.py locally): each event of the meeting to the handler."""
    outcomes = []
    for event in [e for e in chime.backend.events if e["detail"]["meetingId"] == meeting_id]:
        outcomes.append(api.client.lambda_.invoke("chime_meeting_events", event).payload["outcome"])
    return outcomes


def attend_together(visit, chime, minutes):
    p = join(visit["patient"], visit["id"]).json
    c = join(visit["clinician"], visit["id"]).json
    assert visit["clinician"].post(f"/v1/appointments/{visit['id']}/video/admit").status == 200
    meeting = p["meeting"]["MeetingId"]
    chime.backend.connect_attendee(meeting, p["attendee"]["AttendeeId"])
    chime.backend.connect_attendee(meeting, c["attendee"]["AttendeeId"])
    chime.backend.advance_clock(minutes * 60)
    chime.backend.drop_attendee(meeting, p["attendee"]["AttendeeId"])
    chime.backend.disconnect_attendee(meeting, c["attendee"]["AttendeeId"])
    return meeting, p["attendee"]["AttendeeId"]


def test_attendance_shows_who_joined_and_left_and_completion_checks_the_time_band(visit, chime, api, scheduler):
    meeting, patient_attendee = attend_together(visit, chime, 41)
    outcomes = deliver_events(api, chime, meeting)
    assert outcomes.count("stored") == 4 and set(outcomes) <= {"stored", "ignored"}
    assert set(deliver_events(api, chime, meeting)) <= {"duplicate", "ignored"}  # EventBridge redelivers

    r = visit["clinician"].get(f"/v1/appointments/{visit['id']}/video/attendance")
    assert r.status == 200, r.json
    seen = [(i["role"], i["event"]) for i in r.json["items"]]
    assert seen[:2] in ([("patient", "joined"), ("clinician", "joined")], [("clinician", "joined"),
                                                                           ("patient", "joined")])
    assert sorted(seen[2:]) == [("clinician", "left"), ("patient", "dropped")]  # same instant: either order
    assert [i["attendee_id"] for i in r.json["items"] if i["role"] == "patient"] == [patient_attendee] * 2
    assert r.json["connected_minutes"] == 41.0 and r.json["time_check"]["status"] == "ok"
    assert scheduler.get(f"/v1/appointments/{visit['id']}/video/attendance").status == 200
    assert visit["patient"].get(f"/v1/appointments/{visit['id']}/video/attendance").status == 403

    done = visit["clinician"].post(f"/v1/appointments/{visit['id']}/complete")
    assert done.status == 200, done.json
    assert done.json["billing"]["time_check"] == {
        "status": "ok", "service": "90834", "connected_minutes": 41.0,
        "band": {"min_minutes": 38, "max_minutes": 52}, "supported_service": "90834"}


def test_a_visit_too_short_for_its_code_is_flagged_on_completion_not_billed_as_booked(visit, chime, api):
    meeting, _ = attend_together(visit, chime, 20)
    deliver_events(api, chime, meeting)
    done = visit["clinician"].post(f"/v1/appointments/{visit['id']}/complete").json
    check = done["billing"]["time_check"]
    assert check["status"] == "mismatch" and check["connected_minutes"] == 20.0
    assert check["supported_service"] == "90832" and check["band"] == {"min_minutes": 38, "max_minutes": 52}


def test_a_completed_video_visit_without_any_attendance_says_so(visit, chime):
    join(visit["patient"], visit["id"])
    join(visit["clinician"], visit["id"])
    visit["clinician"].post(f"/v1/appointments/{visit['id']}/video/admit")
    done = visit["clinician"].post(f"/v1/appointments/{visit['id']}/complete").json
    assert done["billing"]["time_check"]["status"] == "no_attendance"


def test_events_of_meetings_this_stage_did_not_make_are_ignored(api):
    from local.chime_emulator.backend import ChimeBackend

    stranger = {"version": "0", "id": "x", "detail-type": "Chime Meeting State Change", "source": "aws.chime",
                "account": ChimeBackend().account_id, "time": "2026-03-03T15:00:00Z", "region": "us-east-1",
                "resources": [], "detail": {"version": "0", "eventType": "chime:AttendeeJoined",
                                            "timestamp": 1, "meetingId": "00000000-0000-0000-0000-000000000000",
                                            "attendeeId": "a", "externalUserId": "patient-x"}}
    assert api.client.lambda_.invoke("chime_meeting_events", stranger).payload == {"outcome": "unknown_meeting"}


# --- more than two people: invited guests with single-use links ------------------------------------

def invite(visit, role):
    return visit["clinician"].post(f"/v1/appointments/{visit['id']}/video/invitations", {"role": role})


def join_link(api, token):
    return api.call("POST", "/v1/video/invitations/join", {"token": token})


def test_an_interpreter_joins_once_with_the_link_waits_with_the_patient_and_is_admitted_with_them(
        visit, api, chime, world):
    p = join(visit["patient"], visit["id"]).json
    join(visit["clinician"], visit["id"])
    invited = invite(visit, "interpreter")
    assert invited.status == 201, invited.json
    assert invited.json["role"] == "interpreter" and invited.json["join"]["path"] == "/v1/video/invitations/join"
    assert invited.json["expires_at"] == "2026-03-03T15:45:00Z"  # the visit's end

    guest = join_link(api, invited.json["token"])
    assert guest.status == 200, guest.json
    assert guest.json["role"] == "interpreter" and guest.json["waiting_room"] is True
    assert guest.json["meeting"]["MeetingId"] == p["meeting"]["MeetingId"]
    assert guest.json["attendee"]["ExternalUserId"].startswith("interpreter-")
    meeting, interpreter = p["meeting"]["MeetingId"], guest.json["attendee"]["AttendeeId"]
    assert chime.backend.receives(meeting, interpreter) == frozenset()

    again = join_link(api, invited.json["token"])
    assert again.status == 404 and again.json["code"] == "NOT_FOUND"  # single use

    assert visit["clinician"].post(f"/v1/appointments/{visit['id']}/video/admit").status == 200
    assert chime.backend.receives(meeting, interpreter) == {"Audio", "Video", "Content"}
    audit = api.as_role("admin").get(f"/v1/audit?patient_id={world['patient']['patient_id']}").json["items"]
    actions = [e["action"] for e in audit]
    assert "video.invite.interpreter" in actions and "video.guest_join.interpreter" in actions


def test_a_supervising_clinician_is_not_held_in_the_waiting_room(visit, api, chime):
    join(visit["patient"], visit["id"])
    token = invite(visit, "supervisor").json["token"]
    guest = join_link(api, token)
    assert guest.status == 200 and guest.json["waiting_room"] is False
    assert chime.backend.receives(guest.json["meeting"]["MeetingId"], guest.json["attendee"]["AttendeeId"]) == {
        "Audio", "Video", "Content"}


def test_a_guardian_is_invited_only_for_a_minor(visit, world, api, scheduler, clock):
    adult = invite(visit, "guardian")
    assert adult.status == 422 and adult.json["code"] == "GUARDIAN_NOT_FOR_ADULT"
    from tests.support import patient_body

    minor = scheduler.post("/v1/patients", patient_body(name="Kid Example", birth_date="2012-06-01")).json
    a = scheduler.post("/v1/appointments", {
        "patient_id": minor["patient_id"], "clinician_id": world["clinician"]["clinician_id"], "service": "90834",
        "start": "2026-03-04T10:00:00-05:00", "modality": "video", "patient_jurisdiction": "US-NY"}).json
    r = visit["clinician"].post(f"/v1/appointments/{a['appointment_id']}/video/invitations", {"role": "guardian"})
    assert r.status == 201 and r.json["role"] == "guardian"


@pytest.mark.parametrize("tamper", ["secret", "locator", "garbage"])
def test_a_forged_or_foreign_link_is_404(visit, api, tamper):
    token = invite(visit, "interpreter").json["token"]
    locator, _, secret = token.rpartition(".")
    forged = {"secret": f"{locator}.{secret[:-2]}xx", "locator": f"{locator[:-3]}abc.{secret}",
              "garbage": "x" * 40}[tamper]
    r = join_link(api, forged)
    assert r.status == 404 and r.json["code"] == "NOT_FOUND"
    assert token not in r.raw.decode()


def test_only_the_visits_clinician_invites(visit, api, world):
    r = visit["patient"].post(f"/v1/appointments/{visit['id']}/video/invitations", {"role": "interpreter"})
    assert r.status == 403
    other = api.as_role("clinician", clinician_id="someone-else").post(
        f"/v1/appointments/{visit['id']}/video/invitations", {"role": "interpreter"})
    assert other.status == 404
    bad = invite(visit, "cousin")
    assert bad.status == 400 and bad.json["errors"][0]["field"] == "role"


def test_a_link_after_the_visit_ended_cannot_join(visit, api):
    token = invite(visit, "interpreter").json["token"]
    visit["clinician"].post(f"/v1/appointments/{visit['id']}/video/end")
    r = join_link(api, token)
    assert r.status == 409 and r.json["code"] == "VISIT_ENDED"
