"""Emulator fidelity beyond the model: same-token conflicts, the account's meeting quota, media
partitions, and the meeting events EventBridge delivers; and the adapter's 409 path end to end."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.adapters.chime import ChimeVideoRooms, RetryPolicy
from chalicelib.domain.errors import VideoUnavailable
from local.chime_emulator import ChimeBackend, ManualClock, start_emulator
from tests.chime.conftest import ClientFactory, chime_client

pytestmark = pytest.mark.e2e


def _create(chime: Any, token: str, region: str = "us-east-1") -> dict[str, Any]:
    made = chime.create_meeting(ClientRequestToken=token, MediaRegion=region, ExternalMeetingId="mtg-1")
    return dict(made["Meeting"])


@pytest.fixture
def slow_emulator(clock: ManualClock) -> Any:
    backend = ChimeBackend(clock, create_latency_seconds=0.3)
    server, _ = start_emulator(backend=backend)
    with server:
        yield server


def test_simultaneous_creates_with_one_token_answer_conflict_to_the_second(slow_emulator: Any) -> None:
    chime = chime_client(slow_emulator.base_url)
    outcomes: list[str] = []

    def create() -> None:
        try:
            outcomes.append(_create(chime, "same-token")["MeetingId"])
        except ClientError as error:
            outcomes.append(f'{error.response["Error"]["Code"]}/{error.response["ResponseMetadata"]["HTTPStatusCode"]}')

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "ConflictException/409" in outcomes and len(outcomes) == 2
    # once created, the token answers at once with that meeting
    assert _create(chime, "same-token")["MeetingId"] in outcomes


def test_the_adapter_retries_a_conflict_and_both_joiners_get_one_meeting(slow_emulator: Any) -> None:
    """The 409 path end to end: boto3 -> HTTP 409 ConflictException -> retry -> the same meeting."""
    found: list[str] = []
    sleeps: list[float] = []

    def join() -> None:
        rooms = ChimeVideoRooms(chime_client(slow_emulator.base_url),
                                retry=RetryPolicy(max_attempts=4), sleep=lambda s: (sleeps.append(s), _pause(0.4))[0],
                                random=lambda: 0.5)
        found.append(rooms.find_or_create_meeting("appt-9", 0, "mtg-9", "us-east-1").meeting_id)

    threads = [threading.Thread(target=join) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 2 and found[0] == found[1]
    assert len(sleeps) >= 1  # one of them met the conflict and retried
    assert len(slow_emulator.backend.snapshot()["meetings"]) == 1


def _pause(seconds: float) -> None:
    threading.Event().wait(seconds)  # the other create must finish before the retry: real time passes


def test_the_account_quota_of_live_meetings_answers_limit_exceeded(clock: ManualClock) -> None:
    backend = ChimeBackend(clock, max_live_meetings=3)
    server, _ = start_emulator(backend=backend)
    with server:
        chime = chime_client(server.base_url)
        west = chime_client(server.base_url, region="us-west-2")
        first = _create(chime, "t-1")
        _create(chime, "t-2")
        _create(west, "t-3")  # counted across Regions
        with pytest.raises(ClientError) as raised:
            _create(chime, "t-4")
        assert raised.value.response["Error"]["Code"] == "LimitExceededException"
        rooms = ChimeVideoRooms(chime, sleep=lambda _: None)
        with pytest.raises(VideoUnavailable):  # the API's phone fallback, never a retry storm
            rooms.find_or_create_meeting("appt-5", 0, "mtg-5", "us-east-1")
        chime.delete_meeting(MeetingId=first["MeetingId"])
        assert _create(chime, "t-4")["MeetingId"]


def test_default_quota_is_the_documented_250() -> None:
    assert ChimeBackend().max_live_meetings == 250


@pytest.mark.parametrize(("control", "media"), [("us-east-1", "us-gov-west-1"), ("us-gov-west-1", "us-east-1")])
def test_media_stays_in_the_control_regions_partition(client_for: ClientFactory, control: str, media: str) -> None:
    chime = client_for(region=control)
    with pytest.raises(ClientError) as raised:
        _create(chime, "t-part", region=media)
    assert raised.value.response["Error"]["Code"] == "BadRequestException"
    assert "partition" in raised.value.response["Error"]["Message"]


def test_meeting_events_are_emitted_as_eventbridge_delivers_them(emulator: Any, chime: Any, clock: ManualClock) -> None:
    received: list[dict[str, Any]] = []
    emulator.backend.subscribe(received.append)
    meeting = _create(chime, "t-events")
    attendee = chime.create_attendee(MeetingId=meeting["MeetingId"], ExternalUserId="patient-1")["Attendee"]
    emulator.backend.connect_attendee(meeting["MeetingId"], attendee["AttendeeId"])
    clock.advance(60)
    emulator.backend.drop_attendee(meeting["MeetingId"], attendee["AttendeeId"])
    emulator.backend.advance_clock(301)  # nobody connected for more than 5 minutes: Chime ends it

    types = [e["detail"]["eventType"] for e in received]
    assert types == ["chime:MeetingStarted", "chime:AttendeeAdded", "chime:AttendeeJoined",
                     "chime:AttendeeDropped", "chime:MeetingEnded"]
    joined = received[2]
    assert joined["source"] == "aws.chime" and joined["detail-type"] == "Chime Meeting State Change"
    assert joined["region"] == "us-east-1"
    assert joined["detail"]["attendeeId"] == attendee["AttendeeId"]
    assert joined["detail"]["externalUserId"] == "patient-1"
    assert received[3]["detail"]["timestamp"] - joined["detail"]["timestamp"] == 60_000
    assert list(emulator.backend.events)[-1]["detail"]["eventType"] == "chime:MeetingEnded"
