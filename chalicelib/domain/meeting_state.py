"""The video meeting of one visit, as stored on the appointment, and the rules for changing it.

Every save goes through the appointment's version condition (a lost race re-reads and re-decides),
and these rules decide what a re-read means:

- ``generation`` numbers the meetings of a visit. The ClientRequestToken is derived from it, so
  concurrent joins at one generation converge on one meeting, and a new meeting (the last one
  ended, or the visit was ended) always gets a new generation: no token serves two meetings.
- A join that decided on an older generation than the stored one is *superseded*: it must not
  overwrite the newer meeting (that is how patient and clinician ended up in different meetings);
  it re-reads and joins the stored meeting instead.
- ``ended_at`` closes the visit for video: end, complete, cancel, no-show, and a switch to another
  modality. Only a switch back to video reopens it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

ENDED_BY_SWITCH = "switched_modality"


class Superseded(Exception):
    """Someone stored a newer meeting since this join read the state: re-read and use it."""


class AlreadyEnded(Exception):
    """The visit's video was ended while this join was under way."""


@dataclass(frozen=True)
class MeetingState:
    meeting_id: str | None = None
    control_region: str | None = None
    media_region: str | None = None
    generation: int = 0
    attendees: dict[str, str] = field(default_factory=dict)
    patient_admitted: bool = False
    ended_at: str | None = None
    ended_reason: str | None = None
    time_check: dict[str, Any] | None = None
    # invitation id -> {role, token_hash, expires_at, used_at, attendee_id, invited_by} (services/video_guests.py)
    guests: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> MeetingState:
        doc = doc or {}
        return cls(
            meeting_id=doc.get("meeting_id") or None,
            control_region=doc.get("control_region") or None,
            media_region=doc.get("media_region") or None,
            generation=int(doc.get("generation") or 0),
            attendees={str(k): str(v) for k, v in (doc.get("attendees") or {}).items()},
            patient_admitted=bool(doc.get("patient_admitted")),
            ended_at=doc.get("ended_at") or None,
            ended_reason=doc.get("ended_reason") or None,
            time_check=doc.get("time_check") or None,
            guests={str(k): dict(v) for k, v in (doc.get("guests") or {}).items()},
        )

    def to_doc(self) -> dict[str, Any]:
        return {
            "meeting_id": self.meeting_id, "control_region": self.control_region, "media_region": self.media_region,
            "generation": self.generation, "attendees": dict(self.attendees),
            "patient_admitted": self.patient_admitted, "ended_at": self.ended_at, "ended_reason": self.ended_reason,
            "time_check": self.time_check, "guests": {k: dict(v) for k, v in self.guests.items()},
        }

    def is_ended(self, *, video_now: bool) -> bool:
        """Ended for joining. A switch away from video ends it only while the visit is not video."""
        if self.ended_at is None:
            return False
        return not (self.ended_reason == ENDED_BY_SWITCH and video_now)


def claim(state: MeetingState, *, meeting_id: str, generation: int, control_region: str, media_region: str,
          role: str, attendee_id: str, video_now: bool = True) -> MeetingState:
    """This join put `role` into meeting `meeting_id` (made at `generation`): record it, or refuse."""
    if state.is_ended(video_now=video_now):
        raise AlreadyEnded
    if state.generation > generation:
        raise Superseded
    if state.generation == generation and state.meeting_id not in (None, meeting_id):
        raise Superseded
    same = state.meeting_id == meeting_id
    attendees = dict(state.attendees) if same else {}
    attendees[role] = attendee_id
    return replace(state, meeting_id=meeting_id, control_region=control_region, media_region=media_region,
                   generation=generation, attendees=attendees, patient_admitted=state.patient_admitted and same,
                   ended_at=None, ended_reason=None)


def ended(state: MeetingState, *, reason: str, at: str) -> MeetingState:
    """The visit's video is over: no meeting, no attendees, and the next meeting gets a new token."""
    return replace(state, meeting_id=None, attendees={}, patient_admitted=False,
                   generation=state.generation + 1, ended_at=at, ended_reason=reason)


def admitted(state: MeetingState, meeting_id: str) -> MeetingState:
    if state.meeting_id != meeting_id:
        raise Superseded
    return replace(state, patient_admitted=True)
