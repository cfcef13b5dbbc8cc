"""The waitlist: a freed slot becomes one offer that holds it; accept books it; expiry and decline pass it on."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.api.jobs import waitlist_offers
from local.background import scheduled_event
from tests.api.reminder_support import sms_to, unique_patient
from tests.api.test_reminders_api import TUE_10_EST, book
from tests.support import VALID_NPIS, after_commit, clinician_body

pytestmark = pytest.mark.api
WINDOW = {"from": "2026-03-03T00:00:00Z", "to": "2026-03-04T00:00:00Z"}


def run_job() -> dict[str, int]:
    return waitlist_offers(scheduled_event("waitlist-offers"), None)


def join(caller, patient, **extra):
    body = {"patient_id": patient["patient_id"], "service": "90834", "modalities": ["video", "phone"],
            "patient_jurisdiction": "US-NY", "window": WINDOW, "clinician_id": None, **extra}
    r = caller.post("/v1/waitlist", body)
    assert r.status == 201, r.json
    assert r.json["status"] == "waiting" and r.json["offer"] is None
    return r.json


def entry(caller, waitlist_id):
    r = caller.get(f"/v1/waitlist/{waitlist_id}")
    assert r.status == 200, r.json
    return r.json


@pytest.fixture
def freed(clock, scheduler, world, tenant):
    """Patient A's Tuesday 10:00 EST video visit, and two patients waiting for a Tuesday slot (B first)."""
    a = unique_patient(scheduler, tenant, "Ann First")
    b = unique_patient(scheduler, tenant, "Bea Second")
    c = unique_patient(scheduler, tenant, "Cy Third")
    apt = book(scheduler, world, a)
    wb = join(scheduler, b)
    clock.advance(seconds=1)  # first come, first served: B joined before C
    wc = join(scheduler, c)
    return {"apt": apt, "a": a, "b": b, "c": c, "wb": wb, "wc": wc, "tenant": tenant}


def cancel(scheduler, apt_id):
    r = scheduler.post(f"/v1/appointments/{apt_id}/cancel", {"reason": "x"})
    assert r.status == 200, r.json
    after_commit()  # the stream consumer enqueues the freed slot; the job offers it


def test_a_cancellation_offers_the_slot_to_the_first_matching_entry_only(api, scheduler, world, freed):
    cancel(scheduler, freed["apt"]["appointment_id"])
    assert entry(scheduler, freed["wb"]["waitlist_id"])["status"] == "waiting"  # nothing on the request path
    assert run_job()["offered"] >= 1
    b = entry(scheduler, freed["wb"]["waitlist_id"])
    assert b["status"] == "offered"
    assert b["offer"] == {"start": "2026-03-03T15:00:00Z", "end": "2026-03-03T15:45:00Z",
                          "clinician_id": world["clinician"]["clinician_id"], "modality": "video", "site_id": None,
                          "expires_at": "2026-03-02T12:30:01Z"}
    assert entry(scheduler, freed["wc"]["waitlist_id"])["status"] == "waiting"
    (text,) = sms_to(freed["b"]["phone_e164"])
    assert "opened up" in text and "Bea" not in text and "90834" not in text
    # the patient sees their own entry; another patient gets 404
    mine = api.as_role("patient", patient_id=freed["b"]["patient_id"])
    assert entry(mine, freed["wb"]["waitlist_id"])["status"] == "offered"
    other = api.as_role("patient", patient_id=freed["c"]["patient_id"])
    assert other.get(f"/v1/waitlist/{freed['wb']['waitlist_id']}").status == 404


def test_a_held_slot_cannot_be_booked_by_anyone_else_and_accept_books_it(api, scheduler, world, freed, tenant):
    cancel(scheduler, freed["apt"]["appointment_id"])
    run_job()
    intruder = unique_patient(scheduler, tenant, "Dee Intruder")
    body = {"patient_id": intruder["patient_id"], "clinician_id": world["clinician"]["clinician_id"],
            "service": "90834", "start": TUE_10_EST, "modality": "video", "patient_jurisdiction": "US-NY"}
    r = scheduler.post("/v1/appointments", body)
    assert (r.status, r.json["code"]) == (409, "SLOT_TAKEN")
    me = api.as_role("patient", patient_id=freed["b"]["patient_id"])
    accepted = me.post(f"/v1/waitlist/{freed['wb']['waitlist_id']}/accept")
    assert accepted.status == 200, accepted.json
    assert accepted.json["status"] == "booked" and accepted.json["appointment"]["status"] == "booked"
    assert accepted.json["appointment"]["patient_id"] == freed["b"]["patient_id"]
    assert accepted.json["appointment_id"] == accepted.json["appointment"]["appointment_id"]
    again = me.post(f"/v1/waitlist/{freed['wb']['waitlist_id']}/accept")
    assert (again.status, again.json["code"]) == (409, "INVALID_TRANSITION")
    # the booked visit gets reminders like any other
    after_commit()
    listing = scheduler.get(f"/v1/appointments/{accepted.json['appointment_id']}/reminders").json
    assert {i["status"] for i in listing["items"]} == {"scheduled"}


def test_an_expired_offer_passes_to_the_next_entry_and_frees_the_hold(api, clock, scheduler, freed):
    cancel(scheduler, freed["apt"]["appointment_id"])
    run_job()
    clock.advance(minutes=31)
    me = api.as_role("patient", patient_id=freed["b"]["patient_id"])
    late = me.post(f"/v1/waitlist/{freed['wb']['waitlist_id']}/accept")
    assert (late.status, late.json["code"]) == (409, "OFFER_EXPIRED")
    result = run_job()
    assert result["expired"] >= 1 and result["offered"] >= 1
    b = entry(scheduler, freed["wb"]["waitlist_id"])
    assert b["status"] == "waiting" and b["offer"] is None
    c = entry(scheduler, freed["wc"]["waitlist_id"])
    assert c["status"] == "offered" and c["offer"]["start"] == "2026-03-03T15:00:00Z"
    # B is not offered the same slot again when C lets it go
    assert scheduler.post(f"/v1/waitlist/{freed['wc']['waitlist_id']}/decline").json["status"] == "waiting"
    run_job()
    assert entry(scheduler, freed["wb"]["waitlist_id"])["status"] == "waiting"
    assert entry(scheduler, freed["wc"]["waitlist_id"])["status"] == "waiting"


def test_a_declined_offer_goes_to_the_next_entry(scheduler, freed):
    cancel(scheduler, freed["apt"]["appointment_id"])
    run_job()
    r = scheduler.post(f"/v1/waitlist/{freed['wb']['waitlist_id']}/decline")
    assert r.status == 200 and r.json["status"] == "waiting" and r.json["offer"] is None
    run_job()
    assert entry(scheduler, freed["wc"]["waitlist_id"])["status"] == "offered"


def test_a_redelivered_cancel_never_offers_its_slot_a_second_time(services, scheduler, freed, stream_pump):
    cancel(scheduler, freed["apt"]["appointment_id"])
    assert run_job()["offered"] == 1
    assert scheduler.post(f"/v1/waitlist/{freed['wb']['waitlist_id']}/decline").json["status"] == "waiting"
    assert run_job()["offered"] == 1  # C now holds it
    # Lambda delivers every batch again (say a later record failed): the cancel is followed once more
    stream_pump.iterators.clear()
    assert stream_pump.drain() > 0
    assert [s for _, s in services.waitlist.repo.freed() if s.tenant_id == freed["tenant"]] == []
    assert run_job()["offered"] == 0
    assert [entry(scheduler, freed[k]["waitlist_id"])["status"] for k in ("wb", "wc")] == ["waiting", "offered"]
    assert len(sms_to(freed["b"]["phone_e164"])) == 1 and len(sms_to(freed["c"]["phone_e164"])) == 1


def test_two_frees_of_one_slot_and_racing_runs_never_offer_it_twice(services, scheduler, freed):
    cancel(scheduler, freed["apt"]["appointment_id"])
    # GIVEN the same slot freed twice (say a cancel and a retried listener) ...
    (slot,) = [s for _, s in services.waitlist.repo.freed() if s.tenant_id == freed["tenant"]]
    services.waitlist.repo.add_freed(replace(slot, source="apt_twice"))
    pending = [s for _, s in services.waitlist.repo.freed() if s.tenant_id == freed["tenant"]]
    assert len(pending) == 2
    # WHEN two runs work through both
    offers = [services.waitlist.offer_slot(s) for s in pending] + [services.waitlist.offer_slot(s) for s in pending]
    # THEN one offer in all: the hold's conditional writes let only the first through
    assert sum(offers) == 1
    statuses = [entry(scheduler, freed[k]["waitlist_id"])["status"] for k in ("wb", "wc")]
    assert statuses == ["offered", "waiting"]


def test_entries_match_clinician_window_and_modality(admin, scheduler, world, tenant):
    a = unique_patient(scheduler, tenant, "Ann First")
    apt = book(scheduler, world, a)
    two = admin.post("/v1/clinicians", clinician_body("Dr. Two", npi=VALID_NPIS[1])).json["clinician_id"]
    other_clinician = join(scheduler, unique_patient(scheduler, tenant, "Wants Other"), clinician_id=two)
    wrong_window = join(scheduler, unique_patient(scheduler, tenant, "Wants Later"),
                        window={"from": "2026-03-05T00:00:00Z", "to": "2026-03-06T00:00:00Z"})
    in_person_only = join(scheduler, unique_patient(scheduler, tenant, "Wants Clinic"), modalities=["in_person"])
    good = join(scheduler, unique_patient(scheduler, tenant, "Fits Well"), modalities=["phone"])
    cancel(scheduler, apt["appointment_id"])
    run_job()
    assert [entry(scheduler, e["waitlist_id"])["status"] for e in (other_clinician, wrong_window, in_person_only)] \
        == ["waiting"] * 3
    offered = entry(scheduler, good["waitlist_id"])
    assert offered["status"] == "offered" and offered["offer"]["modality"] == "phone"


def test_licensure_applies_to_offers(admin, scheduler, world, tenant):
    a = unique_patient(scheduler, tenant, "Ann First")
    apt = book(scheduler, world, a)
    # a patient in New Jersey, where the NY-only psychologist may not practise
    nj = join(scheduler, unique_patient(scheduler, tenant, "In Jersey", home="US-NJ"), patient_jurisdiction="US-NJ")
    cancel(scheduler, apt["appointment_id"])
    run_job()
    assert entry(scheduler, nj["waitlist_id"])["status"] == "waiting"


def test_bad_waitlist_bodies_are_400_naming_the_field(scheduler, world, tenant):
    p = unique_patient(scheduler, tenant)
    r = scheduler.post("/v1/waitlist", {"patient_id": p["patient_id"], "service": "90834", "modalities": [],
                                        "window": {"from": "2026-03-04T00:00:00Z", "to": "2026-03-03T00:00:00Z"}})
    assert (r.status, r.json["code"]) == (400, "VALIDATION_ERROR")
    fields = {e["field"] for e in r.json["errors"]}
    assert any(f.startswith("modalities") for f in fields) and any(f.startswith("window") for f in fields)
