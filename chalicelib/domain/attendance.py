"""Who was in a video visit, and for how long, from the video service's meeting events.

Psychotherapy codes are chosen by time spent with the patient (AMA CPT: 90832 16-37 minutes,
90834 38-52, 90837 53 or more). Connected time is the time the patient and the clinician were
both connected; a completed visit whose connected time falls outside its code's band is flagged
for review rather than billed as booked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

JOINED, LEFT, DROPPED, ENDED = "joined", "left", "dropped", "meeting_ended"
# Chime event types (developer guide, "Understanding Amazon Chime SDK meeting lifecycle events").
EVENT_KINDS: Mapping[str, str] = {
    "chime:AttendeeJoined": JOINED,
    "chime:AttendeeLeft": LEFT,
    "chime:AttendeeDropped": DROPPED,
    "chime:MeetingEnded": ENDED,
}
# Source: AMA CPT psychotherapy time rules, as cited in scheduling_rules/services.yaml (source fields).
TIME_BANDS: Mapping[str, tuple[int, int | None]] = {"90832": (16, 37), "90834": (38, 52), "90837": (53, None)}


@dataclass(frozen=True)
class PresenceEvent:
    at: datetime
    kind: str  # joined | left | dropped | meeting_ended
    meeting_id: str
    attendee_id: str | None = None
    role: str | None = None  # patient | clinician | guest role; None for meeting-wide events


def connected_intervals(events: Iterable[PresenceEvent], role: str) -> list[tuple[datetime, datetime]]:
    """Intervals when someone in `role` was connected; an open interval closes at the meeting's end."""
    open_since: dict[str, datetime] = {}
    intervals: list[tuple[datetime, datetime]] = []
    for event in sorted(events, key=lambda e: e.at):
        if event.kind == ENDED:
            intervals.extend((since, event.at) for since in open_since.values())
            open_since.clear()
            continue
        if event.role != role or event.attendee_id is None:
            continue
        if event.kind == JOINED:
            open_since.setdefault(event.attendee_id, event.at)
        elif event.attendee_id in open_since:
            intervals.append((open_since.pop(event.attendee_id), event.at))
    return _merge(intervals)


def together_minutes(events: Iterable[PresenceEvent]) -> float:
    """Minutes the patient and the clinician were connected at the same time."""
    events = list(events)
    patient = connected_intervals(events, "patient")
    clinician = connected_intervals(events, "clinician")
    total = timedelta(0)
    for p_start, p_end in patient:
        for c_start, c_end in clinician:
            start, end = max(p_start, c_start), min(p_end, c_end)
            if start < end:
                total += end - start
    return round(total.total_seconds() / 60, 1)


def time_check(service: str, minutes: float, *, any_events: bool) -> dict[str, object]:
    """ok | mismatch | no_attendance | not_timed, with the band and the code the time supports."""
    band = TIME_BANDS.get(service)
    if band is None:
        return {"status": "not_timed", "service": service, "connected_minutes": minutes, "band": None,
                "supported_service": None}
    low, high = band
    supported = next((code for code, (lo, hi) in TIME_BANDS.items() if lo <= minutes and (hi is None or
                                                                                          minutes <= hi)), None)
    if not any_events:
        status = "no_attendance"
    else:
        status = "ok" if low <= minutes and (high is None or minutes <= high) else "mismatch"
    return {"status": status, "service": service, "connected_minutes": minutes,
            "band": {"min_minutes": low, "max_minutes": high}, "supported_service": supported}


def _merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
