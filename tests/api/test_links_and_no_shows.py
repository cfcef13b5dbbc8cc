"""Confirm/decline links (no login; forged, expired, reused, foreign -> 404) and no-show counts and policy."""

from __future__ import annotations

import pytest

from chalicelib.api.jobs import reminders_send
from local.background import scheduled_event
from tests.api.reminder_support import link_token, sms_to, unique_patient
from tests.api.test_reminders_api import TUE_10_EST, book, reminders
from tests.support import after_commit

pytestmark = pytest.mark.api


def send_due() -> None:
    reminders_send(scheduled_event("reminders-send"), None)


@pytest.fixture
def reminded(clock, scheduler, world, tenant):
    """A video visit Tuesday 10:00 EST whose day-before SMS went out (Monday 15:01 UTC)."""
    patient = unique_patient(scheduler, tenant)
    apt = book(scheduler, world, patient)
    clock.advance(hours=3, minutes=1)
    send_due()
    (text,) = sms_to(patient["phone_e164"])
    return {"patient": patient, "apt": apt, "text": text}


def act(api, appointment_id, action, token):
    return api.call("POST", f"/v1/appointments/{appointment_id}/{action}", {"token": token})


def test_confirm_with_the_link_needs_no_login_and_works_once(api, scheduler, reminded):
    apt_id = reminded["apt"]["appointment_id"]
    token = link_token(reminded["text"], "confirm")
    r = act(api, apt_id, "confirm", token)
    assert r.status == 200, r.json
    assert r.json == {"appointment_id": apt_id, "status": "booked", "confirmation": "confirmed"}
    assert reminders(scheduler, apt_id)["confirmation"]["status"] == "confirmed"
    again = act(api, apt_id, "confirm", token)
    assert (again.status, again.json["code"]) == (404, "NOT_FOUND")


def test_a_token_is_for_one_action_on_one_appointment(api, scheduler, world, reminded, tenant):
    apt_id = reminded["apt"]["appointment_id"]
    other = book(scheduler, world, unique_patient(scheduler, tenant, "Other One"), start="2026-03-03T13:00:00-05:00")
    confirm, decline = link_token(reminded["text"], "confirm"), link_token(reminded["text"], "decline")
    for appointment_id, action, token in ((other["appointment_id"], "confirm", confirm),  # foreign appointment
                                          (apt_id, "decline", confirm),  # another action
                                          (apt_id, "confirm", decline)):
        r = act(api, appointment_id, action, token)
        assert (r.status, r.json["code"]) == (404, "NOT_FOUND"), (appointment_id, action)
    # nothing changed, and the genuine use still works afterwards
    assert scheduler.get(f"/v1/appointments/{other['appointment_id']}").json["status"] == "booked"
    assert act(api, apt_id, "confirm", confirm).status == 200


def test_forged_and_malformed_tokens_are_404_and_the_detail_says_nothing_more(api, reminded):
    apt_id = reminded["apt"]["appointment_id"]
    token = link_token(reminded["text"], "confirm")
    payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    answers = [act(api, apt_id, "confirm", t) for t in (f"{payload}.{flipped}", "x.y", "not-a-token", "a" * 512)]
    assert {(r.status, r.json["code"]) for r in answers} == {(404, "NOT_FOUND")}
    assert len({r.json["detail"] for r in answers}) == 1
    missing = api.call("POST", f"/v1/appointments/{apt_id}/confirm", {})
    assert (missing.status, missing.json["errors"][0]["field"]) == (400, "token")


def test_an_expired_link_is_404(api, clock, reminded):
    clock.advance(days=1)  # past the visit's start, which is when its links expire
    r = act(api, reminded["apt"]["appointment_id"], "confirm", link_token(reminded["text"], "confirm"))
    assert (r.status, r.json["code"]) == (404, "NOT_FOUND")


def test_decline_cancels_the_visit_frees_the_slot_and_cancels_the_other_reminders(api, scheduler, world, reminded,
                                                                                 tenant):
    apt_id = reminded["apt"]["appointment_id"]
    r = act(api, apt_id, "decline", link_token(reminded["text"], "decline"))
    assert r.status == 200, r.json
    assert r.json == {"appointment_id": apt_id, "status": "cancelled", "confirmation": "declined"}
    assert scheduler.get(f"/v1/appointments/{apt_id}").json["status"] == "cancelled"
    listing = reminders(scheduler, apt_id)
    assert {i["status"] for i in listing["items"]} == {"sent", "cancelled"}
    assert listing["confirmation"]["status"] == "declined"
    # the slot is free again: someone else books it
    book(scheduler, world, unique_patient(scheduler, tenant, "Next Person"), start=TUE_10_EST)
    # and the confirm link of a declined visit is spent for nothing: 409, not a second change
    late = act(api, apt_id, "confirm", link_token(reminded["text"], "confirm"))
    assert (late.status, late.json["code"]) == (409, "INVALID_TRANSITION")


def no_show(scheduler, apt_id):
    r = scheduler.post(f"/v1/appointments/{apt_id}/no-show")
    assert r.status == 200, r.json
    after_commit()  # the tally is the stream consumer's


def test_no_shows_are_counted_once_per_visit_and_shown_to_schedulers_only(api, clock, scheduler, world, tenant):
    patient = unique_patient(scheduler, tenant)
    apt = book(scheduler, world, patient)
    counts = scheduler.get(f"/v1/patients/{patient['patient_id']}/no-shows")
    assert counts.status == 200 and counts.json["no_shows"] == 0
    clock.advance(hours=4)
    no_show(scheduler, apt["appointment_id"])
    assert scheduler.post(f"/v1/appointments/{apt['appointment_id']}/no-show").status == 409
    body = scheduler.get(f"/v1/patients/{patient['patient_id']}/no-shows").json
    assert body["no_shows"] == 1 and body["last_no_show_at"] is not None
    assert body["policy"] == {"confirmation_required": False, "video_first": False}
    me = api.as_role("patient", patient_id=patient["patient_id"])
    r = me.get(f"/v1/patients/{patient['patient_id']}/no-shows")
    assert (r.status, r.json["code"]) == (403, "FORBIDDEN")


def test_after_n_no_shows_tenant_policy_requires_confirmation_of_new_bookings(admin, clock, scheduler, world,
                                                                             tenant):
    r = admin.put("/v1/tenant/settings", {"reminders": {"no_shows": {"require_confirmation_after": 1,
                                                                      "video_first_after": 1}}})
    assert r.status == 200, r.json
    patient = unique_patient(scheduler, tenant)
    first = book(scheduler, world, patient)
    assert reminders(scheduler, first["appointment_id"])["confirmation"] == {"required": False, "status": None,
                                                                             "release_at": None}
    no_show(scheduler, first["appointment_id"])
    flags = scheduler.get(f"/v1/patients/{patient['patient_id']}/no-shows").json["policy"]
    assert flags == {"confirmation_required": True, "video_first": True}
    second = book(scheduler, world, patient, start="2026-03-04T10:00:00-05:00")
    assert reminders(scheduler, second["appointment_id"])["confirmation"] == {"required": True, "status": "pending",
                                                                        "release_at": "2026-03-04T11:00:00Z"}


def test_after_n_no_shows_routing_puts_the_patient_on_video_first(admin, clock, scheduler, world, tenant):
    """The tenant's no-show policy switches on the routing rule `route-no-show-video-first` for that patient."""
    patient = unique_patient(scheduler, tenant)
    window = {"from": "2026-03-03T00:00:00Z", "to": "2026-03-06T00:00:00Z"}
    ask = {"patient_id": patient["patient_id"], "service": "90834", "window": window, "limit": 50}

    def rule_ids(body):
        return {x["rule_id"] for o in body["options"] for x in o["reasons"]} | \
            {x["rule_id"] for x in body["explanation"]}

    before = scheduler.post("/v1/routing/recommendations", ask)
    assert before.status == 200, before.json
    assert "route-no-show-video-first" not in rule_ids(before.json)
    assert admin.put("/v1/tenant/settings", {"reminders": {"no_shows": {"video_first_after": 1}}}).status == 200
    no_show(scheduler, book(scheduler, world, patient)["appointment_id"])
    after = scheduler.post("/v1/routing/recommendations", ask).json
    assert "route-no-show-video-first" in rule_ids(after), (after["options"][:2], after["explanation"])
    assert after["options"][0]["modality"] == "video"
