"""POST /v1/licensure/checks, and the promise that availability never offers what the check would deny."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import VALID_NPIS, clinician_body, weekday_rules

pytestmark = pytest.mark.api


def check(caller, clinician_id, where, modality="video", on="2026-03-03", **extra):
    return caller.post("/v1/licensure/checks", {"clinician_id": clinician_id, "patient_jurisdiction": where,
                                                "modality": modality, "service": "90834", "date": on, **extra})


def test_own_state_licence_is_allowed_with_its_basis_and_source(world, scheduler):
    r = check(scheduler, world["clinician"]["clinician_id"], "US-NY")
    assert r.status == 200
    assert r.json["allowed"] is True
    assert r.json["basis"]["kind"] == "license" and r.json["basis"]["jurisdiction"] == "US-NY"
    assert r.json["rules_version"] and all(x["rule_id"] and x["source"] for x in r.json["reasons"])


def test_psypact_apit_allows_telehealth_but_not_in_person(api, admin, scheduler):
    body = clinician_body("Dr Compact", npi=VALID_NPIS[2], licenses=["US-NJ"],
                          compact_privileges=[{"compact": "PSYPACT", "kind": "APIT", "home_jurisdiction": "US-NJ",
                                               "expires_on": "2030-01-01"}])
    c = admin.post("/v1/clinicians", body).json
    video = check(scheduler, c["clinician_id"], "US-PA")
    assert video.json["allowed"] is True and video.json["basis"]["compact"] == "PSYPACT"
    in_person = check(scheduler, c["clinician_id"], "US-PA", modality="in_person")
    assert in_person.json["allowed"] is False
    assert "PRIVILEGE_WRONG_MODALITY" in {x["code"] for x in in_person.json["reasons"]}


def test_an_expired_licence_is_refused_with_its_own_code(api, admin, scheduler):
    c = admin.post("/v1/clinicians", clinician_body("Dr Old", npi=VALID_NPIS[3], expires_on="2026-01-31")).json
    r = check(scheduler, c["clinician_id"], "US-NY")
    assert r.json["allowed"] is False and "LICENSE_EXPIRED" in {x["code"] for x in r.json["reasons"]}


def test_prescribing_without_dea_registration_in_the_patients_state_is_refused(world, scheduler):
    r = check(scheduler, world["clinician"]["clinician_id"], "US-NY",
              prescribing={"controlled_substance_schedule": "II"})
    assert r.status == 200 and r.json["allowed"] is False
    assert "DEA_REGISTRATION_MISSING_IN_STATE" in {x["code"] for x in r.json["reasons"]}


def test_a_clinician_may_check_only_themself(world, api, scheduler):
    other = api.as_role("clinician", clinician_id="someone-else")
    assert check(other, world["clinician"]["clinician_id"], "US-NY").status == 404
    me = api.as_role("clinician", clinician_id=world["clinician"]["clinician_id"])
    assert check(me, world["clinician"]["clinician_id"], "US-NY").json["allowed"] is True
    assert check(api.as_role("patient", patient_id="p"), world["clinician"]["clinician_id"], "US-NY").status == 403


def test_bad_fields_are_named(world, scheduler):
    r = scheduler.post("/v1/licensure/checks", {"clinician_id": world["clinician"]["clinician_id"],
                                                "patient_jurisdiction": "New York", "modality": "fax", "date": "x"})
    assert r.status == 400
    assert {"patient_jurisdiction", "modality", "date"} <= {e["field"] for e in r.json["errors"]}


STATES = ["US-NY", "US-NJ", "US-PA", "US-CA", "US-TX", "US-MA", "US-AZ"]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(licences=st.lists(st.sampled_from(STATES), min_size=0, max_size=3, unique=True),
       apit_home=st.sampled_from([None, "US-NJ", "US-PA"]),
       where=st.sampled_from(STATES), expires_in_days=st.integers(min_value=-3, max_value=10))
def test_no_availability_option_is_one_the_check_would_deny(api, admin, scheduler, clock, licences, apit_home,
                                                              where, expires_in_days):
    expires = (clock.now + timedelta(days=expires_in_days)).date().isoformat()
    privileges = ([{"compact": "PSYPACT", "kind": "APIT", "home_jurisdiction": apit_home, "expires_on": expires}]
                  if apit_home else [])
    body = clinician_body("Dr Prop", npi=VALID_NPIS[4], licenses=licences or ["US-OR"], expires_on=expires,
                          compact_privileges=privileges)
    c = admin.post("/v1/clinicians", body).json
    admin.put(f"/v1/clinicians/{c['clinician_id']}/availability",
              {"rules": weekday_rules(start="00:00", end="24:00", days=range(7))})
    start = datetime(2026, 3, 2, 12, tzinfo=UTC)
    r = scheduler.get(f"/v1/availability?service=90834&patient_jurisdiction={where}&clinician_id={c['clinician_id']}"
                      f"&from={start:%Y-%m-%dT%H:%M:%SZ}&to={start + timedelta(days=8):%Y-%m-%dT%H:%M:%SZ}&limit=200")
    assert r.status == 200
    seen_dates: set[tuple[str, str]] = set()
    for item in r.json["items"]:
        local_day = datetime.fromisoformat(item["start"].replace("Z", "+00:00")).astimezone(
            _zone(where)).date().isoformat()
        if (item["modality"], local_day) in seen_dates:
            continue
        seen_dates.add((item["modality"], local_day))
        verdict = check(scheduler, c["clinician_id"], where, modality=item["modality"], on=local_day)
        assert verdict.json["allowed"] is True, (item, verdict.json)
    if not r.json["items"]:
        # nothing offered: then on every day the check must refuse (or the clinician has no hours)
        day = date(2026, 3, 3).isoformat()
        assert check(scheduler, c["clinician_id"], where, on=day).json["allowed"] is False or expires_in_days < 1


def _zone(where):
    from zoneinfo import ZoneInfo

    from chalicelib.domain.jurisdictions import care_zone
    from chalicelib.rules.bundle import rulebook

    return ZoneInfo(care_zone(rulebook().tables, where, "UTC"))
