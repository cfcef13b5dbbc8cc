"""What a video-rooms port (Chime SDK Meetings behind adapters/chime.py) answers and raises, as plain values.

The services handle these; only the adapter knows how Chime spells them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Stricter than the service's documented pattern on purpose: opaque tokens only.
_OPAQUE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{1,63}")


class ChimeRequestRejected(RuntimeError):
    """Chime refused the request itself (400/401/403/422): a bug or a misconfiguration, not the
    visit's fault. Retrying cannot help."""

    def __init__(self, operation: str, code: str, message: str) -> None:
        super().__init__(f"Chime {operation} rejected: {code}: {message}")
        self.operation = operation
        self.code = code


class MeetingNotFound(LookupError):
    """The meeting (or attendee) no longer exists: ended, deleted or never created here.
    Re-create the meeting with the next generation."""

    def __init__(self, operation: str, message: str) -> None:
        super().__init__(f"Chime {operation}: {message}")
        self.operation = operation


@dataclass(frozen=True)
class MeetingInfo:
    meeting_id: str
    media_region: str
    media_placement: Mapping[str, str]
    external_meeting_id: str
    meeting_arn: str | None = None

    @classmethod
    def from_api(cls, meeting: Mapping[str, Any]) -> MeetingInfo:
        return cls(
            meeting_id=meeting["MeetingId"],
            media_region=meeting["MediaRegion"],
            media_placement=dict(meeting.get("MediaPlacement", {})),
            external_meeting_id=meeting.get("ExternalMeetingId", ""),
            meeting_arn=meeting.get("MeetingArn"),
        )


@dataclass(frozen=True)
class AttendeeInfo:
    attendee_id: str
    external_user_id: str
    join_token: str
    capabilities: Mapping[str, str]

    @property
    def in_waiting_room(self) -> bool:
        return all(value == "None" for value in self.capabilities.values())

    @classmethod
    def from_api(cls, attendee: Mapping[str, Any]) -> AttendeeInfo:
        return cls(
            attendee_id=attendee["AttendeeId"],
            external_user_id=attendee["ExternalUserId"],
            join_token=attendee["JoinToken"],
            capabilities=dict(attendee.get("Capabilities", {})),
        )


def opaque_external_id(kind: str, *parts: str) -> str:
    """A stable opaque id for ExternalMeetingId/ExternalUserId, e.g. ("pt", tenant, patient_id)."""
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()
    return check_opaque_id(f"{kind}-{digest[:40]}", "external id")


def check_opaque_id(value: str, name: str) -> str:
    if not _OPAQUE_ID.fullmatch(value) or value.lower().startswith("aws:"):
        raise ValueError(f"{name} must be an opaque 2-64 character token ([A-Za-z0-9_.:-], not 'aws:')")
    return value
