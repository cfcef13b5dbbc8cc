"""The pure rules behind video visits: which meeting a join may record, and connected time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.attendance import DROPPED, ENDED, JOINED, LEFT, PresenceEvent, time_check, together_minutes
from chalicelib.domain.meeting_state import (
    ENDED_BY_SWITCH,
    AlreadyEnded,
    MeetingState,
    Superseded,
    claim,
    ended,
)

pytestmark = pytest.mark.unit
T0 = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)


def _claim(state, meeting, generation, role="patient"):
    return claim(state, meeting_id=meeting, generation=generation, control_region="us-east-1",
                 media_region="us-east-1", role=role, attendee_id=f"{role}-{meeting}")


def test_a_join_that_decided_on_an_older_meeting_cannot_overwrite_the_newer_one():
    newer = _claim(MeetingState(), "B", 1, "clinician")
    with pytest.raises(Superseded):
        _claim(newer, "A", 0)
    with pytest.raises(Superseded):
        _claim(newer, "C", 1)  # same generation, another meeting: never two meetings per token


def test_joins_into_the_same_meeting_merge_and_a_newer_meeting_replaces_the_attendees():
    both = _claim(_claim(MeetingState(), "A", 0, "clinician"), "A", 0, "patient")
    assert both.attendees == {"clinician": "clinician-A", "patient": "patient-A"}
    moved = _claim(both, "B", 1)
    assert moved.meeting_id == "B" and moved.attendees == {"patient": "patient-B"}


def test_ending_bumps_the_generation_and_refuses_later_claims():
    state = ended(_claim(MeetingState(), "A", 0), reason="completed", at="2026-03-03T15:50:00Z")
    assert state.meeting_id is None and state.generation == 1 and state.attendees == {}
    with pytest.raises(AlreadyEnded):
        _claim(state, "B", 1)


def test_a_switch_away_from_video_ends_it_until_the_visit_is_video_again():
    state = ended(_claim(MeetingState(), "A", 0), reason=ENDED_BY_SWITCH, at="2026-03-03T15:00:00Z")
    assert state.is_ended(video_now=False)
    assert not state.is_ended(video_now=True)
    assert _claim(state, "B", 1).ended_at is None


def test_the_doc_round_trips():
    state = _claim(MeetingState(guests={"inv_1": {"role": "interpreter"}}), "A", 2)
    assert MeetingState.from_doc(state.to_doc()) == state


def _e(minute, kind, role=None, attendee=None):
    return PresenceEvent(T0 + timedelta(minutes=minute), kind, "m-1", attendee, role)


def test_connected_minutes_count_only_the_time_both_were_there_across_drops_and_rejoins():
    events = [_e(0, JOINED, "clinician", "c"), _e(2, JOINED, "patient", "p"), _e(20, DROPPED, "patient", "p"),
              _e(22, JOINED, "patient", "p2"), _e(45, LEFT, "clinician", "c"), _e(46, LEFT, "patient", "p2")]
    assert together_minutes(events) == 41.0  # 2-20 and 22-45


def test_the_meeting_end_closes_whoever_was_still_connected():
    events = [_e(0, JOINED, "clinician", "c"), _e(0, JOINED, "patient", "p"), _e(40, ENDED)]
    assert together_minutes(events) == 40.0


@pytest.mark.parametrize(("service", "minutes", "status", "supported"), [
    ("90834", 41.0, "ok", "90834"), ("90834", 37.9, "mismatch", None), ("90834", 20.0, "mismatch", "90832"),
    ("90837", 75.0, "ok", "90837"), ("90832", 15.0, "mismatch", None), ("90791", 50.0, "not_timed", None)])
def test_time_bands_of_the_psychotherapy_codes(service, minutes, status, supported):
    check = time_check(service, minutes, any_events=True)
    assert (check["status"], check["supported_service"]) == (status, supported)


def test_no_events_is_no_attendance_not_a_zero_minute_mismatch():
    assert time_check("90834", 0.0, any_events=False)["status"] == "no_attendance"
