"""POST/GET /v1/eligibility/checks against a payer simulator over HTTP on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from chalicelib.x12.read_271 import parse_271
from tests.eligibility.conftest import check_body, new_patient, roster_entry

pytestmark = pytest.mark.api

ACTIVE_BENEFITS = {"copay": "25.00", "coinsurance": "0.2", "deductible_remaining": "350.50",
                   "out_of_pocket_remaining": "2100.00", "in_network": None}


def test_an_active_member_gets_status_cost_share_and_the_telehealth_block(scheduler, x12_payer, sim):
    r = scheduler.post("/v1/eligibility/checks", check_body(x12_payer))

    assert r.status == 200, r.json
    c = r.json
    assert c["status"] == "active" and c["check_id"].startswith("elg_")
    assert c["service_type_codes"] == ["MH", "A6"]  # 90834 by a psychologist, from scheduling_rules/services.yaml
    assert c["plan"] == {"name": "GOLD PPO 500", "begin": "2026-01-01", "end": "2026-12-31"}
    assert c["benefits"] == ACTIVE_BENEFITS
    assert c["benefit_network"] == "Y"  # EB12 labels the row used, not the provider's network status
    assert c["telehealth"] == {"covered": True, "place_of_service": "10", "modifiers": ["95"]}
    assert c["aaa_errors"] == [] and c["source"] == "x12_http" and c["cached"] is False
    assert c["checked_at"] == "2026-03-02T12:00:00Z" and c["pending"] is None and c["error"] is None
    assert "raw_271" not in c
    assert sim.received == 1


def test_the_raw_271_is_kept_beside_the_answer_and_returned_only_when_asked(scheduler, x12_payer, sim, admin, api):
    patient_id = new_patient(scheduler, None)  # a check names only a patient of the tenant (issue 11)
    c = scheduler.post("/v1/eligibility/checks", check_body(x12_payer, patient_id=patient_id)).json

    plain = scheduler.get(f"/v1/eligibility/checks/{c['check_id']}")
    raw = scheduler.get(f"/v1/eligibility/checks/{c['check_id']}?include=raw271")

    assert plain.status == 200 and "raw_271" not in plain.json
    assert raw.status == 200
    parsed = parse_271(raw.json["raw_271"])
    assert parsed.echoed_trace_numbers == (c["check_id"].replace("_", "").upper(),)
    assert parsed.payer is not None and parsed.payer.id == x12_payer
    bad = scheduler.get(f"/v1/eligibility/checks/{c['check_id']}?include=everything")
    assert bad.status == 400 and bad.json["errors"][0]["field"] == "include"
    actions = [e["action"] for e in admin.get(f"/v1/audit?patient_id={patient_id}").json["items"]]
    assert {"eligibility.check.create", "eligibility.check.read", "eligibility.raw271.read"} <= set(actions)


def test_service_type_codes_follow_the_discipline(scheduler, x12_payer):
    social = scheduler.post("/v1/eligibility/checks", check_body(x12_payer, discipline="social_worker")).json
    psychiatrist = scheduler.post("/v1/eligibility/checks", check_body(x12_payer, service="90792",
                                                                       discipline="psychiatrist")).json
    med = scheduler.post("/v1/eligibility/checks", check_body(x12_payer, service="99214",
                                                              discipline="psychiatric_np")).json

    assert social["service_type_codes"] == ["MH", "A6", "22"]
    assert psychiatrist["service_type_codes"] == ["MH", "A8"]
    assert med["service_type_codes"] == ["MH", "98"]


def test_a_second_identical_check_is_answered_from_the_cache_without_a_270(scheduler, x12_payer, sim):
    first = scheduler.post("/v1/eligibility/checks", check_body(x12_payer)).json
    second = scheduler.post("/v1/eligibility/checks", check_body(x12_payer)).json
    other_day = scheduler.post("/v1/eligibility/checks", check_body(x12_payer, date_of_service="2026-03-10")).json

    assert second["check_id"] != first["check_id"]
    assert (second["status"], second["cached"], second["benefits"]) == ("active", True, ACTIVE_BENEFITS)
    assert second["checked_at"] == first["checked_at"]
    assert other_day["cached"] is False
    assert sim.received == 2  # the first check and the other date of service: no 270 for the cache hit


def test_the_cache_expires_after_its_ttl(scheduler, x12_payer, sim, clock, services):
    scheduler.post("/v1/eligibility/checks", check_body(x12_payer))
    clock.advance(seconds=services.settings.eligibility.cache_ttl_seconds + 1)

    again = scheduler.post("/v1/eligibility/checks", check_body(x12_payer)).json

    assert again["cached"] is False and sim.received == 2


def test_an_inactive_member_is_inactive_and_telehealth_not_covered(scheduler, x12_payer, sim):
    r = scheduler.post("/v1/eligibility/checks", check_body(x12_payer, member={
        "member_id": "W100200301", "first_name": "John", "last_name": "Roe", "birth_date": "1970-01-01"}))

    assert r.status == 200, r.json
    assert r.json["status"] == "inactive"
    assert r.json["plan"]["name"] == "GOLD PPO 500" and r.json["plan"]["end"] == "2025-12-31"
    assert r.json["benefits"] == {**dict.fromkeys(ACTIVE_BENEFITS), "in_network": None}
    assert r.json["telehealth"] == {"covered": False, "place_of_service": "10", "modifiers": ["95"]}


def test_an_unknown_member_is_not_found_with_the_aaa_error(scheduler, x12_payer):
    r = scheduler.post("/v1/eligibility/checks", check_body(x12_payer, member={
        "member_id": "W999999999", "first_name": "Jane", "last_name": "Doe", "birth_date": "1985-04-12"}))

    assert r.json["status"] == "not_found"
    assert r.json["aaa_errors"] == [{"code": "75", "description": "Subscriber/Insured Not Found",
                                     "level": "subscriber", "follow_up_action": "C"}]
    assert r.json["telehealth"]["covered"] is None


def test_aaa_42_is_retried_then_pending_then_finished_by_a_later_read(scheduler, x12_payer, sim, clock):
    sim.knobs(force_aaa="42")

    r = scheduler.post("/v1/eligibility/checks", check_body(x12_payer))

    assert r.status == 200
    c = r.json
    assert c["status"] == "pending"
    assert c["pending"]["attempts"] == 3 and c["pending"]["reason"] == "aaa_42"
    assert c["pending"]["next_attempt_at"] == "2026-03-02T12:00:05Z"
    assert [e["code"] for e in c["aaa_errors"]] == ["42"]
    assert c["telehealth"] == {"covered": None, "place_of_service": "10", "modifiers": ["95"]}
    assert sim.received == 3  # max_attempts, with backoff between them

    sim.knobs(force_aaa=None)
    early = scheduler.get(f"/v1/eligibility/checks/{c['check_id']}")
    assert early.json["status"] == "pending" and early.headers["Retry-After"] == "5"
    assert sim.received == 3  # not before next_attempt_at
    clock.advance(seconds=6)
    done = scheduler.get(f"/v1/eligibility/checks/{c['check_id']}")
    assert done.json["status"] == "active" and done.json["benefits"] == ACTIVE_BENEFITS
    assert done.json["aaa_errors"] == [] and done.json["pending"] is None
    assert done.json["checked_at"] == "2026-03-02T12:00:06Z"
    assert sim.received == 4


def test_a_slow_payer_never_holds_the_request_past_the_budget(scheduler, x12_payer, sim, clock, services):
    budget = services.settings.eligibility.budget_seconds
    warm = scheduler.post("/v1/eligibility/checks", check_body(x12_payer, date_of_service="2026-03-20"))
    assert warm.json["status"] == "active"  # (clients are built on first use: keep that out of the timing)
    sim.knobs(delay_seconds=30)

    started = time.monotonic()
    r = scheduler.post("/v1/eligibility/checks", check_body(x12_payer))
    elapsed = time.monotonic() - started

    assert r.status == 200 and r.json["status"] == "pending"
    assert r.json["pending"]["reason"] == "timeout" and r.json["pending"]["attempts"] >= 2
    # The payer takes 30 s; the request waits for it at most the budget (0.8 s here), plus our own
    # DynamoDB reads and writes, which a loaded machine running moto in-process can stretch.
    assert elapsed < min(budget + 5.0, 10.0), elapsed

    sim.knobs(delay_seconds=None)
    clock.advance(seconds=5)
    done = scheduler.get(f"/v1/eligibility/checks/{r.json['check_id']}")
    assert done.json["status"] == "active" and done.json["telehealth"]["covered"] is True


def test_a_payer_5xx_is_retried_and_a_4xx_is_an_error(scheduler, x12_payer, sim):
    sim.knobs(http_status=503)
    unavailable = scheduler.post("/v1/eligibility/checks", check_body(x12_payer)).json
    assert (unavailable["status"], unavailable["pending"]["reason"]) == ("pending", "http_503")
    assert sim.received == 3
    sim.knobs(http_status=400)
    refused = scheduler.post("/v1/eligibility/checks", check_body(x12_payer, date_of_service="2026-03-11")).json
    assert (refused["status"], refused["error"], refused["pending"]) == ("error", "http_400", None)
    assert sim.received == 4  # not retried


def test_a_pending_check_gives_up_after_its_deadline(scheduler, x12_payer, sim, clock, services):
    sim.knobs(http_status=503)
    c = scheduler.post("/v1/eligibility/checks", check_body(x12_payer)).json
    clock.advance(seconds=services.settings.eligibility.give_up_after_seconds + 1)

    r = scheduler.get(f"/v1/eligibility/checks/{c['check_id']}")

    assert (r.json["status"], r.json["error"]) == ("error", "http_503")
    assert sim.received == 3  # giving up asks nobody


def test_a_roster_payer_answers_from_the_members_it_uploaded(scheduler, payer, payer_id, admin):
    payer.put(f"/v1/payers/{payer_id}", {"name": "Roster Plan", "connector": {"kind": "roster"},
                                         "telehealth_policy": {"phone": {"covered": False}}})
    payer.put(f"/v1/payers/{payer_id}/members/W100200300", roster_entry(copay="15.00", coinsurance=None))
    clinician = admin.post("/v1/clinicians", {
        "name": "Dr. Net", "npi": "1245319599", "discipline": "psychologist", "timezone": "America/New_York",
        "licenses": [{"jurisdiction": "US-NY", "type": "psychologist", "number": "NY-1", "expires_on": "2030-01-01"}],
        "modalities": ["video", "phone"], "payer_networks": [payer_id]}).json

    video = scheduler.post("/v1/eligibility/checks", check_body(payer_id, provider_npi=None,
                                                                clinician_id=clinician["clinician_id"])).json
    phone = scheduler.post("/v1/eligibility/checks", check_body(payer_id, modality="phone",
                                                                patient_location_type="other")).json

    assert (video["status"], video["source"]) == ("active", "roster")
    assert video["benefits"] == {"copay": "15.00", "coinsurance": None, "deductible_remaining": "350.50",
                                 "out_of_pocket_remaining": "2100.00", "in_network": True}
    assert video["telehealth"] == {"covered": True, "place_of_service": "10", "modifiers": ["95"]}
    assert phone["telehealth"] == {"covered": False, "place_of_service": "02", "modifiers": ["93"]}
    assert phone["benefits"]["in_network"] is None  # no clinician named: nobody knows
    raw = scheduler.get(f"/v1/eligibility/checks/{video['check_id']}?include=raw271").json["raw_271"]
    assert parse_271(raw).echoed_trace_numbers == (video["check_id"].replace("_", "").upper(),)  # kept, like a payer's


def test_an_unconfigured_payer_and_bad_requests_are_refused_with_named_fields(scheduler):
    unknown = scheduler.post("/v1/eligibility/checks", check_body("no-such-payer"))
    assert (unknown.status, unknown.json["code"]) == (422, "PAYER_NOT_CONFIGURED")
    no_provider = scheduler.post("/v1/eligibility/checks", check_body("acme", provider_npi=None))
    assert no_provider.status == 400 and no_provider.json["errors"][0]["field"] == "provider_npi"
    bad = scheduler.post("/v1/eligibility/checks", {"payer_id": "acme", "member": {"member_id": "x"},
                                                    "service": "9", "modality": "teleport",
                                                    "date_of_service": "soon", "provider_npi": "1234567890"})
    assert bad.status == 400
    assert {"member.member_id", "member.first_name", "member.last_name", "member.birth_date", "service", "modality",
            "date_of_service", "provider_npi"} <= {e["field"] for e in bad.json["errors"]}
    assert "9" not in bad.json["detail"].split()


def test_an_idempotency_key_replays_the_first_check(scheduler, x12_payer, sim):
    first = scheduler.post("/v1/eligibility/checks", check_body(x12_payer), headers={"Idempotency-Key": "elig-1"})
    again = scheduler.post("/v1/eligibility/checks", check_body(x12_payer), headers={"Idempotency-Key": "elig-1"})

    assert again.json["check_id"] == first.json["check_id"] and sim.received == 1


# --- payer tokens ---------------------------------------------------------------------------------

def test_a_payer_token_sees_only_checks_for_its_own_payer_id(api, payer, x12_payer, scheduler):
    mine = payer.post("/v1/eligibility/checks", check_body(x12_payer))
    assert mine.status == 200 and mine.json["status"] == "active"
    check_id = mine.json["check_id"]
    other = api.as_role("payer", payer_id="other-payer")
    tenant_check = scheduler.post("/v1/eligibility/checks", check_body(x12_payer)).json

    assert payer.get(f"/v1/eligibility/checks/{check_id}").json["check_id"] == check_id
    for r in (other.get(f"/v1/eligibility/checks/{check_id}"),
              other.get(f"/v1/eligibility/checks/{check_id}?include=raw271"),
              scheduler.get(f"/v1/eligibility/checks/{check_id}"),   # a tenant never sees a payer's own check
              payer.get(f"/v1/eligibility/checks/{tenant_check['check_id']}"),  # nor a payer a tenant's
              other.post("/v1/eligibility/checks", check_body(x12_payer))):  # asking as another payer
        assert (r.status, r.json["code"]) == (404, "NOT_FOUND"), r.json
    assert "raw_271" not in other.get(f"/v1/eligibility/checks/{check_id}?include=raw271").raw.decode()


def test_a_payer_check_cannot_name_a_tenants_clinician_or_patient(payer, x12_payer):
    r = payer.post("/v1/eligibility/checks", check_body(x12_payer, patient_id="pat_1"))
    assert r.status == 400 and [e["field"] for e in r.json["errors"]] == ["patient_id"]
