"""A visit that needs confirmation (tenant no-show policy) and gets none by its release time is released:
cancelled, its slot freed for the waitlist, the patient told; confirmed, moved and kept visits are not."""

from __future__ import annotations

from datetime import datetime

import pytest

from chalicelib.api.jobs import confirmations_release, reminders_send
from local.background import scheduled_event
from tests.api.reminder_support import link_token, sms_to, unique_patient
from tests.api.test_links_and_no_shows import act, no_show
from tests.api.test_reminders_api import book, reminders

pytestmark = pytest.mark.api

WED_10_EST = "2026-03-04T10:00:00-05:00"  # 15:00 UTC; released 4 h before by default: 11:00 UTC


def at(clock, moment: str) -> None:
    clock.now = datetime.fromisoformat(moment)


def release_job() -> int:
    released: int = confirmations_release(scheduled_event("confirmations-release"), None)["released"]
    return released


@pytest.fixture
def strict(admin):
    """Confirmation required after one no-show (default release: 240 minutes before the start)."""
    r = admin.put("/v1/tenant/settings", {"reminders": {"no_shows": {"require_confirmation_after": 1}}})
    assert r.status == 200, r.json
    assert r.json["reminders"]["no_shows"]["release_unconfirmed_minutes_before"] == 240


@pytest.fixture
def missed_once(strict, scheduler, world, tenant):
    patient = unique_patient(scheduler, tenant)
    no_show(scheduler, book(scheduler, world, patient)["appointment_id"])
    return patient


def test_an_unconfirmed_visit_is_released_at_its_release_time_and_the_slot_goes_free(
        clock, scheduler, world, tenant, missed_once):
    apt_id = book(scheduler, world, missed_once, start=WED_10_EST)["appointment_id"]
    assert reminders(scheduler, apt_id)["confirmation"] == {"required": True, "status": "pending",
                                                            "release_at": "2026-03-04T11:00:00Z"}
    at(clock, "2026-03-04T10:59:00Z")
    assert release_job() == 0
    assert scheduler.get(f"/v1/appointments/{apt_id}").json["status"] == "booked"
    before = len(sms_to(missed_once["phone_e164"]))
    at(clock, "2026-03-04T11:00:00Z")
    assert release_job() == 1
    visit = scheduler.get(f"/v1/appointments/{apt_id}").json
    assert visit["status"] == "cancelled"
    assert visit["cancel_reason"] == "unconfirmed: no confirmation by the release time"
    listing = reminders(scheduler, apt_id)
    assert listing["confirmation"] == {"required": True, "status": "released", "release_at": "2026-03-04T11:00:00Z"}
    assert "scheduled" not in {i["status"] for i in listing["items"]}  # the 2 h reminder goes with the visit
    (notice,) = sms_to(missed_once["phone_e164"])[before:]
    assert "released" in notice and "Pat" not in notice and "90834" not in notice
    assert release_job() == 0  # a second run finds nothing left
    # the slot is free: someone else books it
    book(scheduler, world, unique_patient(scheduler, tenant, "Next Person"), start=WED_10_EST)


def test_a_confirmed_visit_is_not_released(api, clock, scheduler, world, missed_once):
    apt_id = book(scheduler, world, missed_once, start=WED_10_EST)["appointment_id"]
    at(clock, "2026-03-03T15:01:00Z")  # the 24 h reminder goes out with its links
    reminders_send(scheduled_event("reminders-send"), None)
    text = sms_to(missed_once["phone_e164"])[-1]
    assert act(api, apt_id, "confirm", link_token(text, "confirm")).status == 200
    at(clock, "2026-03-04T12:00:00Z")
    assert release_job() == 0
    assert scheduler.get(f"/v1/appointments/{apt_id}").json["status"] == "booked"
    assert reminders(scheduler, apt_id)["confirmation"]["status"] == "confirmed"


def test_a_rescheduled_visit_is_released_at_its_new_time_not_the_old_one(clock, scheduler, missed_once, world):
    apt_id = book(scheduler, world, missed_once, start=WED_10_EST)["appointment_id"]
    moved = scheduler.post(f"/v1/appointments/{apt_id}/reschedule", {"start": "2026-03-05T10:00:00-05:00"})
    assert moved.status == 200, moved.json
    assert reminders(scheduler, apt_id)["confirmation"]["release_at"] == "2026-03-05T11:00:00Z"
    at(clock, "2026-03-04T11:30:00Z")  # the old release time passed: its pointer no longer matches
    assert release_job() == 0
    assert scheduler.get(f"/v1/appointments/{apt_id}").json["status"] == "booked"
    at(clock, "2026-03-05T11:00:00Z")
    assert release_job() == 1
    assert scheduler.get(f"/v1/appointments/{apt_id}").json["status"] == "cancelled"


def test_a_tenant_that_keeps_unconfirmed_visits_only_flags_them(admin, clock, scheduler, world, missed_once):
    r = admin.put("/v1/tenant/settings", {"reminders": {"no_shows": {"require_confirmation_after": 1,
                                                                      "release_unconfirmed_minutes_before": None}}})
    assert r.status == 200 and r.json["reminders"]["no_shows"]["release_unconfirmed_minutes_before"] is None
    apt_id = book(scheduler, world, missed_once, start=WED_10_EST)["appointment_id"]
    assert reminders(scheduler, apt_id)["confirmation"] == {"required": True, "status": "pending", "release_at": None}
    at(clock, "2026-03-04T14:00:00Z")
    assert release_job() == 0
    assert scheduler.get(f"/v1/appointments/{apt_id}").json["status"] == "booked"


def test_a_visit_booked_inside_its_release_window_is_not_released(clock, scheduler, world, missed_once):
    at(clock, "2026-03-04T12:00:00Z")  # 3 h before the start: the release time is already past
    apt_id = book(scheduler, world, missed_once, start=WED_10_EST)["appointment_id"]
    assert reminders(scheduler, apt_id)["confirmation"] == {"required": True, "status": "pending", "release_at": None}
    assert release_job() == 0


@pytest.mark.parametrize("bad", [10, 0, -5, 10081, "soon", 1.5])
def test_the_release_setting_is_validated(admin, bad):
    r = admin.put("/v1/tenant/settings", {"reminders": {"no_shows": {"release_unconfirmed_minutes_before": bad}}})
    assert (r.status, r.json["code"]) == (400, "VALIDATION_ERROR")
    assert r.json["errors"][0]["field"] == "reminders.no_shows.release_unconfirmed_minutes_before"
