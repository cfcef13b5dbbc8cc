"""ChimeVideoRooms end to end against the emulator over 127.0.0.1."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from chalicelib.adapters.chime import (
    ChimeVideoRooms,
    MeetingInfo,
    MeetingNotFound,
    RetryPolicy,
    choose_media_region,
    create_video_rooms,
)
from chalicelib.domain.errors import VideoUnavailable
from local.chime_emulator import EmulatorServer, ManualClock

pytestmark = pytest.mark.e2e

FULL = {"Audio": "SendReceive", "Video": "SendReceive", "Content": "SendReceive"}
WAITING = {"Audio": "None", "Video": "None", "Content": "None"}


class Recorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def rooms(chime: Any, recorder: Recorder) -> ChimeVideoRooms:
    return ChimeVideoRooms(chime, retry=RetryPolicy(max_attempts=3), sleep=recorder.sleep, random=lambda: 0.5)


def open_room(rooms: ChimeVideoRooms, generation: int = 0) -> MeetingInfo:
    return rooms.find_or_create_meeting("appt-7f3c", generation, "mtg-7f3c", "ca-central-1")


def test_concurrent_joins_by_patient_and_clinician_converge_on_one_meeting(
    client_for: Any, emulator: EmulatorServer
) -> None:
    # GIVEN two joiners, each with its own client (as two Lambda invocations would have)
    barrier = threading.Barrier(2)
    results: dict[str, MeetingInfo] = {}

    def join(who: str) -> None:
        rooms = ChimeVideoRooms(client_for(), sleep=lambda _: None)
        barrier.wait()
        results[who] = open_room(rooms)

    clients = [threading.Thread(target=join, args=(who,)) for who in ("patient", "clinician")]
    # WHEN both find-or-create at the same moment
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(timeout=10)

    # THEN both got the one meeting, and the service holds exactly one
    assert results["patient"].meeting_id == results["clinician"].meeting_id
    assert [m["MeetingId"] for m in emulator.backend.snapshot()["meetings"]] == [results["patient"].meeting_id]


def test_waiting_room_then_admit_then_rejoin_keeps_the_admission(rooms: ChimeVideoRooms, chime: Any) -> None:
    meeting = open_room(rooms)
    clinician = rooms.add_attendee(meeting.meeting_id, "cl-1", "full")
    patient = rooms.add_attendee(meeting.meeting_id, "pt-1", "waiting")
    assert (clinician.capabilities, patient.capabilities) == (FULL, WAITING)
    assert patient.in_waiting_room

    rooms.admit(meeting.meeting_id, patient.attendee_id)
    rejoined = rooms.add_attendee(meeting.meeting_id, "pt-1", "waiting")

    stored = chime.get_attendee(MeetingId=meeting.meeting_id, AttendeeId=patient.attendee_id)["Attendee"]
    assert stored["Capabilities"] == FULL
    assert rejoined.attendee_id == patient.attendee_id
    assert rejoined.join_token == patient.join_token
    assert not rejoined.in_waiting_room


def test_meeting_is_recreated_with_the_next_generation_after_auto_end(
    rooms: ChimeVideoRooms, clock: ManualClock
) -> None:
    first = open_room(rooms, generation=0)
    assert rooms.get_meeting(first.meeting_id) == first

    clock.advance(5 * 60 + 1)  # nobody connected for more than 5 minutes

    assert rooms.get_meeting(first.meeting_id) is None
    with pytest.raises(MeetingNotFound):
        rooms.add_attendee(first.meeting_id, "pt-1", "waiting")
    second = open_room(rooms, generation=1)
    assert second.meeting_id != first.meeting_id
    assert rooms.get_meeting(second.meeting_id) == second
    assert open_room(rooms, generation=1).meeting_id == second.meeting_id


def test_throttled_twice_then_success(rooms: ChimeVideoRooms, emulator: EmulatorServer, recorder: Recorder) -> None:
    emulator.backend.inject_fault("CreateMeeting", "ThrottlingException", count=2)

    meeting = open_room(rooms)

    assert emulator.backend.snapshot()["meetings"][0]["MeetingId"] == meeting.meeting_id
    assert recorder.sleeps == pytest.approx([0.1, 0.2])
    assert emulator.backend.faults() == []


def test_gives_up_after_max_attempts_and_makes_no_extra_calls(rooms: ChimeVideoRooms, emulator: EmulatorServer) -> None:
    emulator.backend.inject_fault("CreateMeeting", "ServiceUnavailableException", count=5)

    with pytest.raises(VideoUnavailable, match="ServiceUnavailableException"):
        open_room(rooms)

    assert emulator.backend.faults()[0]["count"] == 2  # 5 injected - 3 attempts
    assert emulator.backend.snapshot()["meetings"] == []


def test_read_timeout_is_retried_and_the_token_keeps_it_to_one_meeting(
    client_for: Any, emulator: EmulatorServer, recorder: Recorder
) -> None:
    # GIVEN the first CreateMeeting answers after the client has stopped waiting
    impatient = ChimeVideoRooms(
        client_for(read_timeout=0.3), retry=RetryPolicy(max_attempts=3), sleep=recorder.sleep, random=lambda: 0.5
    )
    emulator.backend.inject_fault("CreateMeeting", None, delay_seconds=1.0)

    meeting = impatient.find_or_create_meeting("appt-slow", 0, "mtg-slow", "us-east-1")

    assert recorder.sleeps[0] == pytest.approx(0.1)  # the timeout was classified as retryable
    # Let the late first request finish on the server: the shared token makes it the same meeting.
    time.sleep(1.0)
    assert [m["MeetingId"] for m in emulator.backend.snapshot()["meetings"]] == [meeting.meeting_id]


def test_not_found_for_admit_and_end_of_an_ended_meeting(rooms: ChimeVideoRooms) -> None:
    meeting = open_room(rooms)
    patient = rooms.add_attendee(meeting.meeting_id, "pt-1", "waiting")

    assert rooms.end_meeting(meeting.meeting_id) is True
    assert rooms.end_meeting(meeting.meeting_id) is False
    with pytest.raises(MeetingNotFound):
        rooms.admit(meeting.meeting_id, patient.attendee_id)


def test_factory_builds_a_client_for_the_control_region(emulator: EmulatorServer) -> None:
    rooms = create_video_rooms("ca-central-1", emulator.base_url, sleep=lambda _: None)
    media_region = choose_media_region("ca-central-1", "CA-ON")

    meeting = rooms.find_or_create_meeting("appt-ca", 0, "mtg-ca", media_region)

    assert meeting.media_region == "ca-central-1"
    assert meeting.meeting_arn is not None
    assert meeting.meeting_arn.startswith("arn:aws:chime:ca-central-1:")
    assert ".cc1.app.chime.aws" in meeting.media_placement["SignalingUrl"]
