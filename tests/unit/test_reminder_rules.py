"""Reminder times (DST, quiet hours, never in the past), link tokens, and message templates as data."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import links
from chalicelib.domain.reminders import in_quiet_hours, plan, plan_send_times, reminder_id
from chalicelib.domain.tenant_policy import ReminderPolicy
from chalicelib.services import messages

pytestmark = pytest.mark.unit
NY = "America/New_York"
DEFAULTS = ReminderPolicy()


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_defaults_are_24_hours_and_2_hours_before_on_both_channels():
    # GIVEN a Tuesday 10:00 EST visit booked on Monday 07:00 EST
    start, now = utc(2026, 3, 3, 15), utc(2026, 3, 2, 12)
    # WHEN planned THEN Monday 10:00 EST and Tuesday 08:00 EST (quiet hours end at 08:00, exclusive)
    assert plan_send_times(start, now, NY, DEFAULTS) == [(1440, utc(2026, 3, 2, 15)), (120, utc(2026, 3, 3, 13))]
    reminders = plan("t", "apt_1", start, now, NY, DEFAULTS, ("sms", "email"))
    assert sorted((r.channel, r.offset_minutes) for r in reminders) == [
        ("email", 120), ("email", 1440), ("sms", 120), ("sms", 1440)]
    assert {r.status for r in reminders} == {"scheduled"}


def test_the_day_before_reminder_keeps_the_local_time_across_the_spring_dst_change():
    # GIVEN a Sunday 8 March 10:00 EDT visit (the clocks went forward at 02:00 that morning)
    start = utc(2026, 3, 8, 14)
    times = dict(plan_send_times(start, utc(2026, 3, 2, 12), NY, DEFAULTS))
    # THEN the day-before reminder is at 10:00 EST on Saturday: 23 real hours before, not 09:00 local
    assert times[1440] == utc(2026, 3, 7, 15)
    assert start - times[1440] == timedelta(hours=23)
    assert times[120] == utc(2026, 3, 8, 12)  # 08:00 EDT: short offsets are real minutes


def test_the_day_before_reminder_across_the_autumn_change_is_25_real_hours_before():
    start = utc(2026, 11, 1, 15)  # Sunday 1 November 10:00 EST; the clocks went back at 02:00 that morning
    times = dict(plan_send_times(start, utc(2026, 10, 20, 12), NY, DEFAULTS))
    assert times[1440] == utc(2026, 10, 31, 14)  # Saturday 10:00 EDT
    assert start - times[1440] == timedelta(hours=25)


def test_a_reminder_in_quiet_hours_moves_to_the_evening_before():
    # GIVEN a Tuesday 09:00 EST visit: 2 h before is 07:00, inside quiet hours (21:00-08:00)
    start = utc(2026, 3, 3, 14)
    times = dict(plan_send_times(start, utc(2026, 3, 2, 12), NY, DEFAULTS))
    # THEN it goes out at 20:45 EST on Monday, the last quarter-hour before quiet hours
    assert times[120] == utc(2026, 3, 3, 1, 45)
    assert not in_quiet_hours(times[120], messages.ZoneInfo(NY), DEFAULTS)


def test_quiet_hours_are_the_patients_zone_not_utc():
    # 2 h before a 09:00 visit in Los Angeles is 07:00 PT (quiet there) though 15:00 UTC is daytime in UTC
    start = utc(2026, 3, 3, 17)
    times = dict(plan_send_times(start, utc(2026, 3, 2, 12), "America/Los_Angeles", DEFAULTS))
    assert times[120] == utc(2026, 3, 3, 4, 45)  # Monday 20:45 PST


def test_none_in_the_past_and_a_quiet_reminder_whose_evening_passed_moves_to_the_morning():
    # GIVEN it is Monday 23:00 EST and the visit is Tuesday 09:30 EST
    start, now = utc(2026, 3, 3, 14, 30), utc(2026, 3, 3, 4)
    times = dict(plan_send_times(start, now, NY, DEFAULTS))
    # THEN no day-before reminder (its moment passed) and the 07:30 one moves to 08:00, the end of quiet hours
    assert times == {120: utc(2026, 3, 3, 13)}
    assert all(at > now for at in times.values())


def test_a_visit_booked_an_hour_ahead_gets_no_reminder():
    now = utc(2026, 3, 2, 15)
    assert plan_send_times(now + timedelta(hours=1), now, NY, DEFAULTS) == []


def test_reminder_ids_are_stable_for_a_visit_time_and_change_when_it_moves():
    a = reminder_id("apt_1", utc(2026, 3, 3, 15), 1440, "sms")
    assert a == reminder_id("apt_1", utc(2026, 3, 3, 15), 1440, "sms")
    assert a != reminder_id("apt_1", utc(2026, 3, 4, 15), 1440, "sms")


KEY = b"k" * 32
NOW = utc(2026, 3, 2, 12)


def _claim(**changes: object) -> links.LinkClaim:
    base = {"tenant_id": "t1", "appointment_id": "apt_1", "action": "confirm", "nonce": "n1",
            "expires_at": NOW + timedelta(hours=1)}
    return links.LinkClaim(**{**base, **changes})  # type: ignore[arg-type]


def test_a_link_token_verifies_only_with_its_key_unchanged_and_unexpired():
    token = links.sign(_claim(), KEY)
    assert links.verify(token, KEY, NOW) == _claim()
    assert links.verify(token, b"other-key" * 4, NOW) is None
    assert links.verify(token, KEY, NOW + timedelta(hours=1)) is None  # expired
    signature = token.split(".")[1]
    forged_payload = links.sign(_claim(appointment_id="apt_2"), b"attacker").split(".")[0]
    assert links.verify(f"{forged_payload}.{signature}", KEY, NOW) is None
    for junk in ("", "a.b", "...", token + "x", None, 42, "é.é", "x" * 600):
        assert links.verify(junk, KEY, NOW) is None


def test_every_language_has_every_message_and_only_known_placeholders():
    table = messages.templates()
    assert {"en", "es"} <= set(table)
    for language, texts in table.items():
        assert set(messages.KEYS) <= set(texts), language
        for key, text in texts.items():
            names = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            assert key == "time_format" or names <= messages.PLACEHOLDERS, (language, key)


def test_messages_carry_time_place_and_links_in_the_patients_language():
    values = {"time": "T", "place": messages.place_of("video", None, "es"), "join_link": "https://j",
              "confirm_link": "https://c", "decline_link": "https://d"}
    sms = messages.render("reminder", "sms", "es", values)
    assert "Recordatorio" in sms.text and "visita por video" in sms.text and "https://j" in sms.text
    assert "https://c" in sms.text and "https://d" in sms.text
    clinic = messages.render("reminder", "email", "en", {**values, "place": "Midtown Clinic", "join_link": ""})
    assert "Midtown Clinic" in clinic.text and "Join:" not in clinic.text and clinic.subject.startswith("Appointment")
    assert messages.language_of("es-MX") == "es" and messages.language_of("fr") == "en"
    assert messages.language_of(None) == "en"
