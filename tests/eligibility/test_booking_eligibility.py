"""Eligibility after commit: booking answers pending, the table stream's consumer asks the payer and the
result lands on the visit; the payer never fails, delays or undoes a booking."""

from __future__ import annotations

import pytest

from tests.eligibility.conftest import new_patient
from tests.support import weekday_rules

pytestmark = pytest.mark.api

TUESDAY_10_NY = "2026-03-03T10:00:00-05:00"


def booking(world, patient_id, **overrides):
    body = {"patient_id": patient_id, "clinician_id": world["clinician"]["clinician_id"], "service": "90834",
            "start": TUESDAY_10_NY, "modality": "video", "patient_jurisdiction": "US-NY"}
    body.update(overrides)
    return body


def _events(appointment):
    return [e for e in appointment["history"] if e["action"] == "eligibility_checked"]


def _landed(scheduler, drain_stream, appointment_id):
    """The visit once the stream consumer ran (as Lambda does after the commit)."""
    drain_stream()
    return scheduler.get(f"/v1/appointments/{appointment_id}").json


def test_booking_answers_pending_and_the_consumer_lands_the_verified_result(world, scheduler, x12_payer, sim,
                                                                            drain_stream):
    patient_id = new_patient(scheduler, x12_payer)

    r = scheduler.post("/v1/appointments", booking(world, patient_id))

    assert r.status == 201, r.json
    assert r.json["eligibility"] == {"status": "pending"} and _events(r.json) == []
    assert sim.received == 0  # nobody asked the payer before the answer
    after = _landed(scheduler, drain_stream, r.json["appointment_id"])
    assert after["eligibility"] == {"status": "verified"}
    [event] = _events(after)
    assert event["status"] == "verified" and event["check_id"].startswith("elg_") and event["role"] == "system"
    assert event["for_version"] == str(r.json["version"])
    assert after["version"] == r.json["version"] + 1 and after["updated_at"] == r.json["updated_at"]
    check = scheduler.get(f"/v1/eligibility/checks/{event['check_id']}").json
    assert (check["status"], check["service"], check["modality"]) == ("active", "90834", "video")
    assert check["date_of_service"] == "2026-03-03" and check["service_type_codes"] == ["MH", "A6"]
    assert sim.received == 1


def test_a_redelivered_batch_asks_the_payer_once_and_lands_once(world, scheduler, x12_payer, sim, drain_stream,
                                                                   stream_pump):
    patient_id = new_patient(scheduler, x12_payer)
    r = scheduler.post("/v1/appointments", booking(world, patient_id))
    drain_stream()
    landed = scheduler.get(f"/v1/appointments/{r.json['appointment_id']}").json

    _deliver_everything_again(stream_pump)

    again = scheduler.get(f"/v1/appointments/{r.json['appointment_id']}").json
    assert sim.received == 1
    assert again["version"] == landed["version"] and len(_events(again)) == 1


def _deliver_everything_again(stream_pump):
    """Lambda retrying every batch so far: the shard iterators go back to the stream's start."""
    stream_pump.iterators.clear()
    assert stream_pump.drain() > 0


def test_the_date_of_service_is_the_local_date_of_the_visit_not_the_utc_date(world, admin, scheduler, x12_payer,
                                                                             drain_stream):
    clinician_id = world["clinician"]["clinician_id"]
    admin.put(f"/v1/clinicians/{clinician_id}/availability",
              {"rules": weekday_rules("09:00", "23:00", site_id=world["site"]["site_id"]), "buffer_minutes": 0})
    patient_id = new_patient(scheduler, x12_payer)

    r = scheduler.post("/v1/appointments", booking(world, patient_id, start="2026-03-03T21:30:00-05:00"))

    assert r.status == 201 and r.json["start"] == "2026-03-04T02:30:00Z"
    after = _landed(scheduler, drain_stream, r.json["appointment_id"])
    check = scheduler.get(f"/v1/eligibility/checks/{_events(after)[0]['check_id']}").json
    assert check["date_of_service"] == "2026-03-03"


def _record_uncovered_modalities(admin) -> None:
    # By default the routing rule refuses a modality the payer does not cover (tests/api/test_routing.py);
    # a tenant that lets the scheduler decide switches it off, and booking records not_covered instead.
    assert admin.put("/v1/tenant/settings", {"routing": {"disabled_rules": ["route-payer-telehealth-coverage"]}}
                     ).status == 200


def test_a_modality_the_payer_does_not_cover_is_not_covered(world, scheduler, admin, payer, x12_payer, sim,
                                                            drain_stream):
    _record_uncovered_modalities(admin)
    payer.put(f"/v1/payers/{x12_payer}", {"name": "Acme", "connector": {"kind": "x12_http", "url": f"{sim.url}/x12"},
                                          "telehealth_policy": {"phone": {"covered": False}}})
    patient_id = new_patient(scheduler, x12_payer)

    r = scheduler.post("/v1/appointments", booking(world, patient_id, modality="phone"))

    assert r.status == 201 and r.json["eligibility"] == {"status": "pending"}
    after = _landed(scheduler, drain_stream, r.json["appointment_id"])
    assert after["eligibility"] == {"status": "not_covered"}
    assert after["status"] == "booked"  # recorded, not refused: the scheduler decides what to do


def test_an_inactive_member_is_not_covered_and_no_coverage_is_unknown(world, scheduler, x12_payer, drain_stream):
    inactive = new_patient(scheduler, x12_payer, member_id="W100200301", name="John Roe", birth="1970-01-01")
    uninsured = new_patient(scheduler, None, name="Nora None")

    a = scheduler.post("/v1/appointments", booking(world, inactive)).json
    b = scheduler.post("/v1/appointments", booking(world, uninsured, start="2026-03-03T11:00:00-05:00")).json

    assert (a["eligibility"], b["eligibility"]) == ({"status": "pending"}, {"status": "unknown"})
    assert _landed(scheduler, drain_stream, a["appointment_id"])["eligibility"] == {"status": "not_covered"}
    b = scheduler.get(f"/v1/appointments/{b['appointment_id']}").json
    assert b["eligibility"] == {"status": "unknown"} and _events(b) == [] and b["version"] == 1


def test_a_payer_that_is_down_leaves_the_check_pending_and_the_worker_finishes_it(world, scheduler, x12_payer,
                                                                                    sim, clock, drain_stream,
                                                                                    services):
    sim.knobs(http_status=503)
    patient_id = new_patient(scheduler, x12_payer)
    r = scheduler.post("/v1/appointments", booking(world, patient_id))
    pending = _landed(scheduler, drain_stream, r.json["appointment_id"])
    assert pending["eligibility"] == {"status": "pending"}
    check_id = _events(pending)[0]["check_id"]
    asked = sim.received

    assert services.visit_eligibility.finish_pending() == {"asked": 0, "settled": 0}  # not due yet
    sim.knobs(http_status=None)
    clock.advance(seconds=10)
    assert _run_pending_job() == {"asked": 1, "settled": 1}  # nobody read the check

    after = scheduler.get(f"/v1/appointments/{r.json['appointment_id']}").json
    assert after["eligibility"] == {"status": "verified"}
    assert [(e["status"], e["check_id"]) for e in _events(after)] == [("pending", check_id), ("verified", check_id)]
    assert sim.received == asked + 1
    drain_stream()  # the landed result is an eligibility-only change: nothing runs again
    assert sim.received == asked + 1 and _run_pending_job() == {"asked": 0, "settled": 0}


def test_a_check_still_pending_is_due_again_later_and_a_read_can_finish_it_too(world, scheduler, x12_payer, sim,
                                                                                clock, drain_stream):
    sim.knobs(http_status=503)
    patient_id = new_patient(scheduler, x12_payer)
    r = scheduler.post("/v1/appointments", booking(world, patient_id))
    check_id = _events(_landed(scheduler, drain_stream, r.json["appointment_id"]))[0]["check_id"]

    clock.advance(seconds=10)
    assert _run_pending_job() == {"asked": 1, "settled": 0}  # still down: due again at its next attempt
    sim.knobs(http_status=None)
    clock.advance(seconds=60)
    assert scheduler.get(f"/v1/eligibility/checks/{check_id}").json["status"] == "active"  # a read finished it
    assert scheduler.get(f"/v1/appointments/{r.json['appointment_id']}").json["eligibility"] == {"status": "verified"}
    assert _run_pending_job() == {"asked": 0, "settled": 0}  # the worker finds it done and drops its pointer


def _run_pending_job():
    from chalicelib.api.jobs import eligibility_pending
    from local.background import scheduled_event

    return eligibility_pending(scheduled_event("eligibility-pending"), None)


def test_a_payer_error_or_an_unreachable_payer_never_fails_the_booking(world, scheduler, payer, payer_id, sim,
                                                                        drain_stream):
    payer.put(f"/v1/payers/{payer_id}", {"name": "Gone", "connector": {"kind": "x12_http",
                                                                       "url": "http://127.0.0.1:9/x12"}})
    unreachable = new_patient(scheduler, payer_id)
    a = scheduler.post("/v1/appointments", booking(world, unreachable))
    drain_stream()  # asked while the payer is unreachable
    payer.put(f"/v1/payers/{payer_id}", {"name": "Refuses", "connector": {"kind": "x12_http",
                                                                          "url": f"{sim.url}/x12"}})
    sim.knobs(http_status=400)
    refusing = new_patient(scheduler, payer_id, name="Jane Other")
    b = scheduler.post("/v1/appointments", booking(world, refusing, start="2026-03-03T11:00:00-05:00"))

    assert (a.status, b.status) == (201, 201)
    drain_stream()
    a, b = (scheduler.get(f"/v1/appointments/{x.json['appointment_id']}").json for x in (a, b))
    assert a["eligibility"] == {"status": "pending"} and b["eligibility"] == {"status": "unknown"}
    assert scheduler.get(f"/v1/eligibility/checks/{_events(b)[0]['check_id']}").json["error"] == "http_400"


def test_switching_modality_asks_again(world, scheduler, admin, payer, x12_payer, sim, drain_stream):
    _record_uncovered_modalities(admin)
    payer.put(f"/v1/payers/{x12_payer}", {"name": "Acme", "connector": {"kind": "x12_http", "url": f"{sim.url}/x12"},
                                          "telehealth_policy": {"phone": {"covered": False}}})
    patient_id = new_patient(scheduler, x12_payer)
    a = scheduler.post("/v1/appointments", booking(world, patient_id)).json
    assert _landed(scheduler, drain_stream, a["appointment_id"])["eligibility"] == {"status": "verified"}

    r = scheduler.post(f"/v1/appointments/{a['appointment_id']}/switch-modality", {"modality": "phone"})

    assert r.status == 200 and r.json["modality"] == "phone"
    after = _landed(scheduler, drain_stream, a["appointment_id"])
    assert after["eligibility"] == {"status": "not_covered"}
    assert [e["status"] for e in _events(after)] == ["verified", "not_covered"]
    # Same member, service and date: the payer's answer comes from the cache; the policy decides the modality.
    assert sim.received == 1


def test_rescheduling_asks_again_only_when_the_visit_moves_into_another_plan_year(world, scheduler, x12_payer, sim,
                                                                                   drain_stream):
    patient_id = new_patient(scheduler, x12_payer)
    a = scheduler.post("/v1/appointments", booking(world, patient_id)).json
    drain_stream()

    same_year = scheduler.post(f"/v1/appointments/{a['appointment_id']}/reschedule",
                               {"start": "2026-03-05T10:00:00-05:00"})
    assert same_year.status == 200, same_year.json
    landed = _landed(scheduler, drain_stream, a["appointment_id"])
    assert landed["eligibility"] == {"status": "verified"} and len(_events(landed)) == 1
    assert sim.received == 1

    next_year = scheduler.post(f"/v1/appointments/{a['appointment_id']}/reschedule",
                               {"start": "2027-01-05T10:00:00-05:00"})

    assert next_year.status == 200, next_year.json
    landed = _landed(scheduler, drain_stream, a["appointment_id"])
    assert landed["eligibility"] == {"status": "not_covered"}  # the plan ends 2026-12-31
    assert [e["status"] for e in _events(landed)] == ["verified", "not_covered"]
    assert sim.received == 2


def test_a_user_change_racing_the_eligibility_result_is_kept(world, scheduler, x12_payer, sim, drain_stream,
                                                             services, monkeypatch):
    patient_id = new_patient(scheduler, x12_payer)
    a = scheduler.post("/v1/appointments", booking(world, patient_id)).json
    checks = services.eligibility.checks
    ask = checks.check_for_visit
    cancelled = []

    def cancelled_while_the_payer_answers(*args, **kwargs):
        # The consumer read the visit at version 1; the scheduler cancels it before the result lands.
        r = scheduler.post(f"/v1/appointments/{a['appointment_id']}/cancel", {"reason": "patient"})
        assert r.status == 200
        cancelled.append(r.json["version"])
        return ask(*args, **kwargs)

    monkeypatch.setattr(checks, "check_for_visit", cancelled_while_the_payer_answers)
    drain_stream()

    after = scheduler.get(f"/v1/appointments/{a['appointment_id']}").json
    assert after["status"] == "cancelled" and after["cancel_reason"] == "patient"  # the user's change stands
    assert after["eligibility"] == {"status": "verified"}  # landed on top of it (same question), once
    assert [e["action"] for e in after["history"]] == ["booked", "cancelled", "eligibility_checked"]
    assert after["version"] == cancelled[0] + 1 and sim.received == 1


def test_a_visit_moved_to_another_question_meanwhile_is_checked_for_its_new_question(
        world, scheduler, admin, payer, x12_payer, sim, drain_stream, services, monkeypatch):
    _record_uncovered_modalities(admin)
    payer.put(f"/v1/payers/{x12_payer}", {"name": "Acme", "connector": {"kind": "x12_http", "url": f"{sim.url}/x12"},
                                          "telehealth_policy": {"phone": {"covered": False}}})
    patient_id = new_patient(scheduler, x12_payer)
    a = scheduler.post("/v1/appointments", booking(world, patient_id)).json
    checks = services.eligibility.checks
    ask = checks.check_for_visit
    switched = []

    def switched_while_the_payer_answers(*args, **kwargs):
        if not switched:
            r = scheduler.post(f"/v1/appointments/{a['appointment_id']}/switch-modality", {"modality": "phone"})
            switched.append(r.status)
        return ask(*args, **kwargs)

    monkeypatch.setattr(checks, "check_for_visit", switched_while_the_payer_answers)
    drain_stream()

    after = scheduler.get(f"/v1/appointments/{a['appointment_id']}").json
    assert switched == [200] and after["modality"] == "phone"
    # The video answer did not land on the phone visit; the switch was checked on its own.
    assert after["eligibility"] == {"status": "not_covered"}
    assert [e["status"] for e in _events(after)] == ["not_covered"]


def test_a_fresh_cached_answer_is_the_bookings_answer_at_once(world, scheduler, x12_payer, sim, drain_stream):
    patient_id = new_patient(scheduler, x12_payer)
    first = scheduler.post("/v1/appointments", booking(world, patient_id)).json
    assert _landed(scheduler, drain_stream, first["appointment_id"])["eligibility"] == {"status": "verified"}

    # Same member, clinician, service and date of service: the payer's answer is in the cache.
    second = scheduler.post("/v1/appointments", booking(world, patient_id, start="2026-03-03T13:00:00-05:00"))

    assert second.status == 201 and second.json["eligibility"] == {"status": "verified"}
    after = _landed(scheduler, drain_stream, second.json["appointment_id"])
    assert after["eligibility"] == {"status": "verified"} and len(_events(after)) == 1  # the check is recorded
    assert sim.received == 1  # nobody asked the payer a second time
