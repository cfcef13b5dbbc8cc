"""Pins every request ChimeVideoRooms sends (botocore Stubber) and its retry/error mapping."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.loaders
import botocore.session
import pytest
from botocore.stub import Stubber

from chalicelib.adapters.chime import (
    CONTROL_REGIONS,
    FULL_CAPABILITIES,
    GOVCLOUD_MEDIA_REGIONS,
    MEDIA_REGIONS,
    WAITING_ROOM_CAPABILITIES,
    ChimeRequestRejected,
    ChimeVideoRooms,
    MeetingNotFound,
    RetryPolicy,
    choose_media_region,
    client_request_token,
    control_region_for,
    opaque_external_id,
)
from chalicelib.domain.errors import VideoUnavailable
from local.chime_emulator import load_spec

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
MEETING_ID = "1d6a2a1e-8c1f-4c47-9a57-5a1f3c0e6b11"
ATTENDEE_ID = "9b0c7c51-3a4e-4f0e-8a41-0d2f6f1b2c3d"
EXTERNAL_MEETING_ID = "mtg-3f9a0c"
PLACEMENT = {
    "AudioHostUrl": "abc.k.m1.cc1.app.chime.aws:3478",
    "SignalingUrl": f"wss://signal.m1.cc1.app.chime.aws/control/{MEETING_ID}",
}
MEETING = {
    "MeetingId": MEETING_ID,
    "MediaRegion": "ca-central-1",
    "MediaPlacement": PLACEMENT,
    "ExternalMeetingId": EXTERNAL_MEETING_ID,
    "MeetingArn": f"arn:aws:chime:us-east-1:123456789012:meeting/{MEETING_ID}",
}


class Recorder:
    """Stands in for time.sleep and random.random: records delays, returns a fixed jitter."""

    def __init__(self, jitter: float = 0.5) -> None:
        self.sleeps: list[float] = []
        self.jitter = jitter

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def random(self) -> float:
        return self.jitter


@pytest.fixture(scope="module")
def botocore_session() -> botocore.session.Session:
    """Shared so the service model is parsed once, not once per test."""
    return botocore.session.get_session()


@pytest.fixture
def client(botocore_session: botocore.session.Session) -> Any:
    return botocore_session.create_client(
        "chime-sdk-meetings", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


@pytest.fixture
def stub(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def rooms(client: Any, recorder: Recorder) -> ChimeVideoRooms:
    policy = RetryPolicy(max_attempts=3, base_seconds=0.2, cap_seconds=2.0)
    return ChimeVideoRooms(client, retry=policy, sleep=recorder.sleep, random=recorder.random)


def create_params(token: str = "appt-token-1", generation: int = 0) -> dict[str, str]:
    return {
        "ClientRequestToken": client_request_token(token, generation),
        "ExternalMeetingId": EXTERNAL_MEETING_ID,
        "MediaRegion": "ca-central-1",
    }


def test_find_or_create_sends_the_derived_token_opaque_id_and_media_region(
    rooms: ChimeVideoRooms, stub: Stubber
) -> None:
    # GIVEN the service answers CreateMeeting for exactly these parameters
    stub.add_response("create_meeting", {"Meeting": MEETING}, expected_params=create_params())
    # WHEN
    info = rooms.find_or_create_meeting("appt-token-1", 0, EXTERNAL_MEETING_ID, "ca-central-1")
    # THEN the answer is mapped field by field
    assert info.meeting_id == MEETING_ID
    assert info.media_region == "ca-central-1"
    assert info.external_meeting_id == EXTERNAL_MEETING_ID
    assert info.media_placement == PLACEMENT
    assert info.meeting_arn == MEETING["MeetingArn"]


def test_client_request_token_is_deterministic_per_generation_and_hides_the_appointment() -> None:
    token = client_request_token("appt-0042", 0)
    assert token == client_request_token("appt-0042", 0)
    assert token != client_request_token("appt-0042", 1)
    assert token != client_request_token("appt-0043", 0)
    assert re.fullmatch(r"[-_a-zA-Z0-9]{2,64}", token)
    assert re.fullmatch(r"[-_a-zA-Z0-9]{2,64}", client_request_token("a" * 500, 10**9))
    assert "appt-0042" not in token
    assert token.endswith("-g0")


def test_waiting_room_attendee_is_created_with_no_media_at_all(rooms: ChimeVideoRooms, stub: Stubber) -> None:
    attendee = {
        "AttendeeId": ATTENDEE_ID,
        "ExternalUserId": "pt-77",
        "JoinToken": "dG9rZW4=",
        "Capabilities": dict(WAITING_ROOM_CAPABILITIES),
    }
    stub.add_response(
        "create_attendee",
        {"Attendee": attendee},
        expected_params={
            "MeetingId": MEETING_ID,
            "ExternalUserId": "pt-77",
            "Capabilities": {"Audio": "None", "Video": "None", "Content": "None"},
        },
    )

    info = rooms.add_attendee(MEETING_ID, "pt-77", "waiting")

    assert (info.attendee_id, info.external_user_id, info.join_token) == (ATTENDEE_ID, "pt-77", "dG9rZW4=")
    # Receive-only would let the waiting patient hear and see the visit before admission.
    assert info.capabilities == {"Audio": "None", "Video": "None", "Content": "None"}
    assert info.in_waiting_room is True


def test_full_attendee_is_created_send_receive(rooms: ChimeVideoRooms, stub: Stubber) -> None:
    attendee = {
        "AttendeeId": ATTENDEE_ID,
        "ExternalUserId": "cl-12",
        "JoinToken": "dG9rZW4=",
        "Capabilities": dict(FULL_CAPABILITIES),
    }
    stub.add_response(
        "create_attendee",
        {"Attendee": attendee},
        expected_params={
            "MeetingId": MEETING_ID,
            "ExternalUserId": "cl-12",
            "Capabilities": {"Audio": "SendReceive", "Video": "SendReceive", "Content": "SendReceive"},
        },
    )

    info = rooms.add_attendee(MEETING_ID, "cl-12", "full")

    assert info.in_waiting_room is False
    assert info.capabilities["Video"] == "SendReceive"


def test_admit_updates_all_three_capabilities_to_send_receive(rooms: ChimeVideoRooms, stub: Stubber) -> None:
    stub.add_response(
        "update_attendee_capabilities",
        {"Attendee": {"AttendeeId": ATTENDEE_ID}},
        expected_params={
            "MeetingId": MEETING_ID,
            "AttendeeId": ATTENDEE_ID,
            "Capabilities": {"Audio": "SendReceive", "Video": "SendReceive", "Content": "SendReceive"},
        },
    )

    assert rooms.admit(MEETING_ID, ATTENDEE_ID) is None


def test_end_meeting_deletes_it_and_an_already_ended_meeting_is_fine(rooms: ChimeVideoRooms, stub: Stubber) -> None:
    stub.add_response("delete_meeting", {}, expected_params={"MeetingId": MEETING_ID})
    stub.add_client_error("delete_meeting", "NotFoundException", "gone", 404, expected_params={"MeetingId": MEETING_ID})

    assert rooms.end_meeting(MEETING_ID) is True
    assert rooms.end_meeting(MEETING_ID) is False


def test_get_meeting_maps_found_and_returns_none_when_not_found(rooms: ChimeVideoRooms, stub: Stubber) -> None:
    stub.add_response("get_meeting", {"Meeting": MEETING}, expected_params={"MeetingId": MEETING_ID})
    stub.add_client_error("get_meeting", "NotFoundException", "ended", 404, expected_params={"MeetingId": MEETING_ID})

    found = rooms.get_meeting(MEETING_ID)
    assert found is not None
    assert found.meeting_id == MEETING_ID
    assert rooms.get_meeting(MEETING_ID) is None


def test_throttling_is_retried_with_capped_full_jitter_backoff_then_succeeds(
    rooms: ChimeVideoRooms, stub: Stubber, recorder: Recorder
) -> None:
    stub.add_client_error("create_meeting", "ThrottlingException", "slow down", 429, expected_params=create_params())
    stub.add_client_error("create_meeting", "ThrottlingException", "slow down", 429, expected_params=create_params())
    stub.add_response("create_meeting", {"Meeting": MEETING}, expected_params=create_params())

    info = rooms.find_or_create_meeting("appt-token-1", 0, EXTERNAL_MEETING_ID, "ca-central-1")

    assert info.meeting_id == MEETING_ID
    # jitter 0.5 x min(cap 2.0, 0.2 * 2**n) for n = 0, 1
    assert recorder.sleeps == pytest.approx([0.1, 0.2])


def test_backoff_is_capped_at_max_delay() -> None:
    policy = RetryPolicy(base_seconds=0.2, cap_seconds=2.0)
    assert [policy.delay(n, 1.0) for n in range(1, 7)] == pytest.approx([0.2, 0.4, 0.8, 1.6, 2.0, 2.0])
    assert policy.delay(1, 1.0, retry_after=5.0) == pytest.approx(2.0)
    assert policy.delay(1, 1.0, retry_after=0.5) == pytest.approx(0.5)


def test_gives_up_after_max_attempts_with_video_unavailable(
    rooms: ChimeVideoRooms, stub: Stubber, recorder: Recorder
) -> None:
    for _ in range(3):
        stub.add_client_error("create_meeting", "ThrottlingException", "slow down", 429)

    with pytest.raises(VideoUnavailable) as raised:
        rooms.find_or_create_meeting("appt-token-1", 0, EXTERNAL_MEETING_ID, "ca-central-1")

    assert raised.value.code == "VIDEO_UNAVAILABLE"
    assert raised.value.status == 503
    assert "ThrottlingException" in raised.value.detail
    assert len(recorder.sleeps) == 2  # three attempts, two waits between them


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ServiceUnavailableException", 503),
        ("ServiceFailureException", 500),
        ("ThrottledClientException", 429),
        ("ConflictException", 409),
    ],
)
def test_transient_errors_are_retried(
    rooms: ChimeVideoRooms, stub: Stubber, recorder: Recorder, code: str, status: int
) -> None:
    stub.add_client_error("get_meeting", code, "transient", status)
    stub.add_response("get_meeting", {"Meeting": MEETING})

    found = rooms.get_meeting(MEETING_ID)

    assert found is not None
    assert found.meeting_id == MEETING_ID
    assert len(recorder.sleeps) == 1


def test_retry_after_from_service_unavailable_sets_the_wait(
    rooms: ChimeVideoRooms, stub: Stubber, recorder: Recorder
) -> None:
    stub.add_client_error(
        "get_meeting", "ServiceUnavailableException", "busy", 503, modeled_fields={"RetryAfterSeconds": "1"}
    )
    stub.add_response("get_meeting", {"Meeting": MEETING})

    rooms.get_meeting(MEETING_ID)

    assert recorder.sleeps == [1.0]


def test_bad_request_is_not_retried_and_names_operation_and_code(
    rooms: ChimeVideoRooms, stub: Stubber, recorder: Recorder
) -> None:
    stub.add_client_error("create_attendee", "BadRequestException", "invalid capabilities", 400)

    with pytest.raises(ChimeRequestRejected) as raised:
        rooms.add_attendee(MEETING_ID, "pt-77", "waiting")

    assert raised.value.code == "BadRequestException"
    assert raised.value.operation == "create_attendee"
    assert "invalid capabilities" in str(raised.value)
    assert recorder.sleeps == []


def test_attendee_for_an_ended_meeting_raises_meeting_not_found(rooms: ChimeVideoRooms, stub: Stubber) -> None:
    stub.add_client_error("create_attendee", "NotFoundException", "meeting ended", 404)

    with pytest.raises(MeetingNotFound, match="meeting ended"):
        rooms.add_attendee(MEETING_ID, "pt-77", "waiting")


def test_limit_exceeded_means_video_unavailable_without_retrying(
    rooms: ChimeVideoRooms, stub: Stubber, recorder: Recorder
) -> None:
    stub.add_client_error("create_meeting", "LimitExceededException", "too many meetings", 400)

    with pytest.raises(VideoUnavailable, match="LimitExceededException"):
        rooms.find_or_create_meeting("appt-token-1", 0, EXTERNAL_MEETING_ID, "ca-central-1")

    assert recorder.sleeps == []


@pytest.mark.parametrize("bad_id", ["J", "Jane Doe", "aws:meeting", "x" * 65, "name@example.com"])
def test_non_opaque_external_ids_are_refused_before_any_call(
    rooms: ChimeVideoRooms, stub: Stubber, bad_id: str
) -> None:
    # No response is stubbed: any request would fail the test with a StubResponseError.
    with pytest.raises(ValueError, match="opaque"):
        rooms.find_or_create_meeting("appt-token-1", 0, bad_id, "ca-central-1")
    with pytest.raises(ValueError, match="opaque"):
        rooms.add_attendee(MEETING_ID, bad_id, "full")


def test_unknown_media_region_or_profile_is_refused_before_any_call(rooms: ChimeVideoRooms, stub: Stubber) -> None:
    with pytest.raises(ValueError, match="media region"):
        rooms.find_or_create_meeting("appt-token-1", 0, EXTERNAL_MEETING_ID, "ca-west-1")
    with pytest.raises(ValueError, match="waiting"):
        rooms.add_attendee(MEETING_ID, "pt-77", "observer")  # type: ignore[arg-type]


def test_opaque_external_id_is_stable_and_valid() -> None:
    first = opaque_external_id("pt", "tenant-demo", "patient-123")
    assert first == opaque_external_id("pt", "tenant-demo", "patient-123")
    assert first != opaque_external_id("pt", "tenant-demo", "patient-124")
    assert re.fullmatch(r"pt-[0-9a-f]{40}", first)


@pytest.mark.parametrize(
    ("stack", "jurisdiction", "expected"),
    [
        ("ca-central-1", None, "ca-central-1"),
        ("ca-central-1", "CA-ON", "ca-central-1"),
        ("us-east-1", "CA-QC", "ca-central-1"),  # a Canadian patient keeps media in Canada
        ("ca-west-1", "CA-AB", "ca-central-1"),  # Calgary has no Chime media region
        ("ca-central-1", "US-NY", "us-east-1"),  # a US patient gets a us-* region
        ("ca-central-1", "US-WA", "us-west-2"),
        ("ca-central-1", "US-OH", "us-east-2"),
        ("us-west-2", "US-NY", "us-west-2"),  # the stack's region already satisfies the zone
        ("us-east-2", None, "us-east-2"),
        ("eu-west-1", "DE-BY", "eu-west-1"),  # EU patient, EU stack: stays in the stack
        ("us-east-1", "DE-BY", "eu-central-1"),
        ("us-east-1", "GB-ENG", "eu-west-2"),
        ("eu-central-2", None, "eu-central-1"),  # nearest media region to Zurich
        ("ap-southeast-4", None, "ap-southeast-2"),
        ("us-east-1", "MX-CMX", "us-east-1"),  # no media in Mexico: the stack's region
        ("us-gov-west-1", "CA-ON", "us-gov-west-1"),  # never leaves the GovCloud partition
        ("us-east-1", "", "us-east-1"),
    ],
)
def test_media_region_choice(stack: str, jurisdiction: str | None, expected: str) -> None:
    chosen = choose_media_region(stack, jurisdiction)
    assert chosen == expected
    assert chosen in MEDIA_REGIONS | GOVCLOUD_MEDIA_REGIONS


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        ("us-east-1", "us-east-1"),
        ("us-east-2", "us-east-1"),
        ("us-west-1", "us-west-2"),
        ("ca-central-1", "ca-central-1"),
        ("ca-west-1", "ca-central-1"),
        ("eu-west-1", "eu-central-1"),
        ("eu-west-2", "eu-west-2"),
        ("ap-southeast-1", "ap-southeast-1"),
        ("sa-east-1", "us-east-1"),
        ("us-gov-east-1", "us-gov-east-1"),
        ("xx-new-1", "us-east-1"),
    ],
)
def test_control_region_choice(stack: str, expected: str) -> None:
    assert control_region_for(stack) == expected
    assert control_region_for(stack) in CONTROL_REGIONS


def test_china_partition_has_no_chime() -> None:
    with pytest.raises(ValueError, match="China"):
        control_region_for("cn-north-1")


def test_media_regions_match_the_botocore_model() -> None:
    assert load_spec().media_regions == MEDIA_REGIONS | GOVCLOUD_MEDIA_REGIONS


def test_control_regions_match_botocore_endpoint_data() -> None:
    """Drift alarm: a newer botocore that adds or drops a meetings-chime endpoint fails here."""
    endpoints = botocore.loaders.create_loader().load_data("endpoints")
    served = {
        region
        for partition in endpoints["partitions"]
        for region, spec in partition["services"].get("meetings-chime", {}).get("endpoints", {}).items()
        if not spec.get("deprecated") and "fips" not in region
    }
    assert served == CONTROL_REGIONS
    assert {"us-east-1", "us-west-2", "eu-central-1", "ap-southeast-1"} <= CONTROL_REGIONS


def test_importing_the_adapter_does_not_import_boto3_or_botocore() -> None:
    code = "import sys, chalicelib.adapters.chime; print('boto3' in sys.modules, 'botocore' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split() == ["False", "False"]


# --- one deadline for a whole sequence of calls ----------------------------------------------------

class FakeTime:
    """A monotonic clock the recorder's sleeps (and each stubbed attempt) move forward."""

    def __init__(self, attempt_cost: float) -> None:
        self.now = 0.0
        self.attempt_cost = attempt_cost

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_calls_sharing_one_deadline_stop_before_it_and_never_sleep_past_it(client: Any, stub: Stubber) -> None:
    from chalicelib.adapters.deadline import Deadline

    fake = FakeTime(attempt_cost=4.0)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        fake.sleep(seconds)

    rooms = ChimeVideoRooms(
        client, retry=RetryPolicy(max_attempts=4), sleep=sleep, random=lambda: 1.0, attempt_seconds=4.0
    )
    deadline = Deadline(15.0, fake)
    original = client.get_meeting

    def slow_get_meeting(**params: Any) -> Any:
        fake.sleep(fake.attempt_cost)  # every attempt is a read timeout's worth of waiting
        return original(**params)

    client.get_meeting = slow_get_meeting
    for _ in range(2):
        stub.add_client_error("get_meeting", "ServiceUnavailableException", "busy", 503,
                              modeled_fields={"RetryAfterSeconds": "2"})

    with pytest.raises(VideoUnavailable, match="no time left"):
        rooms.get_meeting(MEETING_ID, deadline=deadline)

    # attempt (4 s), Retry-After 2 s, attempt (4 s): 5 s left cannot hold another wait and attempt
    assert slept == [2.0]
    assert fake.now == pytest.approx(10.0)


def test_an_attempt_that_cannot_finish_before_the_deadline_is_not_started(client: Any, stub: Stubber) -> None:
    from chalicelib.adapters.deadline import Deadline

    fake = FakeTime(attempt_cost=0.0)
    rooms = ChimeVideoRooms(client, sleep=fake.sleep, attempt_seconds=4.0)
    deadline = Deadline(15.0, fake)
    fake.now = 11.5  # 3.5 s left, one attempt may take 4

    with pytest.raises(VideoUnavailable, match="out of time before attempt 1"):
        rooms.find_or_create_meeting("appt-token-1", 0, EXTERNAL_MEETING_ID, "ca-central-1", deadline=deadline)
    # nothing was sent: the Stubber has no queued response and saw no call


def test_only_meeting_and_attendee_operations_can_be_called(rooms: ChimeVideoRooms) -> None:
    """Recording (media capture pipelines) and transcription have no code path (SECURITY.md)."""
    from chalicelib.adapters.chime import ALLOWED_OPERATIONS

    assert not any("transcription" in op or "capture" in op or "pipeline" in op for op in ALLOWED_OPERATIONS)
    with pytest.raises(PermissionError):
        rooms._call("start_meeting_transcription", None, MeetingId=MEETING_ID)


def test_a_retry_is_logged_by_the_shared_logger_under_its_phi_filter(
    rooms: ChimeVideoRooms, stub: Stubber, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from chalicelib.observability import SERVICE, PhiFilter

    stub.add_client_error("create_meeting", "ThrottlingException", "slow down", 429, expected_params=create_params())
    stub.add_response("create_meeting", {"Meeting": MEETING}, expected_params=create_params())

    with caplog.at_level(logging.INFO):
        rooms.find_or_create_meeting("appt-token-1", 0, EXTERNAL_MEETING_ID, "ca-central-1")

    [record] = [r for r in caplog.records if r.getMessage() == "chime call retried"]
    assert record.name == SERVICE
    assert any(isinstance(f, PhiFilter) for f in logging.getLogger(record.name).filters)
    assert (record.operation, record.error, record.attempt) == ("create_meeting", "ThrottlingException", 1)
