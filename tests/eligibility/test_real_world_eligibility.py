"""Issue 17: a 270 a real clearinghouse accepts, and 271 variants of real payers read honestly.

The payer simulator records the 270 it received (GET /admin/last-270) and can answer a canned
271 (a fixture of tests/x12/fixtures) with its trace replaced by ours.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.eligibility.conftest import check_body, landed, new_patient, roster_entry
from tests.support import patient_body

pytestmark = pytest.mark.api

FIXTURES = Path(__file__).parents[1] / "x12" / "fixtures"
TUESDAY_10_NY = "2026-03-03T10:00:00-05:00"


@pytest.fixture(scope="module")
def built_services(aws, settings, module_clock):
    """These tests read answers, not time budgets: attempts long enough for a loaded CI machine."""
    from chalicelib import bootstrap
    from tests.eligibility.conftest import FAST

    roomy = {**FAST, "budget_seconds": 4.0, "attempt_timeout_seconds": 2.0, "booking_budget_seconds": 4.0}
    return bootstrap.build(replace(settings, eligibility=replace(settings.eligibility, **roomy)), module_clock)


def last_270(sim) -> list[list[str]]:
    text = sim.http.get(f"{sim.url}/admin/last-270", timeout=5).text
    return [s.strip("\n").split("*") for s in text.split("~") if s.strip()]


def segment(segments, seg_id, *prefix):
    return next(s for s in segments if s[0] == seg_id and tuple(s[1:1 + len(prefix)]) == prefix)


def canned(sim, name, trace):
    sim.knobs(canned_271=(FIXTURES / name).read_text(), canned_trace=trace)


def put_connector(payer, payer_id, sim, **x12):
    body = {"name": "Acme Health Plan", "connector": {"kind": "x12_http", "url": f"{sim.url}/x12", "x12": x12}}
    r = payer.put(f"/v1/payers/{payer_id}", body)
    assert r.status == 200, r.json
    return r.json


# --- the 270 envelope ----------------------------------------------------------------------------

def test_the_clearinghouse_is_the_interchange_receiver_and_the_payer_only_in_2100a(scheduler, payer, payer_id, sim):
    r = put_connector(payer, payer_id, sim, receiver_id="CLEARHOUSE", receiver_qualifier="01",
                      sender_id="HCO SUB 77", sender_qualifier="30", application_receiver_code="CHGS03")
    assert r["connector"]["x12"]["receiver_id"] == "CLEARHOUSE"

    assert scheduler.post("/v1/eligibility/checks", check_body(payer_id)).json["status"] == "active"

    segments = last_270(sim)
    isa = segments[0]
    assert (isa[5], isa[6].rstrip(), isa[7], isa[8].rstrip()) == ("30", "HCO SUB 77", "01", "CLEARHOUSE")
    gs = segment(segments, "GS")
    assert (gs[2], gs[3]) == ("HCO SUB 77", "CHGS03")
    assert segment(segments, "NM1", "PR")[9] == payer_id
    assert payer_id.upper() not in "*".join(isa + gs)


def test_usage_indicator_is_t_locally_and_p_on_a_deployed_stage(services, scheduler, x12_payer, sim):
    from chalicelib.settings import EligibilitySettings

    assert EligibilitySettings.from_env({}, is_local=True).x12_usage_indicator == "T"
    assert EligibilitySettings.from_env({}, is_local=False).x12_usage_indicator == "P"
    scheduler.post("/v1/eligibility/checks", check_body(x12_payer))
    assert last_270(sim)[0][15] == "T"

    local = services.eligibility.settings
    services.eligibility.settings = replace(local, x12_usage_indicator="P")
    try:
        scheduler.post("/v1/eligibility/checks", check_body(x12_payer, date_of_service="2026-03-10"))
    finally:
        services.eligibility.settings = local
    assert last_270(sim)[0][15] == "P"


def test_control_numbers_come_from_a_counter_and_never_repeat(scheduler, x12_payer, sim):
    seen = []
    for day in ("2026-03-09", "2026-03-10", "2026-03-11"):
        scheduler.post("/v1/eligibility/checks", check_body(x12_payer, date_of_service=day))
        isa, gs = last_270(sim)[0], segment(last_270(sim), "GS")
        assert int(isa[13]) == int(gs[6])
        seen.append(int(isa[13]))
    assert seen == sorted(seen) and len(set(seen)) == 3 and seen[1] == seen[0] + 1


def test_the_control_counter_is_shared_by_every_instance_and_per_sender(services):
    # Two instances stand for two Lambda containers: both draw from the one DynamoDB counter (UpdateItem
    # ADD is atomic in DynamoDB; moto is not thread-safe, so the interleaving is sequential here).
    from chalicelib.adapters.dynamo.x12_control import ControlNumbers

    first, second = ControlNumbers(), ControlNumbers()
    numbers = [counter.next("ZZ", "SHAREDTEST") for _ in range(20) for counter in (first, second)]

    assert numbers == list(range(1, 41))
    assert first.next("30", "SHAREDTEST") == 1  # another qualifier is another sender


def test_a_clinician_is_sent_as_a_person_with_names(world, scheduler, x12_payer, sim):
    body = check_body(x12_payer, clinician_id=world["clinician"]["clinician_id"])
    body.pop("provider_npi")

    scheduler.post("/v1/eligibility/checks", body)

    nm1 = segment(last_270(sim), "NM1", "1P")
    given, family = world["clinician"]["name"].upper().rsplit(" ", 1)
    assert nm1[2:5] == ["1", family, given]
    assert nm1[8:10] == ["XX", world["clinician"]["npi"]]


def test_a_connector_may_send_the_practice_as_the_organisation(world, scheduler, payer, payer_id, sim):
    put_connector(payer, payer_id, sim, provider_entity="organization", organization_name="Riverside Behavioral",
                  organization_npi="1234567893")
    body = check_body(payer_id, clinician_id=world["clinician"]["clinician_id"])
    body.pop("provider_npi")

    scheduler.post("/v1/eligibility/checks", body)

    nm1 = segment(last_270(sim), "NM1", "1P")
    assert nm1[2:4] == ["2", "RIVERSIDE BEHAVIORAL"] and nm1[8:10] == ["XX", "1234567893"]


# --- names ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("charset", "given", "family"), [
    (None, "MARIA JOSE", "DE LA CRUZ NUNEZ"),
    ("extended", "MARÍA JOSÉ", "DE LA CRUZ NÚÑEZ"),
])
def test_patient_names_come_from_given_and_family_and_keep_every_letter(
        world, scheduler, payer, payer_id, sim, charset, given, family, drain_stream):
    sim.member("W100200377", roster_entry(first="Maria Jose", last="De la Cruz Nunez"))
    put_connector(payer, payer_id, sim, **({"character_set": charset} if charset else {}))
    r = scheduler.post("/v1/patients", patient_body(
        "ignored", given_name="María José", family_name="de la Cruz Núñez", birth_date="1985-04-12",
        coverages=[{"payer_id": payer_id, "member_id": "W100200377"}]))
    assert r.status == 201, r.json
    assert (r.json["given_name"], r.json["family_name"]) == ("María José", "de la Cruz Núñez")

    booked = scheduler.post("/v1/appointments", {
        "patient_id": r.json["patient_id"], "clinician_id": world["clinician"]["clinician_id"], "service": "90834",
        "start": TUESDAY_10_NY, "modality": "video", "patient_jurisdiction": "US-NY"})

    assert booked.status == 201, booked.json
    assert landed(scheduler, drain_stream, booked.json)["eligibility"] == {"status": "verified"}  # the name matched
    nm1 = segment(last_270(sim), "NM1", "IL")
    assert nm1[3:5] == [family, given]


def test_a_patient_may_be_created_with_given_and_family_names_only(scheduler):
    body = patient_body(given_name="Ana", family_name="Lima")
    body.pop("name")

    r = scheduler.post("/v1/patients", body)

    assert r.status == 201, r.json
    assert (r.json["name"], r.json["given_name"], r.json["family_name"]) == ("Ana Lima", "Ana", "Lima")
    patched = scheduler.api.call("PATCH", f"/v1/patients/{r.json['patient_id']}", {"family_name": "Lima Souza"},
                                 token=scheduler.token)
    assert patched.status == 200 and patched.json["family_name"] == "Lima Souza"


def test_a_name_the_payers_character_set_cannot_spell_is_refused_naming_the_field(scheduler, x12_payer, sim):
    body = check_body(x12_payer)
    body["member"]["first_name"] = "Иван"

    r = scheduler.post("/v1/eligibility/checks", body)

    assert r.status == 422 and r.json["code"] == "X12_VALUE_NOT_SENDABLE"
    assert [e["field"] for e in r.json["errors"]] == ["member.first_name"]
    assert "Иван" not in r.raw.decode()
    assert sim.received == 0


def test_a_member_id_as_printed_on_the_card_is_cleaned(scheduler, x12_payer, sim):
    body = check_body(x12_payer)
    body["member"]["member_id"] = "W100 200 300"

    r = scheduler.post("/v1/eligibility/checks", body)

    assert r.status == 200 and r.json["status"] == "active"
    assert segment(last_270(sim), "NM1", "IL")[9] == "W100200300"


@pytest.mark.parametrize("member_id", ["W100*200", "W100~200", "W100:200", "W100^200"])
def test_a_delimiter_in_a_member_id_is_refused_naming_the_field(scheduler, x12_payer, sim, member_id):
    body = check_body(x12_payer)
    body["member"]["member_id"] = member_id

    r = scheduler.post("/v1/eligibility/checks", body)

    assert r.status in (400, 422)
    assert [e["field"] for e in r.json["errors"]] == ["member.member_id"]
    assert sim.received == 0


# --- 271 variants ----------------------------------------------------------------------------------

def test_a_carve_out_answer_names_who_to_ask_and_confirms_nothing(world, scheduler, x12_payer, sim, drain_stream):
    canned(sim, "271_carve_out_behavioral_health.x12", "CHKCARVE0001")

    r = scheduler.post("/v1/eligibility/checks", check_body(x12_payer))

    assert r.json["status"] == "active" and r.json["carve_out"] is True
    assert r.json["refer_to"] == [{"entity_code": "VN", "name": "MINDWELL BEHAVIORAL HEALTH", "id_qualifier": "PI",
                                   "id": "MBH01", "phone": "8005550199"}]
    assert r.json["benefits"]["copay"] is None and r.json["benefits"]["coinsurance"] is None
    assert r.json["telehealth"]["covered"] is None

    patient_id = new_patient(scheduler, x12_payer)
    booked = scheduler.post("/v1/appointments", {
        "patient_id": patient_id, "clinician_id": world["clinician"]["clinician_id"], "service": "90834",
        "start": TUESDAY_10_NY, "modality": "in_person", "site_id": world["site"]["site_id"],
        "patient_jurisdiction": "US-NY"})
    assert landed(scheduler, drain_stream, booked.json)["eligibility"] == {"status": "unknown"}


@pytest.mark.parametrize(("modality", "copay"), [("video", "10.00"), ("in_person", "40.00")])
def test_the_copay_is_the_one_for_the_visits_place_of_service(scheduler, x12_payer, sim, modality, copay):
    canned(sim, "271_copay_by_place_of_service.x12", "CHKPOS0001")

    r = scheduler.post("/v1/eligibility/checks", check_body(x12_payer, modality=modality))

    assert r.json["status"] == "active" and r.json["benefits"]["copay"] == copay


def test_aaa_42_without_a_member_loop_is_retried_not_a_trace_error(scheduler, x12_payer, sim):
    canned(sim, "271_aaa_42_source_without_hl.x12", "CHKAAA42NOHL")

    r = scheduler.post("/v1/eligibility/checks", check_body(x12_payer))

    assert r.json["status"] == "pending" and r.json["pending"]["reason"] == "aaa_42"
    assert sim.received >= 2  # retried inside the budget
    assert [e["code"] for e in r.json["aaa_errors"]] == ["42"]


def test_aaa_43_without_a_member_loop_is_an_error_with_its_code(scheduler, x12_payer, sim):
    canned(sim, "271_aaa_43_receiver_without_hl.x12", "CHKAAA43NOHL")

    r = scheduler.post("/v1/eligibility/checks", check_body(x12_payer))

    assert (r.json["status"], r.json["error"]) == ("error", "aaa_43")
    assert sim.received == 1


@pytest.mark.parametrize(("name", "kind", "codes"), [
    ("ta1_rejected_duplicate_control_number.x12", "TA1", ["TA1:025"]),
    ("999_rejected_member_id.x12", "999", ["IK3:8", "IK4:6", "IK5:5"]),
])
def test_a_ta1_or_999_rejection_is_surfaced_with_its_codes(scheduler, x12_payer, sim, name, kind, codes):
    canned(sim, name, "")

    r = scheduler.post("/v1/eligibility/checks", check_body(x12_payer))

    assert (r.json["status"], r.json["error"]) == ("error", f"x12_rejected_{kind.lower()}")
    assert r.json["rejection"]["kind"] == kind and r.json["rejection"]["ack_code"] == "R"
    assert [c["code"] for c in r.json["rejection"]["codes"]] == codes


@pytest.mark.parametrize("mangle", [
    lambda t: t + "   \x00\x1a",
    lambda t: "\r\n".join(t.replace("\n", "")[i:i + 80] for i in range(0, len(t.replace("\n", "")), 80)),
])
def test_a_271_with_junk_after_iea_or_wrapped_lines_is_read(scheduler, x12_payer, sim, mangle):
    text = (FIXTURES / "271_bad_date_in_one_benefit_row.x12").read_text()
    sim.knobs(canned_271=mangle(text), canned_trace="CHKBADDATE01")

    r = scheduler.post("/v1/eligibility/checks", check_body(x12_payer))

    assert r.json["status"] == "active", r.json
    assert r.json["benefits"]["copay"] == "25.00" and r.json["plan"]["name"] == "ACME CHOICE PPO"
    assert len(r.json["warnings"]) == 1  # the EB*F row with the impossible date was dropped


def test_a_service_the_payer_excludes_is_not_covered_in_person_too(world, scheduler, x12_payer, sim, drain_stream):
    canned(sim, "271_service_excluded.x12", "CHKEXCL0001")
    patient_id = new_patient(scheduler, x12_payer)

    booked = scheduler.post("/v1/appointments", {
        "patient_id": patient_id, "clinician_id": world["clinician"]["clinician_id"], "service": "90834",
        "start": TUESDAY_10_NY, "modality": "in_person", "site_id": world["site"]["site_id"],
        "patient_jurisdiction": "US-NY"})

    assert booked.status == 201
    assert landed(scheduler, drain_stream, booked.json)["eligibility"] == {"status": "not_covered"}


# --- billing and dependents ------------------------------------------------------------------------

def test_the_appointments_billing_follows_the_payers_policy_and_the_modality(world, scheduler, payer, x12_payer,
                                                                          sim):
    payer.put(f"/v1/payers/{x12_payer}", {
        "name": "Acme", "connector": {"kind": "x12_http", "url": f"{sim.url}/x12"},
        "telehealth_policy": {"place_of_service_home": "02", "modifiers": {"video": ["GT"], "phone": ["FQ"]}}})
    patient_id = new_patient(scheduler, x12_payer)

    booked = scheduler.post("/v1/appointments", {
        "patient_id": patient_id, "clinician_id": world["clinician"]["clinician_id"], "service": "90834",
        "start": TUESDAY_10_NY, "modality": "video", "patient_jurisdiction": "US-NY"})
    assert booked.json["billing"] == {"place_of_service": "02", "modifiers": ["GT"]}

    switched = scheduler.post(f"/v1/appointments/{booked.json['appointment_id']}/switch-modality",
                              {"modality": "phone", "reason": "patient has no camera"})
    assert switched.status == 200, switched.json
    assert switched.json["billing"] == {"place_of_service": "02", "modifiers": ["FQ"]}


def test_a_dependent_is_checked_as_hl_23_through_the_json_api(scheduler, x12_payer, sim):
    entry = roster_entry()
    entry["dependents"] = [{"first_name": "Sam", "last_name": "Doe", "birth_date": "2014-09-03",
                            "relationship": "19"}]
    sim.member("W100200300", entry)
    body = check_body(x12_payer, dependent={"first_name": "Sam", "last_name": "Doe", "birth_date": "2014-09-03",
                                            "relationship": "19"})

    r = scheduler.post("/v1/eligibility/checks", body)

    assert r.status == 200 and r.json["status"] == "active", r.json
    segments = last_270(sim)
    assert segment(segments, "HL", "4")[1:5] == ["4", "3", "23", "0"]
    assert segment(segments, "NM1", "03")[3:5] == ["DOE", "SAM"]
    assert segment(segments, "NM1", "IL")[3:5] == ["DOE", "JANE"]
    assert not any(s[0] == "DMG" and s[2] == "19850412" for s in segments)  # subscriber DMG not sent


def test_a_patient_covered_as_a_dependent_is_checked_as_one_at_booking(world, scheduler, x12_payer, sim,
                                                                       drain_stream):
    entry = roster_entry()
    entry["dependents"] = [{"first_name": "Sam", "last_name": "Doe", "birth_date": "2014-09-03"}]
    sim.member("W100200300", entry)
    r = scheduler.post("/v1/patients", patient_body(
        "Sam Doe", given_name="Sam", family_name="Doe", birth_date="2014-09-03",
        coverages=[{"payer_id": x12_payer, "member_id": "W100200300", "relationship": "19",
                    "subscriber": {"given_name": "Jane", "family_name": "Doe", "birth_date": "1985-04-12"}}]))
    assert r.status == 201, r.json
    assert r.json["coverages"][0]["relationship"] == "19"

    booked = scheduler.post("/v1/appointments", {
        "patient_id": r.json["patient_id"], "clinician_id": world["clinician"]["clinician_id"], "service": "90834",
        "start": TUESDAY_10_NY, "modality": "video", "patient_jurisdiction": "US-NY"})

    assert landed(scheduler, drain_stream, booked.json)["eligibility"] == {"status": "verified"}
    segments = last_270(sim)
    assert segment(segments, "NM1", "03")[3:5] == ["DOE", "SAM"]
    assert segment(segments, "NM1", "IL")[3:5] == ["DOE", "JANE"]


def test_half_a_dependent_coverage_is_refused_naming_the_field(scheduler, x12_payer):
    r = scheduler.post("/v1/patients", patient_body(
        coverages=[{"payer_id": x12_payer, "member_id": "W100200300", "relationship": "19"}]))

    assert r.status == 400
    assert any(e["field"].startswith("coverages") for e in r.json["errors"])


@pytest.mark.parametrize(("x12", "field"), [
    ({"receiver_id": "CLEAR*HOUSE"}, "receiver_id"),
    ({"receiver_qualifier": "zz"}, "receiver_qualifier"),
    ({"character_set": "utf8"}, "character_set"),
])
def test_connector_envelope_settings_are_validated_naming_the_field(payer, payer_id, sim, x12, field):
    r = payer.put(f"/v1/payers/{payer_id}", {"name": "Acme", "connector": {"kind": "x12_http",
                                                                           "url": f"{sim.url}/x12", "x12": x12}})

    assert r.status == 400 and r.json["code"] == "VALIDATION_ERROR"
    assert any(e["field"].endswith(field) for e in r.json["errors"]), r.json["errors"]
