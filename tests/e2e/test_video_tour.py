"""The README tour's video step, against the running local server, at whatever hour the suite runs:
book the next quarter-hour with a demo clinician who sees video visits around the clock, join, admit,
attendance from the emulator's meeting events, end, and a join refused after the visit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from local.token import mint

pytestmark = pytest.mark.e2e
HERE = {"patient_jurisdiction": "US-PA", "callback_phone": "+1 215 555 0101"}


def next_quarter_hour(now: datetime) -> datetime:
    """At most 15 minutes away, so the join window (opens 15 minutes before the start) is already open."""
    soon = now + timedelta(seconds=5)
    floored = soon.replace(minute=soon.minute - soon.minute % 15, second=0, microsecond=0)
    return floored if floored == soon else floored + timedelta(minutes=15)


def call(base: str, method: str, path: str, token: str, body: dict | None = None) -> requests.Response:
    return requests.request(method, f"{base}{path}", json=body, timeout=30,
                            headers={"Authorization": f"Bearer {token}"})


def test_the_tour_video_step_works_now(local_server, local_chime):
    scheduler = mint("scheduler", "demo")
    patient = mint("patient", "demo", patient_id="pat_pa")
    start = next_quarter_hour(datetime.now(UTC))
    booked = None
    for clinician_id in ("clin_hale", "clin_sato"):  # one of them is never at their local midnight
        r = call(local_server, "POST", "/v1/appointments", scheduler, {
            "patient_id": "pat_pa", "clinician_id": clinician_id, "service": "90832", "modality": "video",
            "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "patient_jurisdiction": "US-PA"})
        if r.status_code == 201:
            booked = r.json()
            break
        assert r.json()["code"] == "OUTSIDE_AVAILABILITY", r.json()
    assert booked is not None
    appt, clinician = booked["appointment_id"], mint("clinician", "demo", clinician_id=booked["clinician_id"])

    p = call(local_server, "POST", f"/v1/appointments/{appt}/video/join", patient, HERE)
    assert p.status_code == 200, p.json()
    assert p.json()["waiting_room"] is True
    c = call(local_server, "POST", f"/v1/appointments/{appt}/video/join", clinician, {})
    assert c.status_code == 200 and c.json()["meeting"]["MeetingId"] == p.json()["meeting"]["MeetingId"]
    admitted = call(local_server, "POST", f"/v1/appointments/{appt}/video/admit", clinician)
    assert admitted.status_code == 200 and admitted.json()["status"] == "in_progress"

    meeting = p.json()["meeting"]["MeetingId"]
    for attendee in (p.json()["attendee"]["AttendeeId"], c.json()["attendee"]["AttendeeId"]):
        assert requests.post(f"{local_chime}/_emulator/meetings/{meeting}/attendees/{attendee}/connect",
                             timeout=10).status_code == 200
    seen = call(local_server, "GET", f"/v1/appointments/{appt}/video/attendance", clinician)
    assert seen.status_code == 200
    assert sorted((i["role"], i["event"]) for i in seen.json()["items"]) == [
        ("clinician", "joined"), ("patient", "joined")]

    assert call(local_server, "POST", f"/v1/appointments/{appt}/video/end", clinician).status_code == 200
    after = call(local_server, "POST", f"/v1/appointments/{appt}/video/join", patient, HERE)
    assert after.status_code == 409 and after.json()["code"] == "VISIT_ENDED"
    ended = call(local_server, "GET", f"/v1/appointments/{appt}/video/attendance", clinician).json()
    assert {i["event"] for i in ended["items"]} == {"joined", "meeting_ended"}
