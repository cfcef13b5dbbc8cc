"""The emulator against a real boto3 client: every operation, model validation, lifecycle, faults."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from local.chime_emulator import ChimeBackend, EmulatorServer, ManualClock, load_spec, region_code, start_emulator

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
GUID = re.compile(r"[a-f0-9]{8}(?:-[a-f0-9]{4}){3}-[a-f0-9]{12}")
FULL = {"Audio": "SendReceive", "Video": "SendReceive", "Content": "SendReceive"}
WAITING = {"Audio": "Receive", "Video": "Receive", "Content": "Receive"}


def create_meeting(chime: Any, token: str = "token-1", region: str = "us-east-1", **extra: Any) -> dict[str, Any]:
    meeting: dict[str, Any] = chime.create_meeting(
        ClientRequestToken=token, MediaRegion=region, ExternalMeetingId="mtg-1", **extra
    )["Meeting"]
    return meeting


def admin(
    server: EmulatorServer, method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{server.base_url}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


# ---- CreateMeeting / GetMeeting / DeleteMeeting ---------------------------------------------------


def test_create_meeting_returns_a_meeting_shaped_like_the_real_one(chime: Any) -> None:
    meeting = create_meeting(chime, region="ca-central-1")

    meeting_id = meeting["MeetingId"]
    assert GUID.fullmatch(meeting_id)
    assert meeting["MediaRegion"] == "ca-central-1"
    assert meeting["ExternalMeetingId"] == "mtg-1"
    assert meeting["MeetingArn"] == f"arn:aws:chime:us-east-1:123456789012:meeting/{meeting_id}"
    placement = meeting["MediaPlacement"]
    assert re.fullmatch(r"[0-9a-f]{32}\.k\.m1\.cc1\.app\.chime\.aws:3478", placement["AudioHostUrl"])
    assert placement["AudioFallbackUrl"] == f"wss://haxrp.m1.cc1.app.chime.aws:443/calls/{meeting_id}"
    assert placement["SignalingUrl"] == f"wss://signal.m1.cc1.app.chime.aws/control/{meeting_id}"
    assert placement["TurnControlUrl"] == "https://ccp.cp.cc1.app.chime.aws/v2/turn_sessions"
    assert placement["ScreenDataUrl"].startswith("wss://bitpw.m1.cc1.app.chime.aws:443/")
    assert meeting_id in placement["ScreenViewingUrl"]
    assert meeting_id in placement["ScreenSharingUrl"]
    assert placement["EventIngestionUrl"] == "https://data.svc.cc1.ingest.chime.aws/v1/client-events"


def test_us_east_1_media_urls_use_ue1(chime: Any) -> None:
    meeting = create_meeting(chime, region="us-east-1")
    assert ".m1.ue1.app.chime.aws" in meeting["MediaPlacement"]["SignalingUrl"]


def test_region_codes_are_distinct_for_every_media_region() -> None:
    regions = load_spec().media_regions
    codes = {region_code(r) for r in regions}
    assert len(codes) == len(regions)
    assert region_code("us-east-1") == "ue1"
    assert region_code("ca-central-1") == "cc1"


def test_get_meeting_returns_what_create_returned(chime: Any) -> None:
    created = create_meeting(chime)
    fetched = chime.get_meeting(MeetingId=created["MeetingId"])["Meeting"]
    assert fetched == created


def test_same_client_request_token_returns_the_same_live_meeting(chime: Any) -> None:
    first = create_meeting(chime, token="appt-a-g0")
    again = create_meeting(chime, token="appt-a-g0")
    other = create_meeting(chime, token="appt-b-g0")

    assert again["MeetingId"] == first["MeetingId"]
    assert other["MeetingId"] != first["MeetingId"]


def test_a_token_is_free_again_once_its_meeting_has_ended(chime: Any) -> None:
    first = create_meeting(chime, token="appt-a-g0")
    chime.delete_meeting(MeetingId=first["MeetingId"])

    again = create_meeting(chime, token="appt-a-g0")

    assert again["MeetingId"] != first["MeetingId"]


def test_meetings_and_tokens_belong_to_the_control_region_that_created_them(client_for: Any) -> None:
    east = client_for(region="us-east-1")
    west = client_for(region="us-west-2")
    created = create_meeting(east, token="shared-token")

    with pytest.raises(west.exceptions.NotFoundException):
        west.get_meeting(MeetingId=created["MeetingId"])
    in_west = create_meeting(west, token="shared-token")

    assert in_west["MeetingId"] != created["MeetingId"]
    assert in_west["MeetingArn"].startswith("arn:aws:chime:us-west-2:")


def test_delete_meeting_then_every_call_on_it_is_not_found(chime: Any) -> None:
    meeting_id = create_meeting(chime)["MeetingId"]
    attendee_id = chime.create_attendee(MeetingId=meeting_id, ExternalUserId="pt-1")["Attendee"]["AttendeeId"]

    response = chime.delete_meeting(MeetingId=meeting_id)

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(chime.exceptions.NotFoundException):
        chime.get_meeting(MeetingId=meeting_id)
    with pytest.raises(chime.exceptions.NotFoundException):
        chime.get_attendee(MeetingId=meeting_id, AttendeeId=attendee_id)
    with pytest.raises(chime.exceptions.NotFoundException):
        chime.create_attendee(MeetingId=meeting_id, ExternalUserId="pt-2")
    with pytest.raises(chime.exceptions.NotFoundException):
        chime.delete_meeting(MeetingId=meeting_id)


def test_meeting_features_are_echoed_and_high_resolution_needs_a_small_attendee_cap(chime: Any) -> None:
    features = {"Video": {"MaxResolution": "FHD"}, "Attendee": {"MaxCount": 10}}
    meeting = create_meeting(chime, token="hd", MeetingFeatures=features)
    assert meeting["MeetingFeatures"] == features

    with pytest.raises(chime.exceptions.BadRequestException, match="MaxCount"):
        create_meeting(chime, token="fhd-no-cap", MeetingFeatures={"Video": {"MaxResolution": "FHD"}})


# ---- CreateMeetingWithAttendees ---------------------------------------------------------------


def test_create_meeting_with_attendees_reports_bad_items_in_errors(chime: Any) -> None:
    response = chime.create_meeting_with_attendees(
        ClientRequestToken="with-attendees",
        MediaRegion="us-west-2",
        ExternalMeetingId="mtg-2",
        Attendees=[
            {"ExternalUserId": "cl-1", "Capabilities": FULL},
            {"ExternalUserId": "pt-1", "Capabilities": WAITING},
            {"ExternalUserId": "aws:reserved"},
        ],
    )

    assert response["Meeting"]["MediaRegion"] == "us-west-2"
    assert [(a["ExternalUserId"], a["Capabilities"]) for a in response["Attendees"]] == [
        ("cl-1", FULL),
        ("pt-1", WAITING),
    ]
    assert [(e["ExternalUserId"], e["ErrorCode"]) for e in response["Errors"]] == [("aws:reserved", "BadRequest")]
    listed = chime.list_attendees(MeetingId=response["Meeting"]["MeetingId"])["Attendees"]
    assert {a["ExternalUserId"] for a in listed} == {"cl-1", "pt-1"}


def test_create_meeting_with_attendees_caps_the_list_at_the_models_maximum(raw_chime: Any) -> None:
    attendees = [{"ExternalUserId": f"user-{n}"} for n in range(21)]
    with pytest.raises(raw_chime.exceptions.BadRequestException) as raised:
        raw_chime.create_meeting_with_attendees(
            ClientRequestToken="too-many", MediaRegion="us-east-1", ExternalMeetingId="mtg-3", Attendees=attendees
        )
    assert "less than or equal to 20" in error_of(raised)[2]


# ---- attendees --------------------------------------------------------------------------------


def test_create_attendee_defaults_to_send_receive_and_has_an_opaque_join_token(chime: Any) -> None:
    meeting_id = create_meeting(chime)["MeetingId"]

    attendee = chime.create_attendee(MeetingId=meeting_id, ExternalUserId="cl-9")["Attendee"]

    assert attendee["ExternalUserId"] == "cl-9"
    assert GUID.fullmatch(attendee["AttendeeId"])
    assert attendee["Capabilities"] == FULL
    decoded = base64.b64decode(attendee["JoinToken"], validate=True).decode()
    assert decoded.startswith(attendee["AttendeeId"] + ":")


def test_create_attendee_is_idempotent_per_external_user_id(chime: Any) -> None:
    meeting_id = create_meeting(chime)["MeetingId"]
    first = chime.create_attendee(MeetingId=meeting_id, ExternalUserId="pt-1", Capabilities=WAITING)["Attendee"]

    again = chime.create_attendee(MeetingId=meeting_id, ExternalUserId="pt-1", Capabilities=FULL)["Attendee"]

    assert again == first  # same id, same token, original capabilities
    assert len(chime.list_attendees(MeetingId=meeting_id)["Attendees"]) == 1


def test_get_and_delete_attendee(chime: Any) -> None:
    meeting_id = create_meeting(chime)["MeetingId"]
    created = chime.create_attendee(MeetingId=meeting_id, ExternalUserId="pt-1")["Attendee"]

    fetched = chime.get_attendee(MeetingId=meeting_id, AttendeeId=created["AttendeeId"])["Attendee"]
    deleted = chime.delete_attendee(MeetingId=meeting_id, AttendeeId=created["AttendeeId"])
    recreated = chime.create_attendee(MeetingId=meeting_id, ExternalUserId="pt-1")["Attendee"]

    assert fetched == created
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert recreated["AttendeeId"] != created["AttendeeId"]
    with pytest.raises(chime.exceptions.NotFoundException):
        chime.get_attendee(MeetingId=meeting_id, AttendeeId=created["AttendeeId"])


def test_batch_create_attendee_returns_attendees_and_per_item_errors(chime: Any) -> None:
    meeting_id = create_meeting(chime)["MeetingId"]
    existing = chime.create_attendee(MeetingId=meeting_id, ExternalUserId="pt-1")["Attendee"]

    response = chime.batch_create_attendee(
        MeetingId=meeting_id,
        Attendees=[
            {"ExternalUserId": "pt-1"},
            {"ExternalUserId": "interp-1", "Capabilities": WAITING},
            {
                "ExternalUserId": "bad-caps",
                "Capabilities": {"Audio": "SendReceive", "Video": "None", "Content": "Receive"},
            },
            {"ExternalUserId": "aws:nope"},
        ],
    )

    assert [a["ExternalUserId"] for a in response["Attendees"]] == ["pt-1", "interp-1"]
    assert response["Attendees"][0]["AttendeeId"] == existing["AttendeeId"]
    errors = {e["ExternalUserId"]: (e["ErrorCode"], e["ErrorMessage"]) for e in response["Errors"]}
    assert errors["bad-caps"][0] == "BadRequest"
    assert "requires Video" in errors["bad-caps"][1]
    assert "reserved prefix" in errors["aws:nope"][1]


def test_batch_create_attendee_refuses_more_than_100(raw_chime: Any) -> None:
    meeting_id = create_meeting(raw_chime)["MeetingId"]
    with pytest.raises(raw_chime.exceptions.BadRequestException) as raised:
        raw_chime.batch_create_attendee(
            MeetingId=meeting_id, Attendees=[{"ExternalUserId": f"u-{n}"} for n in range(101)]
        )
    assert "less than or equal to 100" in error_of(raised)[2]


def test_attendee_cap_from_meeting_features_gives_limit_exceeded(chime: Any) -> None:
    meeting_id = create_meeting(chime, MeetingFeatures={"Attendee": {"MaxCount": 2}})["MeetingId"]
    chime.create_attendee(MeetingId=meeting_id, ExternalUserId="a-1")
    chime.create_attendee(MeetingId=meeting_id, ExternalUserId="a-2")

    with pytest.raises(chime.exceptions.LimitExceededException):
        chime.create_attendee(MeetingId=meeting_id, ExternalUserId="a-3")


def test_list_attendees_pages_with_next_token(chime: Any) -> None:
    meeting_id = create_meeting(chime)["MeetingId"]
    created = [
        chime.create_attendee(MeetingId=meeting_id, ExternalUserId=f"user-{n:02}")["Attendee"]["AttendeeId"]
        for n in range(25)
    ]

    pages: list[list[str]] = []
    kwargs: dict[str, Any] = {"MeetingId": meeting_id, "MaxResults": 10}
    while True:
        page = chime.list_attendees(**kwargs)
        pages.append([a["AttendeeId"] for a in page["Attendees"]])
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]

    assert [len(p) for p in pages] == [10, 10, 5]
    assert [a for p in pages for a in p] == created
    default_page = chime.list_attendees(MeetingId=meeting_id)
    assert len(default_page["Attendees"]) == 10
    assert "NextToken" in default_page


def test_list_attendees_rejects_a_foreign_next_token_and_out_of_range_page_size(chime: Any, raw_chime: Any) -> None:
    meeting_id = create_meeting(chime)["MeetingId"]
    with pytest.raises(chime.exceptions.BadRequestException, match="NextToken"):
        chime.list_attendees(MeetingId=meeting_id, NextToken="bm90LWEtdG9rZW4=")
    with pytest.raises(raw_chime.exceptions.BadRequestException) as raised:
        raw_chime.list_attendees(MeetingId=meeting_id, MaxResults=101)
    assert "maxResults" in error_of(raised)[2]


def test_update_attendee_capabilities_admits_and_persists(chime: Any) -> None:
    meeting_id = create_meeting(chime)["MeetingId"]
    attendee_id = chime.create_attendee(MeetingId=meeting_id, ExternalUserId="pt-1", Capabilities=WAITING)["Attendee"][
        "AttendeeId"
    ]

    updated = chime.update_attendee_capabilities(MeetingId=meeting_id, AttendeeId=attendee_id, Capabilities=FULL)[
        "Attendee"
    ]

    assert updated["Capabilities"] == FULL
    assert chime.get_attendee(MeetingId=meeting_id, AttendeeId=attendee_id)["Attendee"]["Capabilities"] == FULL


def test_capability_pairing_rules_from_the_model_documentation(chime: Any) -> None:
    meeting_id = create_meeting(chime)["MeetingId"]
    attendee_id = chime.create_attendee(MeetingId=meeting_id, ExternalUserId="pt-1")["Attendee"]["AttendeeId"]

    with pytest.raises(chime.exceptions.BadRequestException, match="requires Video"):
        chime.update_attendee_capabilities(
            MeetingId=meeting_id,
            AttendeeId=attendee_id,
            Capabilities={"Audio": "SendReceive", "Video": "Send", "Content": "Receive"},
        )
    # Video Receive with Content None is allowed.
    allowed = {"Audio": "SendReceive", "Video": "Receive", "Content": "None"}
    assert (
        chime.update_attendee_capabilities(MeetingId=meeting_id, AttendeeId=attendee_id, Capabilities=allowed)[
            "Attendee"
        ]["Capabilities"]
        == allowed
    )


def test_video_off_meeting_rejects_video_capabilities(chime: Any) -> None:
    meeting_id = create_meeting(
        chime, MeetingFeatures={"Video": {"MaxResolution": "None"}, "Content": {"MaxResolution": "None"}}
    )["MeetingId"]

    with pytest.raises(chime.exceptions.BadRequestException, match="Video capability must be None"):
        chime.create_attendee(MeetingId=meeting_id, ExternalUserId="pt-1", Capabilities=WAITING)
    audio_only = chime.create_attendee(MeetingId=meeting_id, ExternalUserId="pt-2")["Attendee"]
    assert audio_only["Capabilities"] == {"Audio": "SendReceive", "Video": "None", "Content": "None"}


# ---- server-side validation from the model ---------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"ExternalUserId": "x"},
            "'externalUserId' failed to satisfy constraint: Member must have length greater than or equal to 2",
        ),
        ({"ExternalUserId": "x" * 65}, "length less than or equal to 64"),
        (
            {"ExternalUserId": "pt-1", "Capabilities": {"Audio": "Loud", "Video": "None", "Content": "None"}},
            "'capabilities.audio' failed to satisfy constraint: Member must satisfy enum value set",
        ),
        ({"ExternalUserId": "pt-1", "Capabilities": {"Audio": "Receive"}}, "'capabilities.video' failed"),
        ({"ExternalUserId": 12345}, "Member must be a string"),
        ({}, "Value null at 'externalUserId'"),
    ],
)
def test_create_attendee_validation_is_done_by_the_emulator(
    raw_chime: Any, kwargs: dict[str, Any], expected: str
) -> None:
    meeting_id = create_meeting(raw_chime)["MeetingId"]
    with pytest.raises(raw_chime.exceptions.BadRequestException) as raised:
        raw_chime.create_attendee(MeetingId=meeting_id, **kwargs)
    code, status, message = error_of(raised)
    assert (code, status) == ("BadRequestException", 400)
    assert expected in message


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"ClientRequestToken": "t"}, "'clientRequestToken' failed to satisfy constraint: Member must have length"),
        ({"ClientRequestToken": "has spaces!"}, "regular expression pattern: [-_a-zA-Z0-9]*"),
        (
            {"MediaRegion": "mars-east-1"},
            "'mediaRegion' failed to satisfy constraint: Member must be one of the documented values",
        ),
        ({"ExternalMeetingId": "AWS:mine"}, "reserved prefix 'aws:'"),
        (
            {"ExternalMeetingId": "semi;colon"},
            "'externalMeetingId' failed to satisfy constraint: Member must satisfy regular expression pattern",
        ),
        ({"MeetingFeatures": {"Attendee": {"MaxCount": 251}}}, "value less than or equal to 250"),
        (
            {"TenantIds": []},
            "'tenantIds' failed to satisfy constraint: Member must have size greater than or equal to 1",
        ),
    ],
)
def test_create_meeting_validation_is_done_by_the_emulator(
    raw_chime: Any, kwargs: dict[str, Any], expected: str
) -> None:
    params = {"ClientRequestToken": "ok-token", "MediaRegion": "us-east-1", "ExternalMeetingId": "mtg-1", **kwargs}
    with pytest.raises(raw_chime.exceptions.BadRequestException) as raised:
        raw_chime.create_meeting(**params)
    assert expected in error_of(raised)[2]


def test_meeting_id_must_be_a_guid(raw_chime: Any) -> None:
    with pytest.raises(raw_chime.exceptions.BadRequestException, match="meetingId"):
        raw_chime.get_meeting(MeetingId="not-a-guid")


def test_unknown_but_well_formed_meeting_is_not_found(chime: Any) -> None:
    with pytest.raises(chime.exceptions.NotFoundException) as raised:
        chime.get_meeting(MeetingId="00000000-0000-4000-8000-000000000000")
    assert error_of(raised)[:2] == ("NotFoundException", 404)


def test_error_wire_format_is_what_botocore_parses(emulator: EmulatorServer) -> None:
    request = urllib.request.Request(
        f"{emulator.base_url}/meetings/00000000-0000-4000-8000-000000000000",
        headers={
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20300107/us-east-1/chime/aws4_request, Signature=x"
        },
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)

    assert raised.value.code == 404
    assert raised.value.headers["x-amzn-ErrorType"] == "NotFoundException"
    body = json.loads(raised.value.read())
    assert set(body) == {"Code", "Message", "RequestId"}
    assert body["Code"] == "NotFound"


def test_unsigned_requests_are_forbidden(client_for: Any) -> None:
    unsigned = client_for(signature_version=UNSIGNED)
    with pytest.raises(unsigned.exceptions.ForbiddenException):
        unsigned.get_meeting(MeetingId="00000000-0000-4000-8000-000000000000")


def test_an_emulator_bug_surfaces_as_a_service_failure_botocore_can_parse(clock: ManualClock, client_for: Any) -> None:
    class BrokenBackend(ChimeBackend):
        def _op_GetMeeting(self, region: str, p: Any, now: Any) -> dict[str, Any]:
            raise RuntimeError("boom")

    server, url = start_emulator(backend=BrokenBackend(clock))
    with server:
        broken = client_for(base_url=url)
        with pytest.raises(broken.exceptions.ServiceFailureException) as raised:
            broken.get_meeting(MeetingId="00000000-0000-4000-8000-000000000000")
    code, status, message = error_of(raised)
    assert (code, status) == ("ServiceFailureException", 500)
    assert "boom" in message


def test_operations_outside_the_scope_answer_not_implemented(chime: Any) -> None:
    with pytest.raises(ClientError) as raised:
        chime.list_tags_for_resource(ResourceARN="arn:aws:chime:us-east-1:123456789012:meeting/x")
    assert error_of(raised)[:2] == ("NotImplemented", 501)


# ---- lifecycle ---------------------------------------------------------------------------------


def test_meeting_nobody_joined_ends_after_more_than_five_minutes(
    chime: Any, clock: ManualClock, emulator: EmulatorServer
) -> None:
    meeting = create_meeting(chime, token="appt-g0")
    meeting_id = meeting["MeetingId"]

    clock.advance(300)
    assert chime.get_meeting(MeetingId=meeting_id)["Meeting"]["MeetingId"] == meeting_id  # exactly 5 min: alive
    clock.advance(1)

    with pytest.raises(chime.exceptions.NotFoundException):
        chime.get_meeting(MeetingId=meeting_id)
    ended = emulator.backend.snapshot()["ended"]
    assert [(e["MeetingId"], e["Reason"]) for e in ended] == [(meeting_id, "NoAttendeesConnected")]
    assert create_meeting(chime, token="appt-g0")["MeetingId"] != meeting_id


def test_a_connected_attendee_keeps_the_meeting_alive_until_five_minutes_after_leaving(
    chime: Any, clock: ManualClock, emulator: EmulatorServer
) -> None:
    meeting_id = create_meeting(chime)["MeetingId"]
    attendee_id = chime.create_attendee(MeetingId=meeting_id, ExternalUserId="pt-1")["Attendee"]["AttendeeId"]

    status, body = admin(emulator, "POST", f"/_emulator/meetings/{meeting_id}/attendees/{attendee_id}/connect")
    assert (status, body) == (200, {"connected": True})
    clock.advance(3600)
    assert chime.get_meeting(MeetingId=meeting_id)["Meeting"]["MeetingId"] == meeting_id

    admin(emulator, "POST", f"/_emulator/meetings/{meeting_id}/attendees/{attendee_id}/disconnect")
    clock.advance(300)
    assert chime.get_meeting(MeetingId=meeting_id)["Meeting"]["MeetingId"] == meeting_id
    clock.advance(1)
    with pytest.raises(chime.exceptions.NotFoundException):
        chime.get_meeting(MeetingId=meeting_id)


def test_every_meeting_ends_24_hours_after_creation(chime: Any, clock: ManualClock, emulator: EmulatorServer) -> None:
    meeting_id = create_meeting(chime)["MeetingId"]
    attendee_id = chime.create_attendee(MeetingId=meeting_id, ExternalUserId="pt-1")["Attendee"]["AttendeeId"]
    emulator.backend.connect_attendee(meeting_id, attendee_id)

    clock.advance(24 * 3600 - 1)
    assert chime.get_meeting(MeetingId=meeting_id)["Meeting"]["MeetingId"] == meeting_id
    clock.advance(1)

    with pytest.raises(chime.exceptions.NotFoundException):
        chime.get_attendee(MeetingId=meeting_id, AttendeeId=attendee_id)
    assert emulator.backend.snapshot()["ended"][0]["Reason"] == "MaxDurationReached"


def test_connect_hook_for_an_unknown_attendee_is_404(emulator: EmulatorServer, chime: Any) -> None:
    meeting_id = create_meeting(chime)["MeetingId"]
    status, body = admin(emulator, "POST", f"/_emulator/meetings/{meeting_id}/attendees/nobody/connect")
    assert status == 404
    assert "nobody" in body["error"]


# ---- faults, reset, clock, admin ---------------------------------------------------------------


def test_http_fault_injection_throttles_exactly_count_calls(chime: Any, emulator: EmulatorServer) -> None:
    status, body = admin(
        emulator,
        "POST",
        "/_emulator/faults",
        {"operation": "CreateMeeting", "error": "ThrottlingException", "count": 2},
    )
    assert status == 201
    assert body["faults"][0]["count"] == 2

    for _ in range(2):
        with pytest.raises(chime.exceptions.ThrottlingException) as raised:
            create_meeting(chime)
        assert error_of(raised)[1] == 429
    meeting = create_meeting(chime)

    assert GUID.fullmatch(meeting["MeetingId"])
    assert admin(emulator, "GET", "/_emulator/faults") == (200, {"faults": []})


def test_in_process_fault_with_retry_after_header(chime: Any, emulator: EmulatorServer) -> None:
    emulator.backend.inject_fault("GetMeeting", "ServiceUnavailableException", retry_after=3)

    with pytest.raises(chime.exceptions.ServiceUnavailableException) as raised:
        chime.get_meeting(MeetingId="00000000-0000-4000-8000-000000000000")

    assert error_of(raised)[1] == 503
    assert raised.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "3"
    assert raised.value.response["RetryAfterSeconds"] == "3"


def test_wildcard_fault_and_non_model_code_with_explicit_status(chime: Any, emulator: EmulatorServer) -> None:
    emulator.backend.inject_fault("*", "ThrottledClientException", status=429)

    with pytest.raises(ClientError) as raised:
        chime.list_attendees(MeetingId="00000000-0000-4000-8000-000000000000")

    assert error_of(raised)[:2] == ("ThrottledClientException", 429)


def test_faults_the_model_does_not_allow_are_refused(emulator: EmulatorServer) -> None:
    with pytest.raises(ValueError, match="CreateMeeting cannot raise 'NotFoundException'"):
        emulator.backend.inject_fault("CreateMeeting", "NotFoundException")
    status, body = admin(emulator, "POST", "/_emulator/faults", {"operation": "Nope"})
    assert status == 400
    assert "unknown operation" in body["error"]
    assert emulator.backend.faults() == []


def test_reset_forgets_meetings_and_faults(chime: Any, emulator: EmulatorServer) -> None:
    meeting_id = create_meeting(chime)["MeetingId"]
    emulator.backend.inject_fault("GetMeeting", count=5)

    assert admin(emulator, "POST", "/_emulator/reset") == (200, {"reset": True})

    state = admin(emulator, "GET", "/_emulator/state")[1]
    assert (state["meetings"], state["faults"]) == ([], [])
    with pytest.raises(chime.exceptions.NotFoundException):
        chime.get_meeting(MeetingId=meeting_id)


def test_state_lists_attendees_without_join_tokens(chime: Any, emulator: EmulatorServer) -> None:
    meeting_id = create_meeting(chime)["MeetingId"]
    chime.create_attendee(MeetingId=meeting_id, ExternalUserId="pt-1")

    state = admin(emulator, "GET", "/_emulator/state")[1]

    [meeting] = state["meetings"]
    assert meeting["MeetingId"] == meeting_id
    assert meeting["ControlRegion"] == "us-east-1"
    assert [(a["ExternalUserId"], a["Connected"]) for a in meeting["Attendees"]] == [("pt-1", False)]
    assert "JoinToken" not in meeting["Attendees"][0]


def test_clock_endpoint_advances_a_manual_clock(chime: Any, emulator: EmulatorServer, clock: ManualClock) -> None:
    meeting_id = create_meeting(chime)["MeetingId"]
    before = clock()

    status, body = admin(emulator, "POST", "/_emulator/clock", {"advance_seconds": 301})

    assert status == 200
    assert (clock() - before).total_seconds() == 301
    assert body["now"] == clock().isoformat()
    with pytest.raises(chime.exceptions.NotFoundException):
        chime.get_meeting(MeetingId=meeting_id)


def test_clock_endpoint_refuses_the_system_clock() -> None:
    server, _ = start_emulator()
    with server:
        status, body = admin(server, "POST", "/_emulator/clock", {"advance_seconds": 1})
    assert status == 400
    assert "ManualClock" in body["error"]


def test_the_emulator_only_binds_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        start_emulator("0.0.0.0", 0)  # noqa: S104
    server, url = start_emulator("localhost", 0, backend=ChimeBackend(ManualClock()))
    with server:
        assert admin(server, "GET", "/_emulator/health") == (200, {"status": "ok"})
    assert url.startswith("http://127.0.0.1:")


def test_command_line_serves_on_the_requested_port() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "local.chime_emulator", "--port", "0"], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert url is not None, line
        with urllib.request.urlopen(f"{url.group(0)}/_emulator/health", timeout=5) as response:
            assert json.loads(response.read()) == {"status": "ok"}
    finally:
        process.terminate()
        process.wait(timeout=10)
