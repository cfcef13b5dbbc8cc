"""Lawful on every path: each door re-decides licensure for where care happens at that moment.

The clinic world: a New York site and a psychologist licensed in New York only. The patient lives in
New Jersey. In person at the New York site is lawful (care happens at the site); anything by video
or phone with the patient in New Jersey is not.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import clinic_with_psychologist, clinician_body, patient_body, site_body, weekday_rules

pytestmark = pytest.mark.api

TUESDAY_10_NY = "2026-03-03T10:00:00-05:00"
TUESDAY_11_NY = "2026-03-03T11:00:00-05:00"


@pytest.fixture
def nj_world(api, admin, scheduler) -> dict[str, Any]:
    world = clinic_with_psychologist(admin)
    world["patient"] = scheduler.post("/v1/patients", patient_body(home="US-NJ")).json
    return world


def _book(scheduler, world, **over: Any):
    body = {"patient_id": world["patient"]["patient_id"], "clinician_id": world["clinician"]["clinician_id"],
            "service": "90834", "start": TUESDAY_10_NY, "modality": "in_person",
            "site_id": world["site"]["site_id"], **over}
    return scheduler.post("/v1/appointments", body)


def test_switching_an_in_person_visit_to_video_decides_for_where_the_patient_is_not_the_site(nj_world, scheduler):
    # GIVEN an NJ patient booked in person at the NY site: lawful, care happens in New York
    booked = _book(scheduler, nj_world)
    assert booked.status == 201, booked.json
    assert booked.json["licensure"]["care_jurisdiction"] == "US-NY"
    assert booked.json["patient_jurisdiction"] == "US-NJ"  # the patient's own location, not the site's
    # WHEN the visit switches to video
    r = scheduler.post(f"/v1/appointments/{booked.json['appointment_id']}/switch-modality",
                       {"modality": "video", "reason": "snow"})
    # THEN care would happen in New Jersey, where the clinician holds no licence
    assert r.status == 422, r.json
    assert r.json["code"] == "NOT_LICENSED_IN_JURISDICTION"
    assert r.json["care_jurisdiction"] == "US-NJ"
    assert "NO_LICENSE_IN_JURISDICTION" in {x["code"] for x in r.json["reasons"]}
    # AND nothing changed
    again = scheduler.get(f"/v1/appointments/{booked.json['appointment_id']}").json
    assert again["modality"] == "in_person" and again["version"] == booked.json["version"]


DOORS = ["book_video", "reschedule_to_video", "switch_to_phone", "check_in_video", "patient_join", "complete_phone"]


@pytest.mark.parametrize("door", DOORS)
def test_every_door_refuses_telehealth_into_a_state_without_a_licence(door, nj_world, scheduler, api, clock):
    """GIVEN an NJ patient and a NY-only clinician, WHEN any door would make care happen in NJ, THEN it refuses."""
    patient, clinician = nj_world["patient"], nj_world["clinician"]
    if door == "book_video":
        r = _book(scheduler, nj_world, modality="video", site_id=None)
        assert (r.status, r.json["code"]) == (422, "NOT_LICENSED_IN_JURISDICTION")
        return
    if door == "check_in_video" or door == "patient_join" or door == "complete_phone":
        # lawful booking: the patient says they will be in New York for this video visit
        modality = "phone" if door == "complete_phone" else "video"
        booked = _book(scheduler, nj_world, modality=modality, site_id=None, patient_jurisdiction="US-NY")
        assert booked.status == 201, booked.json
        appointment_id = booked.json["appointment_id"]
        if door == "check_in_video":
            r = scheduler.post(f"/v1/appointments/{appointment_id}/check-in",
                               {"patient_jurisdiction": "US-NJ", "callback_phone": "+1 201 555 0100"})
        elif door == "patient_join":
            clock.now = clock.now.replace(day=3, hour=14, minute=55)  # inside the join window
            pat = api.as_role("patient", patient_id=patient["patient_id"])
            r = pat.post(f"/v1/appointments/{appointment_id}/video/join",
                         {"patient_jurisdiction": "US-NJ", "callback_phone": "+1 201 555 0100"})
        else:
            # checked in lawfully from New York, then the NY licence is revoked: completion re-decides
            assert scheduler.post(f"/v1/appointments/{appointment_id}/check-in",
                                  {"patient_jurisdiction": "US-NY"}).status == 200
            licence = {**clinician["licenses"][0], "status": "revoked"}
            admin = api.as_role("admin")
            assert api.call("PATCH", f"/v1/clinicians/{clinician['clinician_id']}", {"licenses": [licence]},
                            token=admin.token).status == 200
            r = scheduler.post(f"/v1/appointments/{appointment_id}/complete")
            assert (r.status, r.json["code"]) == (409, "LICENSURE_NEEDS_REVIEW"), r.json
            assert scheduler.get(f"/v1/appointments/{appointment_id}").json["status"] == "checked_in"
            return
        assert (r.status, r.json["code"]) == (409, "JURISDICTION_MISMATCH"), r.json
        assert r.json["patient_jurisdiction"] == "US-NJ"
        stored = scheduler.get(f"/v1/appointments/{appointment_id}").json
        assert stored["status"] == "booked" and stored["confirmed_location"] is None
        return
    booked = _book(scheduler, nj_world)
    appointment_id = booked.json["appointment_id"]
    if door == "reschedule_to_video":
        r = scheduler.post(f"/v1/appointments/{appointment_id}/reschedule",
                           {"start": TUESDAY_11_NY, "modality": "video"})
    else:
        r = scheduler.post(f"/v1/appointments/{appointment_id}/switch-modality", {"modality": "phone"})
    assert (r.status, r.json["code"]) == (422, "NOT_LICENSED_IN_JURISDICTION"), r.json
    assert r.json["care_jurisdiction"] == "US-NJ"
    assert clinician["clinician_id"]


def test_check_in_stores_the_confirmed_location_and_shows_it_to_staff(nj_world, scheduler, api):
    booked = _book(scheduler, nj_world, modality="video", site_id=None, patient_jurisdiction="US-NY")
    appointment_id = booked.json["appointment_id"]
    body = {"patient_jurisdiction": "US-NY", "callback_phone": "+1 212 555 0199",
            "address": {"line1": "5 Hotel Way", "city": "Albany", "postal_code": "12207"}}
    r = scheduler.post(f"/v1/appointments/{appointment_id}/check-in", body)
    assert r.status == 200, r.json
    assert r.json["status"] == "checked_in"
    location = r.json["confirmed_location"]
    assert location["patient_jurisdiction"] == "US-NY" and location["callback_phone"] == "+1 212 555 0199"
    assert location["address"] == {"line1": "5 Hotel Way", "city": "Albany", "postal_code": "12207"}
    assert r.json["licensure"]["location_source"] == "confirmed"
    clin = api.as_role("clinician", clinician_id=nj_world["clinician"]["clinician_id"])
    seen = clin.get(f"/v1/appointments/{appointment_id}").json
    assert seen["confirmed_location"]["address"]["line1"] == "5 Hotel Way"


def test_telehealth_does_not_start_or_complete_before_the_location_is_confirmed(nj_world, scheduler, api, clock):
    booked = _book(scheduler, nj_world, modality="video", site_id=None, patient_jurisdiction="US-NY")
    appointment_id = booked.json["appointment_id"]
    clock.now = clock.now.replace(day=3, hour=14, minute=55)  # five minutes before the visit (10:00 NY)
    clin = api.as_role("clinician", clinician_id=nj_world["clinician"]["clinician_id"])
    pat = api.as_role("patient", patient_id=nj_world["patient"]["patient_id"])

    # The clinician may join and wait, but the visit does not start
    joined = clin.post(f"/v1/appointments/{appointment_id}/video/join")
    assert joined.status == 200, joined.json
    assert scheduler.get(f"/v1/appointments/{appointment_id}").json["status"] == "booked"
    # Admitting the patient starts care: it needs the patient's location
    r = clin.post(f"/v1/appointments/{appointment_id}/video/admit")
    assert (r.status, r.json["code"]) == (409, "LOCATION_NOT_CONFIRMED"), r.json
    # The patient cannot join without saying where they are
    r = pat.post(f"/v1/appointments/{appointment_id}/video/join")
    assert (r.status, r.json["code"]) == (409, "LOCATION_NOT_CONFIRMED")
    assert r.json["errors"][0]["field"] == "patient_jurisdiction"
    # With it, the join confirms (and checks in); admit starts the visit
    r = pat.post(f"/v1/appointments/{appointment_id}/video/join",
                 {"patient_jurisdiction": "US-NY", "callback_phone": "+1 212 555 0123"})
    assert r.status == 200 and r.json["waiting_room"] is True, r.json
    stored = scheduler.get(f"/v1/appointments/{appointment_id}").json
    assert stored["status"] == "checked_in"
    assert stored["confirmed_location"]["callback_phone"] == "+1 212 555 0123"
    admitted = clin.post(f"/v1/appointments/{appointment_id}/video/admit")
    assert admitted.status == 200 and admitted.json["status"] == "in_progress", admitted.json
    done = scheduler.post(f"/v1/appointments/{appointment_id}/complete")
    assert done.status == 200 and done.json["status"] == "completed"


def test_a_suspended_licence_flags_future_visits_until_reinstated(nj_world, scheduler, admin, api):
    world = nj_world
    clinician_id = world["clinician"]["clinician_id"]
    booked = _book(scheduler, world)
    appointment_id = booked.json["appointment_id"]
    current = admin.get(f"/v1/clinicians/{clinician_id}").json

    # A stale If-Match is refused
    licence = {**current["licenses"][0], "status": "suspended", "effective_from": "2026-03-01"}
    stale = admin.api.call("PATCH", f"/v1/clinicians/{clinician_id}", {"licenses": [licence]}, token=admin.token,
                           headers={"If-Match": str(current["version"] + 7)})
    assert (stale.status, stale.json["code"]) == (412, "VERSION_MISMATCH")

    # WHEN the board suspends the NY licence
    r = admin.api.call("PATCH", f"/v1/clinicians/{clinician_id}", {"licenses": [licence]}, token=admin.token,
                       headers={"If-Match": str(current["version"])})
    assert r.status == 200, r.json
    assert r.json["licenses"][0]["status"] == "suspended"
    assert r.json["visits_review"] == {"flagged": 1, "cleared": 0}
    # THEN the visit is flagged, listed for review, and cannot be checked in
    visit = scheduler.get(f"/v1/appointments/{appointment_id}").json
    assert visit["licensure"]["status"] == "needs_review" and visit["licensure"]["allowed"] is False
    assert "LICENSE_SUSPENDED" in {x["code"] for x in visit["licensure"]["review_reasons"]}
    listed = scheduler.get("/v1/appointments?needs_review=true").json
    assert [a["appointment_id"] for a in listed["items"]] == [appointment_id]
    r = scheduler.post(f"/v1/appointments/{appointment_id}/check-in", {"patient_jurisdiction": "US-NY"})
    assert (r.status, r.json["code"]) == (409, "LICENSURE_NEEDS_REVIEW")
    again = scheduler.post(f"/v1/appointments/{appointment_id}/licensure/redecide")
    assert again.status == 200 and again.json["licensure"]["status"] == "needs_review"  # still suspended
    # AND availability no longer offers the clinician
    slots = scheduler.get(f"/v1/availability?service=90834&patient_jurisdiction=US-NY&clinician_id={clinician_id}"
                          "&from=2026-03-04T00:00:00Z&to=2026-03-06T00:00:00Z").json
    assert slots["items"] == []

    # WHEN the licence is reinstated on probation, the visit is cleared and shows the condition
    licence = {**licence, "status": "probation"}
    r = admin.api.call("PATCH", f"/v1/clinicians/{clinician_id}", {"licenses": [licence]}, token=admin.token)
    assert r.json["visits_review"] == {"flagged": 0, "cleared": 1}
    visit = scheduler.get(f"/v1/appointments/{appointment_id}").json
    assert visit["licensure"]["status"] == "ok" and visit["licensure"]["allowed"] is True
    assert "LICENSE_ON_PROBATION" in {c["code"] for c in visit["licensure"]["conditions"]}
    assert scheduler.get("/v1/appointments?needs_review=true").json["items"] == []
    # AND the change is audited with who made it
    entries = admin.get("/v1/audit?limit=200").json["items"]
    updates = [e for e in entries if e["action"] == "clinician.update"]
    assert len(updates) == 2 and updates[0]["actor"]["role"] == "admin"


def test_patch_names_bad_fields_and_null_required_fields(nj_world, admin, scheduler):
    clinician_id = nj_world["clinician"]["clinician_id"]
    r = admin.api.call("PATCH", f"/v1/clinicians/{clinician_id}",
                       {"licenses": [{"jurisdiction": "US-NY", "type": "psychologist", "number": "X1",
                                      "expires_on": "2030-01-01", "status": "paused"}], "name": None},
                       token=admin.token)
    assert r.status == 400 and r.json["code"] == "VALIDATION_ERROR"
    assert {"licenses[0].status"} <= {e["field"] for e in r.json["errors"]} or \
        any(e["field"].startswith("licenses") for e in r.json["errors"])
    r = admin.api.call("PATCH", f"/v1/clinicians/{clinician_id}", {"name": None}, token=admin.token)
    assert r.status == 400 and r.json["errors"][0]["field"] == "name"
    r = scheduler.api.call("PATCH", f"/v1/clinicians/{clinician_id}", {"name": "X"}, token=scheduler.token)
    assert r.status == 403
    patient_id = nj_world["patient"]["patient_id"]
    r = scheduler.api.call("PATCH", f"/v1/patients/{patient_id}", {"phone": "+1 201 555 0142"},
                           token=scheduler.token, headers={"If-Match": "1"})
    assert r.status == 200 and r.json["phone"] == "+1 201 555 0142" and r.json["version"] == 2
    r = admin.api.call("PATCH", f"/v1/sites/{nj_world['site']['site_id']}", {"name": "Uptown"}, token=admin.token,
                       headers={"If-Match": "abc"})
    assert r.status == 400 and r.json["errors"][0]["field"] == "If-Match"


@pytest.fixture
def psypact_world(api, admin, scheduler) -> dict[str, Any]:
    """An Arizona psychologist with PSYPACT APIT (telehealth) and TAP (in person) and a Texas site."""
    site = admin.post("/v1/sites", site_body(name="Austin", timezone="America/Chicago", jurisdiction="US-TX")).json
    body = clinician_body(licenses=["US-AZ"], site_ids=[site["site_id"]], timezone="America/Phoenix",
                          compact_privileges=[
                              {"compact": "PSYPACT", "kind": "APIT", "home_jurisdiction": "US-AZ",
                               "expires_on": "2030-12-31"},
                              {"compact": "PSYPACT", "kind": "TAP", "home_jurisdiction": "US-AZ",
                               "expires_on": "2030-12-31"}])
    clinician = admin.post("/v1/clinicians", body).json
    assert admin.put(f"/v1/clinicians/{clinician['clinician_id']}/availability",
                     {"rules": weekday_rules(site_id=site["site_id"])}).status == 200
    patient = scheduler.post("/v1/patients", patient_body(home="US-TX")).json
    return {"site": site, "clinician": clinician, "patient": patient}


def test_doubt_is_shown_and_a_tenant_can_refuse_it(psypact_world, scheduler, admin):
    clinician_id = psypact_world["clinician"]["clinician_id"]
    query = (f"/v1/availability?service=90834&patient_jurisdiction=US-TX&clinician_id={clinician_id}&modality=video"
             "&from=2026-03-04T00:00:00Z&to=2026-03-05T00:00:00Z&limit=1")
    item = scheduler.get(query).json["items"][0]
    assert item["licensure"]["uncertain"] is True
    assert item["licensure"]["basis"]["compact"] == "PSYPACT"
    booked = scheduler.post("/v1/appointments", {
        "patient_id": psypact_world["patient"]["patient_id"], "clinician_id": clinician_id, "service": "90834",
        "start": item["start"], "modality": "video"})
    assert booked.status == 201 and booked.json["licensure"]["uncertain"] is True

    assert admin.get("/v1/tenant/settings").json["licensure"] == {"uncertain_rules": "warn"}
    r = admin.put("/v1/tenant/settings", {"licensure": {"uncertain_rules": "refuse"}})
    assert r.status == 200 and r.json["licensure"]["uncertain_rules"] == "refuse"
    assert scheduler.get(query).json["items"] == []
    check = scheduler.post("/v1/licensure/checks", {"clinician_id": clinician_id, "patient_jurisdiction": "US-TX",
                                                    "modality": "video", "service": "90834", "date": "2026-03-04"})
    assert check.json["allowed"] is False and check.json["reasons"][0]["code"] == "UNCERTAIN_RULE_REFUSED"
    r = admin.put("/v1/tenant/settings", {"licensure": {"uncertain_rules": "maybe"}})
    assert r.status == 400 and r.json["errors"][0]["field"].startswith("licensure")


def test_tap_days_are_counted_at_booking_and_the_31st_day_is_refused(psypact_world, services, tenant):
    """PSYPACT TAP: 30 distinct days of in-person practice a calendar year in a remote state."""
    from datetime import timedelta

    from chalicelib.api.appointment_inputs import booking_request
    from chalicelib.domain.access import Caller
    from chalicelib.domain.errors import NotLicensed
    from chalicelib.schemas.appointments import BookingIn

    caller = Caller("sched", tenant, frozenset({"scheduler"}))
    clinician_id, site_id = psypact_world["clinician"]["clinician_id"], psypact_world["site"]["site_id"]
    patient_id = psypact_world["patient"]["patient_id"]
    day = services.clock().replace(hour=15, minute=0) + timedelta(days=1)  # 09:00 in Austin
    booked_days = []
    while len(booked_days) < 31:
        if day.weekday() < 5:
            booked_days.append(day)
        day += timedelta(days=1)

    def book(start, hour_offset: int = 0):
        return services.booking.book(caller, booking_request(BookingIn.model_validate({
            "patient_id": patient_id, "clinician_id": clinician_id, "service": "90834",
            "start": (start + timedelta(hours=hour_offset)).isoformat(), "modality": "in_person",
            "site_id": site_id})))

    first = book(booked_days[0])
    assert first.licensure.temporary_practice == "PSYPACT#TAP#US-TX"
    book(booked_days[0], hour_offset=2)  # a second visit on a counted day costs nothing
    for start in booked_days[1:30]:
        book(start)
    with pytest.raises(NotLicensed) as refused:
        book(booked_days[30])
    assert "TEMPORARY_PRACTICE_DAYS_EXHAUSTED" in {r["code"] for r in refused.value.extra["reasons"]}
    # Cancelling the only visit of a day gives the day back
    services.booking.cancel(caller, services.booking.list(
        caller, clinician_id, None, first.interval.__class__(booked_days[5], booked_days[5] + timedelta(hours=2)),
        5, None)[0][0].appointment_id, "moved")
    assert book(booked_days[30]).licensure.temporary_practice == "PSYPACT#TAP#US-TX"


def test_a_jurisdiction_that_does_not_exist_is_a_400_naming_its_field_at_every_door(nj_world, scheduler, admin):
    """The shape check let "US-ZZ" through: an in-person booking (care at the site) stored it as the patient's
    location, a site or a patient could be created there, and a search answered an empty page."""
    world = nj_world
    booked = _book(scheduler, world)
    assert booked.status == 201, booked.json
    appt = booked.json["appointment_id"]
    asks = {
        "patient_jurisdiction": [
            lambda: _book(scheduler, world, patient_jurisdiction="US-ZZ", start=TUESDAY_11_NY),
            lambda: scheduler.get("/v1/availability?service=90834&patient_jurisdiction=US-ZZ"
                                  "&from=2026-03-02T00:00:00Z&to=2026-03-04T00:00:00Z"),
            lambda: scheduler.post(f"/v1/appointments/{appt}/check-in", {"patient_jurisdiction": "CA-XX"}),
        ],
        "home_jurisdiction": [lambda: scheduler.post("/v1/patients", patient_body(home="US-ZZ"))],
        "jurisdiction": [lambda: admin.post("/v1/sites", {**site_body(), "jurisdiction": "US-UX"})],
        "patient-jurisdiction": [lambda: scheduler.get(
            "/fhir/R4/Slot?service-type=http://www.ama-assn.org/go/cpt|90834&patient-jurisdiction=US-ZZ"
            "&start=ge2026-03-02T00:00:00Z&start=lt2026-03-04T00:00:00Z")],
    }
    for field, calls in asks.items():
        for call in calls:
            r = call()
            assert r.status == 400, (field, r.status, r.json)
            named = {e.get("field", "").rsplit(".", 1)[-1] for e in r.json.get("errors", [])}
            if not named:  # FHIR: OperationOutcome names the element in expression
                named = {x for i in r.json["issue"] for x in i.get("expression", [])}
            assert field in named, (field, r.json)
    # AND nothing was written: the visit is still booked as before, no site or patient appeared
    again = scheduler.get(f"/v1/appointments/{appt}").json
    assert again["status"] == "booked" and again["version"] == booked.json["version"]
    assert all(s["jurisdiction"] != "US-UX" for s in admin.get("/v1/sites").json["items"])
