"""Video rooms on Amazon Chime SDK Meetings (boto3 ``chime-sdk-meetings``, API 2021-07-15).

Meetings are created just in time, at the first join: Chime ends a meeting nobody is connected
to after 5 minutes, and every meeting after 24 h. ``find_or_create_meeting`` derives the
``ClientRequestToken`` from the appointment token and a generation counter, so retries and the
patient's and clinician's concurrent joins converge on one meeting; after a meeting has ended
the caller bumps the generation to get a new one. ``CreateAttendee`` is idempotent per
``ExternalUserId``: a rejoin returns the same attendee (and its current capabilities).

Every id sent to Chime is opaque (2-64 characters, no PHI): the service keeps them in its logs
and events. Throttling, 5xx and timeouts are retried here, with capped exponential backoff and
full jitter; the client is built with botocore retries off, so retries happen in one layer.
Giving up raises ``VideoUnavailable`` (the API then offers the phone fallback).

boto3 is imported only inside ``make_chime_client``, and botocore only once an error is being
classified (by then it is loaded anyway), so importing this module costs nothing.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from chalicelib.adapters.chime_regions import (  # re-exported: callers name the adapter, not its tables
    CONTROL_REGIONS,
    GOVCLOUD_MEDIA_REGIONS,
    MEDIA_REGIONS,
    choose_media_region,
    control_region_for,
)
from chalicelib.domain.deadline import Deadline
from chalicelib.domain.errors import VideoUnavailable
from chalicelib.domain.retry import RetryPolicy
from chalicelib.domain.video_rooms import (  # re-exported: the port's value and error types
    AttendeeInfo,
    ChimeRequestRejected,
    MeetingInfo,
    MeetingNotFound,
    check_opaque_id,
    opaque_external_id,
)


def _log() -> Any:
    """The app's shared logger, so its PHI filter applies here too; imported on the first retry (it pulls in
    botocore, which importing this adapter must not)."""
    from chalicelib.observability import logger

    return logger

__all__ = [
    "CONTROL_REGIONS",
    "GOVCLOUD_MEDIA_REGIONS",
    "MEDIA_REGIONS",
    "AttendeeInfo",
    "ChimeRequestRejected",
    "ChimeVideoRooms",
    "MeetingInfo",
    "MeetingNotFound",
    "RetryPolicy",
    "VideoRoomsByRegion",
    "choose_media_region",
    "control_region_for",
    "create_video_rooms",
    "opaque_external_id",
]

CapabilityProfile = Literal["waiting", "full"]

# The waiting room is a room: the patient's attendee neither sends nor receives anything until
# admitted (AttendeeCapabilities "None" = cannot send or receive). It still holds a JoinToken and
# shows in the roster, so the clinician sees who waits; admission is one UpdateAttendeeCapabilities
# (the model docs: media flows after renegotiation, no rejoin needed).
WAITING_ROOM_CAPABILITIES: Mapping[str, str] = {"Audio": "None", "Video": "None", "Content": "None"}
FULL_CAPABILITIES: Mapping[str, str] = {"Audio": "SendReceive", "Video": "SendReceive", "Content": "SendReceive"}
_PROFILES: Mapping[str, Mapping[str, str]] = {"waiting": WAITING_ROOM_CAPABILITIES, "full": FULL_CAPABILITIES}


_RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ThrottledClientException",
        "Throttling",
        "TooManyRequestsException",
        "ServiceUnavailableException",
        "ServiceFailureException",
        "InternalServerError",
        "RequestTimeout",
        # "Multiple instances of the same request have been made simultaneously": our concurrent
        # joins send the same ClientRequestToken, and a retry returns the one meeting.
        "ConflictException",
    }
)
# The only Chime operations this code may call. Recording (media capture pipelines) and
# transcription are not here, so no code path can start them (SECURITY.md, "Video").
ALLOWED_OPERATIONS = frozenset(
    {
        "create_meeting",
        "get_meeting",
        "delete_meeting",
        "create_attendee",
        "delete_attendee",
        "update_attendee_capabilities",
    }
)
# Not transient, but the visit's outcome is the same: video cannot start, offer phone.
_UNAVAILABLE_CODES = frozenset({"LimitExceededException"})


@dataclass(frozen=True)
class _Failure:
    code: str
    retryable: bool
    retry_after: float | None = None


def client_request_token(appointment_token: str, generation: int) -> str:
    """Same appointment and generation -> same token, so every joiner gets the same meeting.

    Hashed so the token reveals nothing about the appointment; the generation stays readable
    for operators."""
    if not appointment_token:
        raise ValueError("appointment_token must not be empty")
    if generation < 0:
        raise ValueError("generation must be >= 0")
    digest = hashlib.sha256(f"{appointment_token}\x00{generation}".encode()).hexdigest()
    return f"{digest[:40]}-g{generation}"


class ChimeVideoRooms:
    """The VideoRooms port on Chime SDK Meetings. `client` is a boto3 chime-sdk-meetings client
    bound to one control region (see `make_chime_client`).

    Every method takes an optional `deadline`: an attempt starts only while one attempt's worst
    case (`attempt_seconds`, the client's connect + read timeout) still fits, and a backoff never
    sleeps past that point, so a caller's whole sequence of calls ends before its deadline."""

    def __init__(
        self,
        client: Any,
        *,
        retry: RetryPolicy | None = None,
        attempt_seconds: float = 4.0,
        control_region: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = random.random,
    ) -> None:
        self._client = client
        self._retry = retry or RetryPolicy()
        self._sleep, self._random = sleep, random  # injectable: tests run instantly and deterministically
        self.attempt_seconds = attempt_seconds
        self.control_region = control_region or getattr(getattr(client, "meta", None), "region_name", None)

    def find_or_create_meeting(
        self,
        appointment_token: str,
        generation: int,
        external_meeting_id: str,
        media_region: str,
        *,
        deadline: Deadline | None = None,
    ) -> MeetingInfo:
        if media_region not in MEDIA_REGIONS | GOVCLOUD_MEDIA_REGIONS:
            raise ValueError(f"{media_region!r} is not a Chime SDK media region")
        response = self._call(
            "create_meeting",
            deadline,
            ClientRequestToken=client_request_token(appointment_token, generation),
            ExternalMeetingId=check_opaque_id(external_meeting_id, "external_meeting_id"),
            MediaRegion=media_region,
        )
        return MeetingInfo.from_api(response["Meeting"])

    def get_meeting(self, meeting_id: str, *, deadline: Deadline | None = None) -> MeetingInfo | None:
        """None when the meeting has ended (or never existed): the caller re-creates it."""
        try:
            response = self._call("get_meeting", deadline, MeetingId=meeting_id)
        except MeetingNotFound:
            return None
        return MeetingInfo.from_api(response["Meeting"])

    def add_attendee(
        self,
        meeting_id: str,
        external_user_id: str,
        capabilities: CapabilityProfile = "waiting",
        *,
        deadline: Deadline | None = None,
    ) -> AttendeeInfo:
        """Idempotent per external_user_id: a rejoin returns the existing attendee unchanged, so
        an admitted patient who reconnects is not sent back to the waiting room."""
        if capabilities not in _PROFILES:
            raise ValueError(f"capabilities must be 'waiting' or 'full', not {capabilities!r}")
        response = self._call(
            "create_attendee",
            deadline,
            MeetingId=meeting_id,
            ExternalUserId=check_opaque_id(external_user_id, "external_user_id"),
            Capabilities=dict(_PROFILES[capabilities]),
        )
        return AttendeeInfo.from_api(response["Attendee"])

    def admit(self, meeting_id: str, attendee_id: str, *, deadline: Deadline | None = None) -> None:
        """Moves an attendee out of the waiting room: no media at all -> send-receive."""
        self._call(
            "update_attendee_capabilities",
            deadline,
            MeetingId=meeting_id,
            AttendeeId=attendee_id,
            Capabilities=dict(FULL_CAPABILITIES),
        )

    def remove_attendee(self, meeting_id: str, attendee_id: str, *, deadline: Deadline | None = None) -> bool:
        """Revokes the attendee's JoinToken. False if it (or its meeting) was already gone."""
        try:
            self._call("delete_attendee", deadline, MeetingId=meeting_id, AttendeeId=attendee_id)
        except MeetingNotFound:
            return False
        return True

    def end_meeting(self, meeting_id: str, *, deadline: Deadline | None = None) -> bool:
        """True if this call ended it; False if it had already ended."""
        try:
            self._call("delete_meeting", deadline, MeetingId=meeting_id)
        except MeetingNotFound:
            return False
        return True

    def _call(self, operation: str, deadline: Deadline | None, **params: Any) -> dict[str, Any]:
        if operation not in ALLOWED_OPERATIONS:
            raise PermissionError(f"Chime {operation} is not an operation this application may call")
        method = getattr(self._client, operation)
        policy = self._retry
        for attempt in range(1, policy.max_attempts + 1):
            if deadline is not None and not deadline.allows(self.attempt_seconds):
                raise VideoUnavailable(f"Chime {operation}: out of time before attempt {attempt}")
            try:
                result: dict[str, Any] = method(**params)
                return result
            except Exception as error:
                failure = _classify(error)
                if failure is None:
                    raise
                if not failure.retryable:
                    raise _mapped(operation, failure, error) from error
                if attempt == policy.max_attempts:
                    raise VideoUnavailable(
                        f"Chime {operation} failed {attempt} times; last error {failure.code}"
                    ) from error
                delay = policy.delay(attempt, self._random(), failure.retry_after)
                if deadline is not None:
                    room = deadline.remaining() - self.attempt_seconds
                    if room < 0 or (failure.retry_after is not None and failure.retry_after > room):
                        # Waiting as long as the service asks would leave no time for the attempt.
                        raise VideoUnavailable(f"Chime {operation}: {failure.code}, no time left to retry") from error
                    delay = min(delay, room)
                _log().warning("chime call retried", extra={"operation": operation, "error": failure.code,
                                                            "attempt": attempt, "delay_ms": round(delay * 1000, 1)})
                self._sleep(delay)
        raise AssertionError("unreachable: max_attempts must be >= 1")


class VideoRoomsByRegion:
    """One ChimeVideoRooms per control region, each built on first use and kept for the process.

    A meeting can only be read or changed through the control region that created it, so calls
    about an existing meeting go to the region stored with it; new meetings go to `default_region`."""

    def __init__(self, make: Callable[[str], ChimeVideoRooms], default_region: str) -> None:
        self._make = make
        self.default_region = default_region
        self._rooms: dict[str, ChimeVideoRooms] = {}

    def __call__(self, control_region: str | None = None) -> ChimeVideoRooms:
        region = control_region or self.default_region
        if region not in self._rooms:
            self._rooms[region] = self._make(region)
        return self._rooms[region]


def _classify(error: Exception) -> _Failure | None:
    """None for errors that are not from botocore (our bugs propagate untouched)."""
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotocoreConnectionError

    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        retry_after = error.response.get("RetryAfterSeconds")
        retryable = code in _RETRYABLE_CODES or status == 429 or status >= 500
        return _Failure(code or str(status), retryable, float(retry_after) if retry_after else None)
    if isinstance(error, BotocoreConnectionError | HTTPClientError):
        # Connect/read timeouts, resets, DNS: every call we make is idempotent, so retry.
        return _Failure(type(error).__name__, retryable=True)
    return None


def _mapped(operation: str, failure: _Failure, error: Exception) -> Exception:
    message = str(getattr(error, "response", {}).get("Error", {}).get("Message", ""))
    if failure.code == "NotFoundException":
        return MeetingNotFound(operation, message or "not found")
    if failure.code in _UNAVAILABLE_CODES:
        return VideoUnavailable(f"Chime {operation}: {failure.code}")
    return ChimeRequestRejected(operation, failure.code, message)


def make_chime_client(
    region: str, endpoint_url: str | None = None, *, connect_timeout: float = 1.0, read_timeout: float = 3.0
) -> Any:
    """A chime-sdk-meetings client for a control region; botocore's own retries are off because
    ChimeVideoRooms retries (retries in two layers multiply)."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
    return boto3.client("chime-sdk-meetings", region_name=region, endpoint_url=endpoint_url, config=config)


def create_video_rooms(
    stack_region: str,
    endpoint_url: str | None = None,
    *,
    control_region: str | None = None,
    retry: RetryPolicy | None = None,
    connect_timeout: float = 1.0,
    read_timeout: float = 3.0,
    sleep: Callable[[float], None] = time.sleep,
) -> ChimeVideoRooms:
    region = control_region or control_region_for(stack_region)
    client = make_chime_client(region, endpoint_url, connect_timeout=connect_timeout, read_timeout=read_timeout)
    # One attempt's worst case: connect, then the read timeout, plus a little for the rest.
    return ChimeVideoRooms(
        client, retry=retry, attempt_seconds=connect_timeout + read_timeout + 0.2, control_region=region, sleep=sleep
    )
