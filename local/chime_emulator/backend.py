"""Meetings, attendees and the service's rules, behind one lock, on an injectable clock.

Lifecycle (Chime SDK developer guide, "create-mtgs"): a meeting ends on DeleteMeeting, 24 h
after creation, when it is a replica and its primary ended, or when no attendee has been
*connected* for more than 5 minutes. There is no media plane here, so "connected" is set by a
test/ops hook (``connect_attendee``/``disconnect_attendee``, or the HTTP admin routes). The
rules are evaluated lazily, against the clock, whenever state is touched; an ended meeting
answers NotFound, and its ClientRequestToken becomes free again.

Idempotency: CreateMeeting/CreateMeetingWithAttendees with a ClientRequestToken that belongs to
a live meeting (in the same control region) return that meeting unchanged; CreateAttendee with
an ExternalUserId already in the meeting returns that attendee (same id and JoinToken).

Fidelity, each with its source:
- Same-token creates that overlap answer ConflictException ("Multiple instances of the same request
  have been made simultaneously", the model's ConflictException doc). Creation is instant unless
  ``create_latency_seconds`` is set, which opens the window for such overlaps.
- At most ``max_live_meetings`` (250, the account's soft quota, counted across Regions: Chime SDK
  FAQ "concurrent meetings") live meetings; one more answers LimitExceededException.
- A control region creates media only in its own partition: GovCloud control regions host GovCloud
  media, commercial ones commercial media (CreateMeeting MediaRegion docs list them apart).
- Meeting lifecycle events as EventBridge delivers them ("Chime Meeting State Change", developer
  guide "using-events"): MeetingStarted, MeetingEnded, AttendeeAdded, AttendeeDeleted,
  AttendeeJoined, AttendeeLeft, AttendeeDropped. ``subscribe`` hands each to a callback, after
  the state lock is released; ``events`` keeps the recent ones.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from local.chime_emulator.service_model import ChimeServiceError, ServiceSpec, bad_request, load_spec, not_found

Clock = Callable[[], datetime]

NO_PRESENCE_LIMIT = timedelta(minutes=5)
MAX_MEETING_AGE = timedelta(hours=24)
DEFAULT_MAX_ATTENDEES = 250
HIGH_RESOLUTION_MAX_ATTENDEES = 25
# The service documents no default page size; a small one makes callers that ignore
# NextToken fail here rather than in production.
DEFAULT_PAGE_SIZE = 10
MEDIA_KINDS = ("Audio", "Video", "Content")
RECEIVING = frozenset({"SendReceive", "Receive"})
DEFAULT_ACCOUNT_ID = "123456789012"
MAX_LIVE_MEETINGS = 250
EVENT_HISTORY = 1000

_GEO_LETTER = {"us": "u", "eu": "e", "ap": "a", "ca": "c", "sa": "s", "af": "f", "me": "m", "il": "i", "mx": "x"}
_DIRECTION = {
    "east": "e",
    "west": "w",
    "north": "n",
    "south": "s",
    "central": "c",
    "northeast": "ne",
    "southeast": "se",
    "northwest": "nw",
    "southwest": "sw",
}


def system_clock() -> datetime:
    return datetime.now(UTC)


class ManualClock:
    """A clock tests (and `--manual-clock` runs) move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        with self._lock:
            self._now += step
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when


def region_code(region: str) -> str:
    """us-east-1 -> ue1, ca-central-1 -> cc1, ap-southeast-2 -> ase2, us-gov-west-1 -> ugw1."""
    parts = region.split("-")
    geo = _GEO_LETTER.get(parts[0], parts[0][:1])
    gov = "g" if "gov" in parts else ""
    return f"{geo}{gov}{_DIRECTION.get(parts[-2], parts[-2][:1])}{parts[-1]}"


def media_placement(meeting_id: str, media_region: str, host: str) -> dict[str, str]:
    code = region_code(media_region)
    media = f"m1.{code}.app.chime.aws"
    return {
        "AudioHostUrl": f"{host}.k.{media}:3478",
        "AudioFallbackUrl": f"wss://haxrp.{media}:443/calls/{meeting_id}",
        "SignalingUrl": f"wss://signal.{media}/control/{meeting_id}",
        "TurnControlUrl": f"https://ccp.cp.{code}.app.chime.aws/v2/turn_sessions",
        "ScreenDataUrl": f"wss://bitpw.{media}:443/v2/screen/{meeting_id}",
        "ScreenViewingUrl": (
            f"wss://bitpw.{media}:443/ws/connect?passcode=null&viewer_uuid=null&X-BitHub-Call-Id={meeting_id}"
        ),
        "ScreenSharingUrl": f"wss://bitpw.{media}:443/v2/screen/{meeting_id}",
        "EventIngestionUrl": f"https://data.svc.{code}.ingest.chime.aws/v1/client-events",
    }


def partition_of(region: str) -> str:
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


@dataclass
class Attendee:
    attendee_id: str
    external_user_id: str
    join_token: str
    capabilities: dict[str, str]
    seq: int
    connected: bool = False

    def to_wire(self, *, with_token: bool = True) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "ExternalUserId": self.external_user_id,
            "AttendeeId": self.attendee_id,
            "Capabilities": dict(self.capabilities),
        }
        if with_token:
            wire["JoinToken"] = self.join_token
        return wire


@dataclass
class Meeting:
    meeting_id: str
    control_region: str
    account_id: str
    media_region: str
    external_meeting_id: str
    client_request_token: str
    created_at: datetime
    features: dict[str, Any] | None
    host: str
    optional: dict[str, Any] = field(default_factory=dict)
    attendees: dict[str, Attendee] = field(default_factory=dict)
    last_presence_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None

    @property
    def connected_count(self) -> int:
        return sum(a.connected for a in self.attendees.values())

    @property
    def max_attendees(self) -> int:
        return int(_feature(self.features, "Attendee", "MaxCount") or DEFAULT_MAX_ATTENDEES)

    def by_external_user(self, external_user_id: str) -> Attendee | None:
        return next((a for a in self.attendees.values() if a.external_user_id == external_user_id), None)

    def to_wire(self) -> dict[str, Any]:
        arn = (
            f"arn:{partition_of(self.control_region)}:chime:{self.control_region}:{self.account_id}"
            f":meeting/{self.meeting_id}"
        )
        return {
            "MeetingId": self.meeting_id,
            "MeetingHostId": self.optional.get("MeetingHostId"),
            "ExternalMeetingId": self.external_meeting_id,
            "MediaRegion": self.media_region,
            "MediaPlacement": media_placement(self.meeting_id, self.media_region, self.host),
            "MeetingFeatures": self.features,
            "PrimaryMeetingId": self.optional.get("PrimaryMeetingId"),
            "TenantIds": self.optional.get("TenantIds"),
            "MeetingArn": arn,
        }


@dataclass(frozen=True)
class Fault:
    operation: str
    error: str | None
    remaining: int
    message: str
    delay_seconds: float = 0.0
    status: int | None = None
    retry_after: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "error": self.error,
            "count": self.remaining,
            "message": self.message,
            "delay_seconds": self.delay_seconds,
            "status": self.status,
            "retry_after": self.retry_after,
        }


def _feature(features: Mapping[str, Any] | None, kind: str, name: str) -> Any:
    return ((features or {}).get(kind) or {}).get(name)


def media_partition_problem(control_region: str, media_region: str) -> str | None:
    if partition_of(control_region) != partition_of(media_region):
        return (
            f"MediaRegion {media_region} is not available from the {control_region} control region "
            f"(partition {partition_of(control_region)})"
        )
    return None


def default_capabilities(features: Mapping[str, Any] | None) -> dict[str, str]:
    """Defaults as the model's AttendeeCapabilities documentation states them."""
    video_off = _feature(features, "Video", "MaxResolution") == "None"
    content_off = _feature(features, "Content", "MaxResolution") == "None"
    if video_off and not content_off:
        return {"Audio": "SendReceive", "Video": "Receive", "Content": "SendReceive"}
    return {
        "Audio": "SendReceive",
        "Video": "None" if video_off else "SendReceive",
        "Content": "None" if content_off else "SendReceive",
    }


def capability_problem(capabilities: Mapping[str, str], features: Mapping[str, Any] | None) -> str | None:
    """The corner cases listed in the model's AttendeeCapabilities documentation."""
    for kind in ("Video", "Content"):
        if _feature(features, kind, "MaxResolution") == "None" and capabilities[kind] != "None":
            return f"{kind} capability must be None when MeetingFeatures {kind}.MaxResolution is None"
    if capabilities["Content"] in RECEIVING and capabilities["Video"] not in RECEIVING:
        return "Content capability SendReceive or Receive requires Video capability SendReceive or Receive"
    return None


def features_problem(features: Mapping[str, Any] | None) -> str | None:
    high_res = (
        _feature(features, "Video", "MaxResolution") == "FHD" or _feature(features, "Content", "MaxResolution") == "UHD"
    )
    max_count = _feature(features, "Attendee", "MaxCount")
    if high_res and (max_count is None or max_count > HIGH_RESOLUTION_MAX_ATTENDEES):
        return (
            f"Video FHD or Content UHD requires MeetingFeatures.Attendee.MaxCount of at most "
            f"{HIGH_RESOLUTION_MAX_ATTENDEES}"
        )
    return None


class ChimeBackend:
    """All emulator state; every public method holds the one lock."""

    def __init__(
        self,
        clock: Clock = system_clock,
        *,
        account_id: str = DEFAULT_ACCOUNT_ID,
        spec: ServiceSpec | None = None,
        max_live_meetings: int = MAX_LIVE_MEETINGS,
        create_latency_seconds: float = 0.0,
    ) -> None:
        self.clock = clock
        self.account_id = account_id
        self.spec = spec or load_spec()
        self.max_live_meetings = max_live_meetings
        self.create_latency_seconds = create_latency_seconds
        self._lock = threading.RLock()
        self._depth = 0
        self._subscribers: list[Callable[[dict[str, Any]], None]] = []
        self._reset_state()

    def _reset_state(self) -> None:
        self._meetings: dict[str, Meeting] = {}
        self._ended: dict[str, Meeting] = {}
        self._tokens: dict[tuple[str, str], str] = {}
        self._inflight: set[tuple[str, str]] = set()
        self._faults: list[Fault] = []
        self._seq = 0
        self._outbox: list[dict[str, Any]] = []
        self.events: deque[dict[str, Any]] = deque(maxlen=EVENT_HISTORY)

    @contextmanager
    def _state(self) -> Iterator[None]:
        """The one lock; events raised inside go to subscribers once the outermost holder lets go."""
        with self._lock:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                outbox, flush = (self._outbox, self._depth == 0)
                if flush:
                    self._outbox = []
        if flush:
            for event in outbox:
                for callback in list(self._subscribers):
                    callback(event)

    def subscribe(self, callback: Callable[[dict[str, Any]], None]) -> None:
        """`callback(event)` for every meeting event, as EventBridge would deliver it to a rule."""
        self._subscribers.append(callback)

    def _emit(self, meeting: Meeting, event_type: str, at: datetime, attendee: Attendee | None = None) -> None:
        detail: dict[str, Any] = {
            "version": "0",
            "eventType": f"chime:{event_type}",
            "timestamp": int(at.timestamp() * 1000),
            "meetingId": meeting.meeting_id,
            "externalMeetingId": meeting.external_meeting_id,
            "mediaRegion": meeting.media_region,
        }
        if attendee is not None:
            detail.update({"attendeeId": attendee.attendee_id, "externalUserId": attendee.external_user_id})
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Chime Meeting State Change",
            "source": "aws.chime",
            "account": self.account_id,
            "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": meeting.control_region,
            "resources": [],
            "detail": detail,
        }
        self.events.append(event)
        self._outbox.append(event)

    # ---- test and ops hooks --------------------------------------------------------------
    def reset(self) -> None:
        with self._state():
            self._reset_state()

    def inject_fault(
        self,
        operation: str,
        error: str | None = "ThrottlingException",
        *,
        count: int = 1,
        message: str | None = None,
        delay_seconds: float = 0.0,
        status: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Makes the next `count` calls of `operation` ("*" = any) wait `delay_seconds`, then fail
        with `error` (None = succeed after the delay, to provoke client timeouts).

        `error` must be one the model lists for that operation, unless `status` is given: that
        escape hatch sends any code (e.g. the developer guide's ``ThrottledClientException``)."""
        self._check_fault(operation, error, count, status)
        fault = Fault(
            operation,
            error,
            count,
            message or f"Injected {error or 'delay'} for {operation}",
            float(delay_seconds),
            status,
            retry_after,
        )
        with self._state():
            self._faults.append(fault)

    def _check_fault(self, operation: str, error: str | None, count: int, status: int | None) -> None:
        if operation != "*" and operation not in self.spec.operations:
            raise ValueError(f"unknown operation {operation!r}")
        if count < 1:
            raise ValueError("count must be at least 1")
        if error is None or status is not None:
            return
        allowed = set(self.spec.error_status) if operation == "*" else set(self.spec.errors_of(operation))
        if error not in allowed:
            raise ValueError(
                f"{operation} cannot raise {error!r} per the model; one of {sorted(allowed)}, "
                "or pass an explicit status for a code outside the model"
            )

    def take_fault(self, operation: str) -> Fault | None:
        with self._state():
            for index, fault in enumerate(self._faults):
                if fault.operation in (operation, "*"):
                    if fault.remaining <= 1:
                        del self._faults[index]
                    else:
                        self._faults[index] = replace(fault, remaining=fault.remaining - 1)
                    return fault
        return None

    def clear_faults(self) -> None:
        with self._state():
            self._faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        with self._state():
            return [f.to_json() for f in self._faults]

    def connect_attendee(self, meeting_id: str, attendee_id: str) -> None:
        self._set_connected(meeting_id, attendee_id, connected=True)

    def disconnect_attendee(self, meeting_id: str, attendee_id: str) -> None:
        self._set_connected(meeting_id, attendee_id, connected=False)

    def drop_attendee(self, meeting_id: str, attendee_id: str) -> None:
        """The client lost its connection (network), rather than leaving: AttendeeDropped."""
        self._set_connected(meeting_id, attendee_id, connected=False, event="AttendeeDropped")

    def _set_connected(self, meeting_id: str, attendee_id: str, *, connected: bool, event: str | None = None) -> None:
        with self._state():
            now = self._sweep()
            meeting = self._meetings.get(meeting_id)
            attendee = meeting.attendees.get(attendee_id) if meeting else None
            if meeting is None or attendee is None:
                raise LookupError(f"no live attendee {attendee_id} in meeting {meeting_id}")
            if attendee.connected != connected:
                self._emit(meeting, event or ("AttendeeJoined" if connected else "AttendeeLeft"), now, attendee)
            attendee.connected = connected
            meeting.last_presence_at = now

    def receives(self, meeting_id: str, attendee_id: str) -> frozenset[str]:
        """The media kinds this attendee's client is sent (Audio/Video/Content), from its capabilities:
        what a waiting-room test needs to know without a media plane."""
        with self._state():
            meeting = self._meetings.get(meeting_id)
            attendee = meeting.attendees.get(attendee_id) if meeting else None
            if meeting is None or attendee is None:
                return frozenset()
            return frozenset(kind for kind in MEDIA_KINDS if attendee.capabilities.get(kind) in RECEIVING)

    def advance_clock(self, seconds: float) -> datetime:
        advance = getattr(self.clock, "advance", None)
        if advance is None:
            raise TypeError("the emulator runs on the system clock; start it with a ManualClock")
        with self._state():
            moved: datetime = advance(timedelta(seconds=seconds))
            self._sweep()  # meetings that end by the clock end now, and say so
            return moved

    def snapshot(self) -> dict[str, Any]:
        with self._state():
            now = self._sweep()
            return {
                "now": now.isoformat(),
                "meetings": [self._describe(m) for m in self._meetings.values()],
                "ended": [
                    {
                        "MeetingId": m.meeting_id,
                        "EndedAt": m.ended_at.isoformat() if m.ended_at else None,
                        "Reason": m.end_reason,
                    }
                    for m in self._ended.values()
                ],
                "faults": [f.to_json() for f in self._faults],
            }

    @staticmethod
    def _describe(meeting: Meeting) -> dict[str, Any]:
        return {
            "MeetingId": meeting.meeting_id,
            "ControlRegion": meeting.control_region,
            "MediaRegion": meeting.media_region,
            "ExternalMeetingId": meeting.external_meeting_id,
            "CreatedAt": meeting.created_at.isoformat(),
            "ConnectedCount": meeting.connected_count,
            "Attendees": [
                {**a.to_wire(with_token=False), "Connected": a.connected} for a in meeting.attendees.values()
            ],
        }

    # ---- the API -------------------------------------------------------------------------
    def handle(self, operation: str, control_region: str, params: Mapping[str, Any]) -> dict[str, Any]:
        handler = getattr(self, f"_op_{operation}", None)
        if handler is None:
            raise ChimeServiceError(
                "NotImplemented", f"{operation} is not implemented by the local emulator", status=501
            )
        if operation in ("CreateMeeting", "CreateMeetingWithAttendees") and self.create_latency_seconds:
            self._slow_create(control_region, str(params.get("ClientRequestToken", "")))
        with self._state():
            now = self._sweep()
            result: dict[str, Any] = handler(control_region, params, now)
            return result

    def _slow_create(self, region: str, token: str) -> None:
        """A create takes a while; another create with the same token meanwhile is a ConflictException."""
        key = (region, token)
        with self._state():
            if key in self._tokens:
                return  # a live meeting already answers this token at once
            if key in self._inflight:
                raise ChimeServiceError(
                    "ConflictException", "Multiple instances of the same request have been made simultaneously."
                )
            self._inflight.add(key)
        try:
            time.sleep(self.create_latency_seconds)
        finally:
            with self._state():
                self._inflight.discard(key)

    def _op_CreateMeeting(self, region: str, p: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        return {"Meeting": self._find_or_create_meeting(region, p, now).to_wire()}

    def _op_CreateMeetingWithAttendees(self, region: str, p: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        meeting = self._find_or_create_meeting(region, p, now)
        attendees, errors = self._add_batch(meeting, p["Attendees"])
        return {"Meeting": meeting.to_wire(), "Attendees": attendees, "Errors": errors}

    def _op_GetMeeting(self, region: str, p: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        return {"Meeting": self._meeting(region, p["MeetingId"]).to_wire()}

    def _op_DeleteMeeting(self, region: str, p: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        self._end(self._meeting(region, p["MeetingId"]), "Deleted", now)
        return {}

    def _op_CreateAttendee(self, region: str, p: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        meeting = self._meeting(region, p["MeetingId"])
        return {"Attendee": self._add_attendee(meeting, p["ExternalUserId"], p.get("Capabilities")).to_wire()}

    def _op_BatchCreateAttendee(self, region: str, p: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        attendees, errors = self._add_batch(self._meeting(region, p["MeetingId"]), p["Attendees"])
        return {"Attendees": attendees, "Errors": errors}

    def _op_GetAttendee(self, region: str, p: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        return {"Attendee": self._attendee(region, p["MeetingId"], p["AttendeeId"]).to_wire()}

    def _op_ListAttendees(self, region: str, p: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        meeting = self._meeting(region, p["MeetingId"])
        after = self._decode_page_token(meeting.meeting_id, p.get("NextToken"))
        remaining = [a for a in meeting.attendees.values() if a.seq > after]
        page = remaining[: p.get("MaxResults", DEFAULT_PAGE_SIZE)]
        more = len(remaining) > len(page)
        token = self._encode_page_token(meeting.meeting_id, page[-1].seq) if more else None
        return {"Attendees": [a.to_wire() for a in page], "NextToken": token}

    def _op_DeleteAttendee(self, region: str, p: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        meeting = self._meeting(region, p["MeetingId"])
        attendee = self._attendee(region, p["MeetingId"], p["AttendeeId"])
        if attendee.connected:
            meeting.last_presence_at = now
            self._emit(meeting, "AttendeeLeft", now, attendee)
        del meeting.attendees[attendee.attendee_id]
        self._emit(meeting, "AttendeeDeleted", now, attendee)
        return {}

    def _op_UpdateAttendeeCapabilities(self, region: str, p: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        meeting = self._meeting(region, p["MeetingId"])
        attendee = self._attendee(region, p["MeetingId"], p["AttendeeId"])
        problem = capability_problem(p["Capabilities"], meeting.features)
        if problem:
            raise bad_request(problem)
        attendee.capabilities = dict(p["Capabilities"])
        return {"Attendee": attendee.to_wire()}

    # ---- rules -----------------------------------------------------------------------------
    def _find_or_create_meeting(self, region: str, p: Mapping[str, Any], now: datetime) -> Meeting:
        existing = self._tokens.get((region, p["ClientRequestToken"]))
        if existing is not None:
            return self._meetings[existing]
        problem = features_problem(p.get("MeetingFeatures")) or media_partition_problem(region, p["MediaRegion"])
        if problem:
            raise bad_request(problem)
        if len(self._meetings) >= self.max_live_meetings:
            raise ChimeServiceError(
                "LimitExceededException",
                f"The account already has {self.max_live_meetings} active meetings (across all Regions)",
            )
        primary = p.get("PrimaryMeetingId")
        if primary is not None and self._meetings.get(primary) is None:
            raise bad_request(f"PrimaryMeetingId {primary} is not a live meeting")
        meeting = Meeting(
            meeting_id=str(uuid.uuid4()),
            control_region=region,
            account_id=self.account_id,
            media_region=p["MediaRegion"],
            external_meeting_id=p["ExternalMeetingId"],
            client_request_token=p["ClientRequestToken"],
            created_at=now,
            features=p.get("MeetingFeatures"),
            host=secrets.token_hex(16),
            optional={k: p[k] for k in ("MeetingHostId", "PrimaryMeetingId", "TenantIds", "Tags") if k in p},
            last_presence_at=now,
        )
        self._meetings[meeting.meeting_id] = meeting
        self._tokens[(region, meeting.client_request_token)] = meeting.meeting_id
        self._emit(meeting, "MeetingStarted", now)
        return meeting

    def _add_batch(
        self, meeting: Meeting, items: list[Mapping[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        """Per-item failures go to `Errors` (the model's CreateAttendeeError) instead of failing all."""
        attendees: list[dict[str, Any]] = []
        errors: list[dict[str, str]] = []
        for item in items:
            try:
                problem = self.spec.documented_problem("CreateAttendeeRequestItem", item)
                if problem:
                    raise bad_request(problem)
                attendee = self._add_attendee(meeting, item["ExternalUserId"], item.get("Capabilities"))
                attendees.append(attendee.to_wire())
            except ChimeServiceError as error:
                errors.append(
                    {
                        "ExternalUserId": item["ExternalUserId"],
                        "ErrorCode": error.code.removesuffix("Exception"),
                        "ErrorMessage": error.message,
                    }
                )
        return attendees, errors

    def _add_attendee(
        self, meeting: Meeting, external_user_id: str, capabilities: Mapping[str, str] | None
    ) -> Attendee:
        existing = meeting.by_external_user(external_user_id)
        if existing is not None:
            return existing
        if len(meeting.attendees) >= meeting.max_attendees:
            raise ChimeServiceError(
                "LimitExceededException", f"The meeting already has {meeting.max_attendees} attendees"
            )
        chosen = dict(capabilities) if capabilities else default_capabilities(meeting.features)
        problem = capability_problem(chosen, meeting.features)
        if problem:
            raise bad_request(problem)
        attendee_id = str(uuid.uuid4())
        token = base64.b64encode(f"{attendee_id}:{secrets.token_urlsafe(32)}".encode()).decode()
        self._seq += 1
        attendee = Attendee(attendee_id, external_user_id, token, chosen, self._seq)
        meeting.attendees[attendee_id] = attendee
        self._emit(meeting, "AttendeeAdded", self.clock(), attendee)
        return attendee

    def _meeting(self, region: str, meeting_id: str) -> Meeting:
        meeting = self._meetings.get(meeting_id)
        # A meeting can only be read or changed through the control region that created it.
        if meeting is None or meeting.control_region != region:
            raise not_found(f"The meeting {meeting_id} does not exist or has ended")
        return meeting

    def _attendee(self, region: str, meeting_id: str, attendee_id: str) -> Attendee:
        attendee = self._meeting(region, meeting_id).attendees.get(attendee_id)
        if attendee is None:
            raise not_found(f"The attendee {attendee_id} does not exist")
        return attendee

    def _sweep(self) -> datetime:
        now = self.clock()
        for meeting in list(self._meetings.values()):
            ending = self._end_due(meeting, now)
            if ending is not None:
                self._end(meeting, *ending)
        return now

    def _end_due(self, meeting: Meeting, now: datetime) -> tuple[str, datetime] | None:
        if now - meeting.created_at >= MAX_MEETING_AGE:
            return "MaxDurationReached", meeting.created_at + MAX_MEETING_AGE
        presence = meeting.last_presence_at or meeting.created_at
        if meeting.connected_count == 0 and now - presence > NO_PRESENCE_LIMIT:
            return "NoAttendeesConnected", presence + NO_PRESENCE_LIMIT
        primary = meeting.optional.get("PrimaryMeetingId")
        if primary is not None and primary not in self._meetings:
            return "PrimaryMeetingEnded", now
        return None

    def _end(self, meeting: Meeting, reason: str, at: datetime) -> None:
        meeting.ended_at, meeting.end_reason = at, reason
        self._emit(meeting, "MeetingEnded", at)
        del self._meetings[meeting.meeting_id]
        self._ended[meeting.meeting_id] = meeting
        self._tokens.pop((meeting.control_region, meeting.client_request_token), None)

    @staticmethod
    def _encode_page_token(meeting_id: str, seq: int) -> str:
        return base64.urlsafe_b64encode(f"{meeting_id}:{seq}".encode()).decode()

    @staticmethod
    def _decode_page_token(meeting_id: str, token: str | None) -> int:
        if token is None:
            return 0
        try:
            owner, _, seq = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
            if owner == meeting_id:
                return int(seq)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            pass
        raise bad_request("NextToken is not valid for this meeting")
