"""Hybrid routing through the API: recommendations that are real and explained, and crises never silent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support import VALID_NPIS, clinic_with_psychologist, clinician_body, patient_body, weekday_rules

pytestmark = pytest.mark.api
WINDOW = {"from": "2026-03-03T00:00:00Z", "to": "2026-03-20T00:00:00Z"}
PHQ9_SEVERE_ITEM9 = [3, 3, 3, 2, 2, 2, 2, 2, 1]  # 20: severe, item 9 positive
PHQ9_MILD = [1, 1, 1, 1, 1, 0, 0, 0, 0]  # 5: mild
CSSRS_INTENT = [1, 1, 0, 1, 0, 0]  # question 4 (intent) yes


@pytest.fixture
def clinic(api, admin, scheduler) -> dict[str, Any]:
    world = clinic_with_psychologist(admin)
    spanish = admin.post("/v1/clinicians", clinician_body(
        "Dr. Ruiz", npi=VALID_NPIS[1], site_ids=[world["site"]["site_id"]], languages=["en", "es"])).json
    assert admin.put(f"/v1/clinicians/{spanish['clinician_id']}/availability",
                     {"rules": weekday_rules(site_id=world["site"]["site_id"])}).status == 200
    world["spanish"] = spanish
    world["patient"] = scheduler.post("/v1/patients", patient_body()).json
    return world


def recommend(caller, world, **over: Any):
    body = {"patient_id": world["patient"]["patient_id"], "service": "90834", "window": WINDOW, **over}
    return caller.post("/v1/routing/recommendations", body)


def test_an_ordinary_request_gets_real_ranked_options_and_the_rules_that_fired(clinic, scheduler):
    r = recommend(scheduler, clinic, preferences={"modality": "video"})
    assert r.status == 200, r.json
    body = r.json
    assert body["decision"] == "schedule" and body["crisis"] is None and body["rules_version"]
    assert body["recommended_modality"] == "video"
    assert len(body["options"]) == 10
    top = body["options"][0]
    assert top["modality"] == "video" and top["licensure"]["allowed"] is True
    assert "route-patient-preference" in {x["rule_id"] for x in top["reasons"]}
    scores = [o["score"] for o in body["options"]]
    assert scores == sorted(scores, reverse=True)
    # The same inputs, clock and rules give the same ranking
    assert recommend(scheduler, clinic, preferences={"modality": "video"}).json["options"] == body["options"]


def test_imminent_risk_escalates_publishes_and_offers_no_booking(clinic, scheduler, api, services):
    queue = _subscribe()
    pat = api.as_role("patient", patient_id=clinic["patient"]["patient_id"])
    r = recommend(pat, clinic, screening={"instrument": "C-SSRS", "answers": CSSRS_INTENT})
    assert r.status == 200, r.json
    body = r.json
    assert body["decision"] == "escalate" and body["options"] == [] and body["risk_level"] == "imminent"
    assert "C-SSRS question 4 answered yes" in body["screening"]["findings"]
    crisis = body["crisis"]
    assert crisis["emergency_number"] == "911"
    assert {x["name"] for x in crisis["resources"]} == {"988 Suicide & Crisis Lifeline",
                                                        "Veterans Crisis Line (988, press 1)"}
    assert "route-crisis-imminent" in {x["rule_id"] for x in body["explanation"]}
    # stored, listed for on-call, published without PHI
    open_ = scheduler.get("/v1/escalations?status=open").json["items"]
    assert [e["escalation_id"] for e in open_] == [crisis["escalation_id"]]
    message = _received(queue)
    assert message["type"] == "escalation.opened" and message["escalation_id"] == crisis["escalation_id"]
    assert "Pat Example" not in json.dumps(message) and "1990-04-01" not in json.dumps(message)


def test_a_canadian_patient_gets_9_8_8(clinic, scheduler):
    r = recommend(scheduler, clinic, risk_level="imminent", patient_jurisdiction="CA-ON")
    assert r.json["crisis"]["resources"][0]["name"] == "9-8-8 Suicide Crisis Helpline"


def test_high_risk_from_phq9_item_9_means_in_person_or_video_soonest_within_the_bound(clinic, scheduler):
    r = recommend(scheduler, clinic, risk_level="none", screening={"instrument": "PHQ-9", "answers": PHQ9_SEVERE_ITEM9})
    body = r.json
    assert body["risk_level"] == "high"  # the stated "none" cannot lower what the screening implies
    assert body["screening"]["score"] == 20 and body["screening"]["band"] == "severe"
    assert body["options"] and {o["modality"] for o in body["options"]} <= {"in_person", "video"}
    starts = [o["start"] for o in body["options"]]
    assert starts == sorted(starts)
    assert max(starts) <= "2026-03-05T12:00:00Z"  # three days from 2 March 12:00
    assert {"route-high-risk-modalities"} <= {x["rule_id"] for x in body["explanation"]}


def test_screenings_are_stored_with_the_patient_and_shown_to_their_clinicians_only(clinic, scheduler, api, admin,
                                                                                   clock):
    recommend(scheduler, clinic, screening={"instrument": "PHQ-9", "answers": PHQ9_MILD})
    clock.advance(minutes=5)
    recommend(scheduler, clinic, screening={"instrument": "GAD-7", "answers": [2] * 7})
    patient_id = clinic["patient"]["patient_id"]
    trend = scheduler.get(f"/v1/patients/{patient_id}/screenings").json["items"]
    assert [(s["instrument"], s["score"]) for s in trend] == [("GAD-7", 14), ("PHQ-9", 5)]
    clin = api.as_role("clinician", clinician_id=clinic["clinician"]["clinician_id"])
    assert clin.get(f"/v1/patients/{patient_id}/screenings").status == 404  # no visit together yet
    assert scheduler.post("/v1/appointments", {
        "patient_id": patient_id, "clinician_id": clinic["clinician"]["clinician_id"], "service": "90834",
        "start": "2026-03-03T10:00:00-05:00", "modality": "video"}).status == 201
    assert len(clin.get(f"/v1/patients/{patient_id}/screenings").json["items"]) == 2
    reads = [e for e in admin.get(f"/v1/audit?patient_id={patient_id}&limit=200").json["items"]
             if e["action"] == "screening.read"]
    assert len(reads) == 2


def test_a_stated_risk_can_raise_what_a_mild_screening_implies(clinic, scheduler):
    r = recommend(scheduler, clinic, risk_level="high", screening={"instrument": "PHQ-9", "answers": PHQ9_MILD})
    assert r.json["risk_level"] == "high" and r.json["screening"]["implied_risk"] == "low"


def test_no_reliable_video_means_phone_or_clinic(api, admin, scheduler):
    world = clinic_with_psychologist(admin)
    world["patient"] = scheduler.post("/v1/patients", patient_body(tech_access={"video": False})).json
    body = recommend(scheduler, world, limit=50).json
    assert body["options"] and "video" not in {o["modality"] for o in body["options"]}
    assert "route-no-reliable-video" in {x["rule_id"] for x in body["explanation"]}


def test_a_spanish_speaker_is_matched_with_a_spanish_speaking_clinician(clinic, scheduler):
    body = recommend(scheduler, clinic, preferences={"language": "es"}).json
    assert body["options"][0]["clinician_id"] == clinic["spanish"]["clinician_id"]
    assert "route-language-match" in {x["rule_id"] for x in body["options"][0]["reasons"]}


def test_a_payer_that_does_not_cover_phone_excludes_it_and_switching_to_phone_is_refused(clinic, scheduler, api):
    # A payer of this test's own: payer configuration is shared by every tenant of the stage.
    payer_id = f"nophone-{clinic['patient']['patient_id'][-8:].lower()}"
    payer = api.as_role("payer", payer_id=payer_id)
    r = payer.put(f"/v1/payers/{payer_id}", {"name": "No Phone Health", "connector": {"kind": "roster"},
                                              "telehealth_policy": {"phone": {"covered": False}}})
    assert r.status == 200, r.json
    clinic["patient"] = scheduler.post("/v1/patients", patient_body(
        coverages=[{"payer_id": payer_id, "member_id": "NP100"}])).json
    body = recommend(scheduler, clinic, limit=50).json
    assert "phone" not in {o["modality"] for o in body["options"]}
    assert "route-payer-telehealth-coverage" in {x["rule_id"] for x in body["explanation"]}
    booked = scheduler.post("/v1/appointments", {
        "patient_id": clinic["patient"]["patient_id"], "clinician_id": clinic["clinician"]["clinician_id"],
        "service": "90834", "start": "2026-03-03T10:00:00-05:00", "modality": "video"})
    assert booked.status == 201, booked.json
    appointment_id = booked.json["appointment_id"]
    r = scheduler.post(f"/v1/appointments/{appointment_id}/switch-modality", {"modality": "phone"})
    assert (r.status, r.json["code"]) == (422, "ROUTING_RULE_REFUSED")
    assert r.json["reasons"][0]["rule_id"] == "route-payer-telehealth-coverage"
    # ... but the product's own fallback when video cannot start is never blocked by a billing rule
    r = scheduler.post(f"/v1/appointments/{appointment_id}/switch-modality",
                       {"modality": "phone", "reason": "video_unavailable"})
    assert r.status == 200 and r.json["modality"] == "phone"


def test_after_a_high_risk_screening_a_switch_to_phone_is_refused(clinic, scheduler):
    booked = scheduler.post("/v1/appointments", {
        "patient_id": clinic["patient"]["patient_id"], "clinician_id": clinic["clinician"]["clinician_id"],
        "service": "90834", "start": "2026-03-03T10:00:00-05:00", "modality": "video"}).json
    recommend(scheduler, clinic, screening={"instrument": "PHQ-9", "answers": PHQ9_SEVERE_ITEM9})
    r = scheduler.post(f"/v1/appointments/{booked['appointment_id']}/switch-modality", {"modality": "phone"})
    assert (r.status, r.json["code"]) == (422, "ROUTING_RULE_REFUSED")
    assert r.json["reasons"][0]["rule_id"] == "route-high-risk-modalities"
    assert scheduler.get(f"/v1/appointments/{booked['appointment_id']}").json["modality"] == "video"


def test_prescribing_before_and_after_the_dea_flexibilities_end(api, admin, scheduler, clock):
    world = clinic_with_psychologist(admin)
    psychiatrist = admin.post("/v1/clinicians", clinician_body(
        "Dr. Rx", npi=VALID_NPIS[2], discipline="psychiatrist", site_ids=[world["site"]["site_id"]],
        licenses=[], dea_registrations=[{"jurisdiction": "US-NY", "number": "AB1234563", "schedules": ["II"],
                                         "expires_on": "2030-12-31"}])).json
    r = admin.api.call("PATCH", f"/v1/clinicians/{psychiatrist['clinician_id']}", {"licenses": [
        {"jurisdiction": "US-NY", "type": "MD", "number": "NY-MD-1", "expires_on": "2030-12-31"}]}, token=admin.token)
    assert r.status == 200, r.json
    assert admin.put(f"/v1/clinicians/{psychiatrist['clinician_id']}/availability",
                     {"rules": weekday_rules(site_id=world["site"]["site_id"], days=range(7))}).status == 200
    world["patient"] = scheduler.post("/v1/patients", patient_body()).json
    # The patient would like video: before the flexibilities end the rules allow it, after it they don't.
    ask = {"service": "90792", "prescribing": {"controlled_substance_schedule": "II"}, "limit": 50,
           "preferences": {"modality": "video"}}

    clock.now = datetime(2026, 12, 20, 12, tzinfo=UTC)
    before = recommend(scheduler, world, window={"from": "2026-12-21T00:00:00Z", "to": "2026-12-24T00:00:00Z"},
                       **ask).json
    assert before["options"][0]["modality"] == "video"
    clock.now = datetime(2027, 1, 4, 12, tzinfo=UTC)
    after = recommend(scheduler, world, window={"from": "2027-01-05T00:00:00Z", "to": "2027-01-08T00:00:00Z"},
                      **ask).json
    assert after["options"] and {o["modality"] for o in after["options"]} == {"in_person"}
    assert "route-prescribing-initial-evaluation" in {x["rule_id"] for x in after["explanation"]}


def test_escalations_are_acknowledged_resolved_and_reported_when_overdue(clinic, scheduler, api, services, clock):
    queue = _subscribe()
    crisis = recommend(scheduler, clinic, risk_level="imminent").json["crisis"]
    _received(queue)  # escalation.opened
    clock.advance(minutes=31)
    assert crisis["escalation_id"] in services.routing.report_overdue()  # the job sees every tenant
    assert _received(queue)["type"] == "escalation.overdue"
    assert crisis["escalation_id"] not in services.routing.report_overdue()  # once each
    clin = api.as_role("clinician", clinician_id=clinic["clinician"]["clinician_id"])
    r = clin.post(f"/v1/escalations/{crisis['escalation_id']}/acknowledge", {"note": "called back"})
    assert r.status == 200 and r.json["status"] == "acknowledged" and r.json["acknowledged_by"] == "clinician"
    assert scheduler.get("/v1/escalations?status=open").json["items"] == []
    r = clin.post(f"/v1/escalations/{crisis['escalation_id']}/resolve", {"outcome": ""})
    assert r.status == 400 and r.json["errors"][0]["field"] == "outcome"
    r = clin.post(f"/v1/escalations/{crisis['escalation_id']}/resolve", {"outcome": "safety plan in place"})
    assert r.json["status"] == "resolved"
    assert clin.post(f"/v1/escalations/{crisis['escalation_id']}/resolve", {"outcome": "x"}).status == 409
    pat = api.as_role("patient", patient_id=clinic["patient"]["patient_id"])
    assert pat.get("/v1/escalations").status == 403


def test_tenant_policy_can_switch_rules_off_but_never_the_crisis_escalation(clinic, scheduler, admin):
    r = admin.put("/v1/tenant/settings", {"routing": {"disabled_rules": ["route-crisis-imminent"]}})
    assert r.status == 400 and r.json["errors"][0]["field"] == "routing.disabled_rules[0]"
    r = admin.put("/v1/tenant/settings", {"routing": {"disabled_rules": ["route-language-match"],
                                                      "high_risk_max_wait_days": 2}})
    assert r.status == 200 and r.json["routing"]["disabled_rules"] == ["route-language-match"]
    body = recommend(scheduler, clinic, preferences={"language": "es"}).json
    assert "route-language-match" not in {x["rule_id"] for o in body["options"] for x in o["reasons"]}
    high = recommend(scheduler, clinic, risk_level="high").json
    assert high["options"] and max(o["start"] for o in high["options"]) <= "2026-03-04T12:00:00Z"


def test_bad_input_names_the_field(clinic, scheduler):
    r = recommend(scheduler, clinic, screening={"instrument": "PHQ-9", "answers": [1, 2]})
    assert r.status == 400 and r.json["errors"][0]["field"] == "screening.answers"
    r = recommend(scheduler, clinic, risk_level="panic", window={"from": "2026-03-05T00:00:00Z",
                                                                 "to": "2026-03-04T00:00:00Z"})
    assert r.status == 400 and {"risk_level", "window"} <= {e["field"].split(".")[0] for e in r.json["errors"]}


def _subscribe() -> str:
    """An SQS queue on the escalation topic, in moto."""
    import boto3

    sns, sqs = boto3.client("sns", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
    topic = sns.create_topic(Name="hco-escalations")["TopicArn"]
    queue = sqs.create_queue(QueueName=f"esc-{datetime.now(UTC).timestamp():.0f}-{id(sns)}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return queue


def _received(queue: str) -> dict[str, Any]:
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1)
    assert messages.get("Messages"), "nothing was published"
    sqs.delete_message(
        QueueUrl=queue, ReceiptHandle=messages["Messages"][0]["ReceiptHandle"])
    return json.loads(messages["Messages"][0]["Body"])
