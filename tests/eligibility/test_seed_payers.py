"""The demo payer seed: acme's roster matches the demo patients, in our table and in the payer simulator."""

from __future__ import annotations

import pytest

from local.seed import demo_patients
from local.seed_payers import demo_roster, roster_json, seed_payers
from tests.eligibility.conftest import check_body

pytestmark = pytest.mark.api


def test_the_roster_is_made_of_the_demo_patients_acme_coverages():
    coverages = {c.member_id: p for p in demo_patients() for c in p.coverages if c.payer_id == "acme"}
    roster = {m.member_id: m for m in demo_roster()}

    assert set(roster) == set(coverages) and {"ACME100001", "ACME100002", "ACME100003"} <= set(roster)
    for member_id, member in roster.items():
        patient = coverages[member_id]
        assert (member.first_name, member.last_name) == tuple(patient.name.rsplit(" ", 1))
        assert member.birth_date == patient.birth_date
    assert roster_json(roster["ACME100001"])["benefits"]["copay"] == "25.00"


def test_seeding_makes_a_real_round_trip_to_the_simulator_possible(services, scheduler, sim, payer_id):
    # A payer id of its own: the real "acme" stays untouched for the other tests sharing this moto backend.
    done = seed_payers(sim.url, payer_id=payer_id)

    assert done == {"payer_id": payer_id, "connector": "x12_http", "members": len(demo_roster())}
    assert sim.state()["members"] == 2 + len(demo_roster())  # its own two, plus the demo coverages
    r = scheduler.post("/v1/eligibility/checks", check_body(payer_id, member={
        "member_id": "ACME100001", "first_name": "Jordan", "last_name": "Demo-Patient", "birth_date": "1988-05-17"},
        date_of_service="2026-03-09"))
    assert (r.json["status"], r.json["source"], r.json["plan"]["name"]) == ("active", "x12_http", "ACME GOLD PPO")
    assert r.json["benefits"]["deductible_remaining"] == "350.00"
    assert sim.received == 1


def test_without_the_simulator_acme_answers_from_its_roster(services, scheduler, payer_id, monkeypatch):
    monkeypatch.delenv("HCO_PAYER_SIM_URL", raising=False)

    assert seed_payers(payer_id=payer_id)["connector"] == "roster"
    r = scheduler.post("/v1/eligibility/checks", check_body(payer_id, member={
        "member_id": "ACME100003", "first_name": "Morgan", "last_name": "Demo-Patient", "birth_date": "2001-02-28"},
        modality="phone"))
    assert (r.json["status"], r.json["source"]) == ("active", "roster")
    assert r.json["telehealth"] == {"covered": True, "place_of_service": "10", "modifiers": ["93"]}
