"""Reminders through the API and the scheduled job, on moto's DynamoDB, SNS and SES, on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.api.jobs import reminders_send as _reminders_send
from local.background import scheduled_event
from tests.api.reminder_support import emails_to, sms_to, unique_patient
from tests.support import after_commit

pytestmark = pytest.mark.api


def reminders_send(_event: object) -> dict[str, int]:
    """The scheduled handler, invoked as EventBridge invokes it (the stream delivered first, as in real time)."""
    after_commit()
    return _reminders_send(scheduled_event("reminders-send"), None)

TUE_10_EST = "2026-03-03T10:00:00-05:00"  # 15:00 UTC; the fake clock starts Monday 2 March 12:00 UTC


def book(scheduler, world, patient, start=TUE_10_EST, modality="video", **extra):
    body = {"patient_id": patient["patient_id"], "clinician_id": world["clinician"]["clinician_id"],
            "service": "90834", "start": start, "modality": modality, "patient_jurisdiction": "US-NY", **extra}
    r = scheduler.post("/v1/appointments", body)
    assert r.status == 201, r.json
    after_commit()  # the consumer runs within a second of the commit, before the test's clock moves on
    return r.json


def reminders(caller, appointment_id):
    after_commit()  # reminders are scheduled, moved and cancelled by the stream consumer
    r = caller.get(f"/v1/appointments/{appointment_id}/reminders")
    assert r.status == 200, r.json
    return r.json


def scheduled(caller, appointment_id):
    return sorted((i["send_at"], i["channel"]) for i in reminders(caller, appointment_id)["items"]
                  if i["status"] == "scheduled")


@pytest.fixture
def patient(scheduler, tenant):
    return unique_patient(scheduler, tenant)


def test_booking_schedules_sms_and_email_24_h_and_2_h_before(scheduler, world, patient):
    apt = book(scheduler, world, patient)
    assert scheduled(scheduler, apt["appointment_id"]) == [
        ("2026-03-02T15:00:00Z", "email"), ("2026-03-02T15:00:00Z", "sms"),
        ("2026-03-03T13:00:00Z", "email"), ("2026-03-03T13:00:00Z", "sms")]
    listing = reminders(scheduler, apt["appointment_id"])
    assert all(i["reminder_id"].startswith("rem_") and i["sent_at"] is None for i in listing["items"])
    assert listing["confirmation"] == {"required": False, "status": None, "release_at": None}


def test_the_patient_sees_their_reminders_and_another_patient_gets_404(api, scheduler, world, patient, tenant):
    apt = book(scheduler, world, patient)
    me = api.as_role("patient", patient_id=patient["patient_id"])
    assert len(reminders(me, apt["appointment_id"])["items"]) == 4
    stranger = api.as_role("patient", patient_id=unique_patient(scheduler, tenant, "Other One")["patient_id"])
    r = stranger.get(f"/v1/appointments/{apt['appointment_id']}/reminders")
    assert (r.status, r.json["code"]) == (404, "NOT_FOUND")


def test_a_quiet_hours_reminder_moves_to_the_evening_before(scheduler, world, patient):
    apt = book(scheduler, world, patient, start="2026-03-03T09:00:00-05:00")
    # 2 h before 09:00 EST is 07:00 EST, quiet: it goes out at 20:45 EST on Monday (01:45 UTC Tuesday)
    assert [at for at, ch in scheduled(scheduler, apt["appointment_id"]) if ch == "sms"] == [
        "2026-03-02T14:00:00Z", "2026-03-03T01:45:00Z"]


def test_reschedule_moves_the_reminders_and_cancels_the_old_ones(scheduler, world, patient):
    apt = book(scheduler, world, patient)
    r = scheduler.post(f"/v1/appointments/{apt['appointment_id']}/reschedule", {"start": "2026-03-04T11:00:00-05:00"})
    assert r.status == 200, r.json
    items = reminders(scheduler, apt["appointment_id"])["items"]
    assert sorted((i["send_at"], i["channel"]) for i in items if i["status"] == "scheduled") == [
        ("2026-03-03T16:00:00Z", "email"), ("2026-03-03T16:00:00Z", "sms"),
        ("2026-03-04T14:00:00Z", "email"), ("2026-03-04T14:00:00Z", "sms")]
    assert sorted(i["send_at"] for i in items if i["status"] == "cancelled") == [
        "2026-03-02T15:00:00Z", "2026-03-02T15:00:00Z", "2026-03-03T13:00:00Z", "2026-03-03T13:00:00Z"]


def test_cancel_cancels_every_reminder_and_the_job_sends_none(services, clock, scheduler, world, patient):
    apt = book(scheduler, world, patient)
    assert scheduler.post(f"/v1/appointments/{apt['appointment_id']}/cancel", {"reason": "x"}).status == 200
    assert {i["status"] for i in reminders(scheduler, apt["appointment_id"])["items"]} == {"cancelled"}
    clock.advance(hours=3, minutes=1)
    reminders_send({})
    assert sms_to(patient["phone_e164"]) == [] and emails_to(patient["email"]) == []


def test_the_job_sends_a_due_reminder_once_by_sms_and_email_with_minimum_phi(services, clock, scheduler, world,
                                                                             patient):
    apt = book(scheduler, world, patient)
    clock.advance(hours=3, minutes=1)  # Monday 15:01 UTC: the day-before reminders are due
    first = reminders_send({})
    again = reminders_send({})  # a retried run
    assert first["sent"] >= 2 and again["sent"] == 0
    texts = sms_to(patient["phone_e164"])
    mails = emails_to(patient["email"])
    assert len(texts) == 1 and len(mails) == 1
    text = texts[0]
    assert "Mar 03, 2026 10:00 AM EST" in text and "video visit" in text
    assert f"/visit/{apt['appointment_id']}/join" in text and "/confirm?token=" in text and "/decline?token=" in text
    for secret in ("Pat", "Example", "Dr. Test", "90834", "psycholog", "1990"):
        assert secret not in text and secret not in mails[0].body, secret
    assert mails[0].subject.startswith("Appointment reminder")
    statuses = {(i["send_at"], i["status"]) for i in reminders(scheduler, apt["appointment_id"])["items"]}
    assert statuses == {("2026-03-02T15:00:00Z", "sent"), ("2026-03-03T13:00:00Z", "scheduled")}


def test_an_overlapping_run_never_sends_a_claimed_reminder_twice(services, clock, scheduler, world, patient):
    """Run B starts while run A is in the middle of sending: B finds A's claim and sends nothing again."""
    book(scheduler, world, patient)
    clock.advance(hours=3, minutes=1)
    real = services.reminders.sender
    nested: list[int] = []

    class Overlapping:
        def sms(self, phone, text):
            if not nested:
                nested.append(len(services.reminders.send_due()))  # run B, inside run A's send
            return real().sms(phone, text)

        def email(self, to, subject, body):
            return real().email(to, subject, body)

    services.reminders.sender = Overlapping
    services.reminders.send_due()
    assert len(sms_to(patient["phone_e164"])) == 1
    assert len(emails_to(patient["email"])) == 1


def test_spanish_speaking_patients_get_spanish_text_and_clinic_visits_name_the_clinic(clock, scheduler, world,
                                                                                     tenant):
    patient = unique_patient(scheduler, tenant, "Ana Lopez", preferred_language="es")
    book(scheduler, world, patient, modality="in_person", site_id=world["site"]["site_id"])
    clock.advance(hours=3, minutes=1)
    reminders_send({})
    (text,) = sms_to(patient["phone_e164"])
    assert text.startswith("Recordatorio") and "03/03/2026 10:00 EST" in text and "Midtown Clinic" in text
    assert "/join" not in text and "Ana" not in text


def test_tenant_policy_sets_offsets_and_channels(admin, scheduler, world, patient):
    r = admin.put("/v1/tenant/settings", {"reminders": {"offsets_minutes": [2880, 60], "channels": ["sms"]}})
    assert r.status == 200, r.json
    assert r.json["reminders"]["offsets_minutes"] == [2880, 60] and r.json["reminders"]["channels"] == ["sms"]
    apt = book(scheduler, world, patient, start="2026-03-05T10:00:00-05:00")
    assert scheduled(scheduler, apt["appointment_id"]) == [("2026-03-03T15:00:00Z", "sms"),
                                                           ("2026-03-05T14:00:00Z", "sms")]
    # a PUT that leaves reminders out keeps them
    assert admin.put("/v1/tenant/settings", {}).json["reminders"]["channels"] == ["sms"]


def test_a_bad_reminder_policy_is_a_400_naming_the_field(admin):
    r = admin.put("/v1/tenant/settings", {"reminders": {"offsets_minutes": [5], "quiet_start": "25:00"}})
    assert (r.status, r.json["code"]) == (400, "VALIDATION_ERROR")
    fields = {e["field"] for e in r.json["errors"]}
    assert any("offsets_minutes" in f for f in fields) and any("quiet_start" in f for f in fields)


def test_reminder_send_time_is_utc_in_the_listing(scheduler, world, patient):
    apt = book(scheduler, world, patient)
    for item in reminders(scheduler, apt["appointment_id"])["items"]:
        assert datetime.fromisoformat(item["send_at"].replace("Z", "+00:00")).tzinfo == UTC


def test_reminders_are_written_after_commit_by_the_stream_consumer_not_the_request(scheduler, world, patient):
    body = {"patient_id": patient["patient_id"], "clinician_id": world["clinician"]["clinician_id"],
            "service": "90834", "start": TUE_10_EST, "modality": "video", "patient_jurisdiction": "US-NY"}
    apt = scheduler.post("/v1/appointments", body).json
    before = scheduler.get(f"/v1/appointments/{apt['appointment_id']}/reminders").json
    assert before["items"] == []  # the request wrote none
    assert len(scheduled(scheduler, apt["appointment_id"])) == 4  # the consumer did


def test_a_redelivered_batch_schedules_and_sends_nothing_twice(services, clock, scheduler, world, patient,
                                                               stream_pump):
    apt = book(scheduler, world, patient)
    clock.advance(hours=3, minutes=1)
    assert reminders_send({})["sent"] >= 2  # this module's other visits may be due too
    # Lambda delivers every batch again: the booking is followed once more
    stream_pump.iterators.clear()
    assert stream_pump.drain() > 0
    assert reminders_send({})["sent"] == 0
    assert len(sms_to(patient["phone_e164"])) == 1 and len(emails_to(patient["email"])) == 1
    statuses = sorted((i["send_at"], i["channel"], i["status"]) for i in reminders(scheduler, apt["appointment_id"])
                      ["items"])
    assert statuses == [("2026-03-02T15:00:00Z", "email", "sent"), ("2026-03-02T15:00:00Z", "sms", "sent"),
                        ("2026-03-03T13:00:00Z", "email", "scheduled"), ("2026-03-03T13:00:00Z", "sms", "scheduled")]
