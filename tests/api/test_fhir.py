"""FHIR R4 at /fhir/R4: the same services, callers and rules as /v1; every resource validated by fhir.resources.

World (tests/api/conftest.py): a NY site, a NY-licensed psychologist working there Mon-Fri 09-17 (clinic,
video, phone), a NY patient. The clock stands at Monday 2 March 2026, 12:00 UTC.
"""

from __future__ import annotations

import json

import pytest

from tests.support import VALID_NPIS, Api, clinician_body, patient_body, weekday_rules

pytestmark = pytest.mark.api

FHIR = "application/fhir+json"
CPT = "http://www.ama-assn.org/go/cpt"
MODALITY = "https://hybrid-care.example/fhir/StructureDefinition/visit-modality"
JURISDICTION = "https://hybrid-care.example/fhir/StructureDefinition/patient-jurisdiction"
LICENSED = "https://hybrid-care.example/fhir/StructureDefinition/licensed-jurisdiction"
COMPACT = "https://hybrid-care.example/fhir/StructureDefinition/compact-privilege"
DEEP_LINK = "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-deep-link"
BOOKING_PHONE = "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-phone"
TUESDAY = "start=ge2026-03-03T00:00:00Z&start=lt2026-03-04T00:00:00Z"
TUESDAY_10_NY = "2026-03-03T10:00:00-05:00"


def valid(resource):
    """Validate with the fhir.resources R4B model of its type (a Bundle validates every entry)."""
    from fhir.resources.R4B import get_fhir_model_class

    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def fhir_get(role, path):
    r = role.get(path)
    assert r.headers["Content-Type"] == FHIR, (path, r.status, r.raw[:300])
    valid(r.json)
    return r


def entries(bundle):
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    return [e["resource"] for e in bundle.get("entry", [])]


def issue_code(r):
    assert r.headers["Content-Type"] == FHIR and r.json["resourceType"] == "OperationOutcome", r.raw[:300]
    valid(r.json)
    return r.json["issue"][0]["details"]["coding"][0]["code"]


def ext(resource, url):
    return [e for e in resource.get("extension", []) if e["url"] == url]


def fid(internal):
    return internal.replace("-", ".").replace("_", "-")


def appointment_body(world, start=TUESDAY_10_NY, modality="VIDEOCONF", jurisdiction="US-NY", patient=None):
    return {
        "resourceType": "Appointment", "status": "booked", "start": start,
        "serviceType": [{"coding": [{"system": CPT, "code": "90834"}]}],
        "participant": [
            {"actor": {"reference": f"Patient/{fid(patient or world['patient']['patient_id'])}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{fid(world['clinician']['clinician_id'])}"}, "status": "accepted"}],
        "extension": [{"url": MODALITY, "valueCoding": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode", "code": modality}},
            {"url": JURISDICTION, "valueCode": jurisdiction}],
    }


def post_fhir(role, body, key=None):
    headers = {"Content-Type": FHIR, **({"Idempotency-Key": key} if key else {})}
    return role.api.call("POST", "/fhir/R4/Appointment", raw=json.dumps(body), token=role.token, headers=headers)


# --- metadata --------------------------------------------------------------------------------------
def test_capability_statement_lists_exactly_the_interactions_that_have_routes(api, services):
    from app import app

    r = api.call("GET", "/fhir/R4/metadata")
    assert r.status == 200 and r.headers["Content-Type"] == FHIR
    statement = valid(r.json)
    assert statement["fhirVersion"] == "4.0.1" and FHIR in statement["format"]
    claimed = {(res["type"], i["code"]) for res in statement["rest"][0]["resource"] for i in res["interaction"]}
    routes = set()
    for path, methods in app.routes.items():
        parts = path.split("/")
        if path.startswith("/fhir/R4/") and parts[3][0].isupper():
            kind = parts[3]
            if "GET" in methods:
                routes.add((kind, "read" if len(parts) == 5 else "search-type"))
            if "POST" in methods:
                routes.add((kind, "create"))
    assert claimed == routes
    slot = next(res for res in statement["rest"][0]["resource"] if res["type"] == "Slot")
    assert {"schedule", "start", "service-type", "status"} <= {p["name"] for p in slot["searchParam"]}


# --- directory resources ---------------------------------------------------------------------------
def test_patient_read_and_search_and_a_patient_sees_only_themself(api, world, scheduler):
    pid = world["patient"]["patient_id"]
    patient = fhir_get(scheduler, f"/fhir/R4/Patient/{fid(pid)}").json
    assert patient["birthDate"] == "1990-04-01" and patient["name"] == [{"text": "Pat Example"}]
    assert patient["address"][0]["state"] == "NY"
    assert [p["id"] for p in entries(fhir_get(scheduler, f"/fhir/R4/Patient?_id={fid(pid)}").json)] == [fid(pid)]
    me = Api(api.client, api.tenant).as_role("patient", patient_id=pid)
    assert [p["id"] for p in entries(fhir_get(me, "/fhir/R4/Patient").json)] == [fid(pid)]
    other = scheduler.post("/v1/patients", patient_body("Other Person")).json["patient_id"]
    stranger = me.get(f"/fhir/R4/Patient/{fid(other)}")
    assert stranger.status == 404 and issue_code(stranger) == "NOT_FOUND"
    assert "Other Person" not in stranger.raw.decode()
    assert entries(fhir_get(me, f"/fhir/R4/Patient?_id={fid(other)}").json) == []


def test_practitioner_and_role_carry_npi_discipline_modalities_languages_licences_and_compacts(admin, scheduler):
    body = clinician_body("Dr Compact", npi=VALID_NPIS[2], licenses=["US-NJ"], languages=["en", "es"],
                          modalities=["video", "phone"],
                          compact_privileges=[{"compact": "PSYPACT", "kind": "APIT", "home_jurisdiction": "US-NJ",
                                               "expires_on": "2030-01-01", "jurisdictions": ["US-PA"]}])
    cid = admin.post("/v1/clinicians", body).json["clinician_id"]
    practitioner = fhir_get(scheduler, f"/fhir/R4/Practitioner/{fid(cid)}").json
    assert practitioner["identifier"] == [{"system": "http://hl7.org/fhir/sid/us-npi", "value": VALID_NPIS[2]}]
    assert [q["extension"][0]["valueCodeableConcept"]["coding"][0]["code"]
            for q in practitioner["qualification"]] == ["US-NJ"]
    role = fhir_get(scheduler, f"/fhir/R4/PractitionerRole/{fid(cid)}").json
    assert role["practitioner"] == {"reference": f"Practitioner/{fid(cid)}"}
    assert role["code"][0]["coding"][0]["code"] == "psychologist"
    assert {e["valueCoding"]["code"] for e in ext(role, MODALITY)} == {"VIDEOCONF", "PHONE"}
    assert [e["valueCodeableConcept"]["coding"][0]["code"] for e in ext(role, LICENSED)] == ["US-NJ"]
    (compact,) = ext(role, COMPACT)
    parts = {(p["url"], next(v for k, v in p.items() if k.startswith("value"))) for p in compact["extension"]}
    assert {("compact", "PSYPACT"), ("kind", "APIT"), ("home-jurisdiction", "US-NJ"),
            ("jurisdiction", "US-PA")} <= parts
    # Telehealth reaches virtual locations where the clinician may practise; no site, so no physical one.
    assert {x["reference"] for x in role["location"]} == {"Location/virtual.US-NJ", "Location/virtual.US-PA"}
    by_practitioner = fhir_get(scheduler, f"/fhir/R4/PractitionerRole?practitioner=Practitioner/{fid(cid)}").json
    assert [x["id"] for x in entries(by_practitioner)] == [fid(cid)]
    listed = fhir_get(scheduler, "/fhir/R4/Practitioner?_count=200").json
    assert fid(cid) in {x["id"] for x in entries(listed)}


def test_locations_are_the_sites_plus_a_virtual_location_per_jurisdiction(world, scheduler):
    site = world["site"]
    location = fhir_get(scheduler, f"/fhir/R4/Location/{fid(site['site_id'])}").json
    assert location["address"]["state"] == "NY" and location["address"]["postalCode"] == "10001"
    virtual = fhir_get(scheduler, "/fhir/R4/Location/virtual.US-NY").json
    assert virtual["physicalType"]["coding"][0]["code"] == "vi"
    assert ext(virtual, JURISDICTION)[0]["valueCode"] == "US-NY"
    missing = scheduler.get("/fhir/R4/Location/virtual.US-WY")
    assert missing.status == 404 and issue_code(missing) == "NOT_FOUND"
    not_an_id = scheduler.get("/fhir/R4/Location/%C3%84%20x")  # cannot be an id: names nothing
    assert not_an_id.status == 404 and issue_code(not_an_id) == "NOT_FOUND"
    listed = {x["id"] for x in entries(fhir_get(scheduler, "/fhir/R4/Location").json)}
    assert listed == {fid(site["site_id"]), "virtual.US-NY"}


def test_schedule_per_clinician_with_its_services_and_actors(world, scheduler):
    cid = world["clinician"]["clinician_id"]
    schedule = fhir_get(scheduler, f"/fhir/R4/Schedule/{fid(cid)}").json
    codes = {c["coding"][0]["code"] for c in schedule["serviceType"]}
    assert "90834" in codes and "99214" not in codes  # a psychologist does no E/M visits
    assert {"reference": f"PractitionerRole/{fid(cid)}"} in schedule["actor"]
    assert {"reference": f"Location/{fid(world['site']['site_id'])}"} in schedule["actor"]
    assert [x["id"] for x in entries(fhir_get(scheduler, f"/fhir/R4/Schedule?actor=Practitioner/{fid(cid)}").json)] \
        == [fid(cid)]
    assert entries(fhir_get(scheduler, f"/fhir/R4/Schedule?actor=Practitioner/{fid(cid)}&service-type=99214").json) \
        == []


# --- slots -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["US-NY", "US-NJ"])
def test_slot_search_offers_exactly_what_v1_availability_offers(world, scheduler, where):
    """A NJ patient location drops the telehealth options (NY licence only) and keeps the NY clinic ones."""
    cid = world["clinician"]["clinician_id"]
    v1 = scheduler.get(f"/v1/availability?service=90834&from=2026-03-03T00:00:00Z&to=2026-03-04T00:00:00Z"
                       f"&patient_jurisdiction={where}&clinician_id={cid}&limit=200").json["items"]
    bundle = fhir_get(scheduler, f"/fhir/R4/Slot?schedule=Schedule/{fid(cid)}&{TUESDAY}&service-type={CPT}|90834"
                                 f"&status=free&patient-jurisdiction={where}&_count=200").json
    slots = entries(bundle)
    modes = {"in_person": "FACE", "video": "VIDEOCONF", "phone": "PHONE"}
    assert sorted((s["start"], ext(s, MODALITY)[0]["valueCoding"]["code"]) for s in slots) == \
        sorted((i["start"], modes[i["modality"]]) for i in v1)
    assert slots and all(s["status"] == "free" and s["schedule"]["reference"] == f"Schedule/{fid(cid)}"
                         for s in slots)
    telehealth = {s["extension"][2]["valueReference"]["reference"] for s in slots
                  if ext(s, MODALITY)[0]["valueCoding"]["code"] != "FACE"}
    assert telehealth == ({"Location/virtual.US-NY"} if where == "US-NY" else set())


def test_slot_search_by_patient_leaves_out_the_patients_own_busy_time_and_filters_modality(world, scheduler):
    pid, cid = world["patient"]["patient_id"], world["clinician"]["clinician_id"]
    booked = post_fhir(scheduler, appointment_body(world))
    assert booked.status == 201
    query = f"/fhir/R4/Slot?patient=Patient/{fid(pid)}&{TUESDAY}&service-type=90834&modality=PHONE&_count=200"
    slots = entries(fhir_get(scheduler, query).json)
    assert slots and {ext(s, MODALITY)[0]["valueCoding"]["code"] for s in slots} == {"PHONE"}
    assert "2026-03-03T15:00:00Z" not in {s["start"] for s in slots}
    assert all(s["schedule"]["reference"] == f"Schedule/{fid(cid)}" for s in slots)


def test_slot_pages_follow_the_next_link(world, scheduler):
    first = fhir_get(scheduler, f"/fhir/R4/Slot?{TUESDAY}&service-type=90834&patient-jurisdiction=US-NY&_count=5").json
    assert len(entries(first)) == 5
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = fhir_get(scheduler, next_url[next_url.index("/fhir/R4"):]).json
    assert len(entries(second)) == 5
    assert not {s["id"] for s in entries(first)} & {s["id"] for s in entries(second)}


@pytest.mark.parametrize(("query", "field"), [
    ("service-type=90834&start=ge2026-03-03T00:00:00Z&patient-jurisdiction=US-NY", "start"),
    (f"{TUESDAY}&patient-jurisdiction=US-NY", "service-type"),
    (f"{TUESDAY}&service-type=http://snomed.info/sct|90834&patient-jurisdiction=US-NY", "service-type"),
    (f"{TUESDAY}&service-type=90834&patient-jurisdiction=US-NY&status=busy", "status"),
    (f"{TUESDAY}&service-type=90834", "patient-jurisdiction"),
    ("start=ge2026-03-01&start=lt2026-04-15&service-type=90834&patient-jurisdiction=US-NY", "start"),
    (f"{TUESDAY}&service-type=90834&patient-jurisdiction=New York", "patient-jurisdiction"),
    ("start=ge2026-03-03&start=lt2026-03-02&service-type=90834&patient-jurisdiction=US-NY", "start"),
    (f"{TUESDAY}&service-type=90834&patient-jurisdiction=US-NY&_count=999", "_count"),
    (f"{TUESDAY}&service-type=90834&patient-jurisdiction=US-NY&modality=SMOKE", "modality"),
    (f"{TUESDAY}&service-type=90834&schedule=Location/x", "schedule"),
])
def test_bad_slot_searches_are_400_operation_outcomes_naming_the_parameter(world, scheduler, query, field):
    r = scheduler.get(f"/fhir/R4/Slot?{query}")
    assert r.status == 400 and issue_code(r) == "VALIDATION_ERROR"
    assert field in r.json["issue"][0]["expression"]


# --- appointments ----------------------------------------------------------------------------------
def test_post_appointment_books_through_the_booking_service(world, scheduler):
    r = post_fhir(scheduler, appointment_body(world))
    assert r.status == 201 and r.headers["Content-Type"] == FHIR
    made = valid(r.json)
    assert r.headers["Location"].endswith(f"/fhir/R4/Appointment/{made['id']}")
    assert made["status"] == "booked" and made["start"] == "2026-03-03T15:00:00Z"
    assert made["end"] == "2026-03-03T15:45:00Z" and made["minutesDuration"] == 45
    assert made["serviceType"][0]["coding"][0] == {"system": CPT, "code": "90834"}
    pos = ext(made, "https://hybrid-care.example/fhir/StructureDefinition/place-of-service")[0]["valueCoding"]
    modifiers = ext(made, "https://hybrid-care.example/fhir/StructureDefinition/billing-modifier")
    v1 = scheduler.get(f"/v1/appointments/{made['id'].replace('-', '_')}").json
    assert v1["status"] == "booked" and v1["modality"] == "video"
    assert pos["code"] == v1["billing"]["place_of_service"]
    assert [m["valueCoding"]["code"] for m in modifiers] == v1["billing"]["modifiers"] == ["95"]
    assert {"reference": "Location/virtual.US-NY"} in [p["actor"] for p in made["participant"]]
    read = fhir_get(scheduler, f"/fhir/R4/Appointment/{made['id']}").json
    assert read == made


def test_post_appointment_keeps_the_double_booking_guarantee_and_licensure(world, scheduler):
    assert post_fhir(scheduler, appointment_body(world)).status == 201
    other = scheduler.post("/v1/patients", patient_body("Second Patient")).json["patient_id"]
    taken = post_fhir(scheduler, appointment_body(world, patient=other))
    assert taken.status == 409 and issue_code(taken) == "SLOT_TAKEN"
    assert taken.json["issue"][0]["code"] == "conflict"
    unlicensed = post_fhir(scheduler, appointment_body(world, start="2026-03-04T10:00:00-05:00", jurisdiction="US-NJ",
                                                       patient=other))
    assert unlicensed.status == 422 and issue_code(unlicensed) == "NOT_LICENSED_IN_JURISDICTION"
    assert unlicensed.json["issue"][0]["code"] == "business-rule"


def test_post_appointment_honours_the_idempotency_key(world, scheduler):
    body = appointment_body(world)
    first = post_fhir(scheduler, body, key="fhir-key-1")
    again = post_fhir(scheduler, body, key="fhir-key-1")
    assert first.status == again.status == 201 and first.json["id"] == again.json["id"]
    assert again.headers["Content-Type"] == FHIR
    reused = post_fhir(scheduler, appointment_body(world, start="2026-03-03T11:00:00-05:00"), key="fhir-key-1")
    assert reused.status == 409 and issue_code(reused) == "IDEMPOTENCY_KEY_REUSED"


def test_post_appointment_in_person_at_a_site_takes_the_modality_from_the_location(world, scheduler):
    body = appointment_body(world)
    body["extension"] = []
    body["participant"].append({"actor": {"reference": f"Location/{fid(world['site']['site_id'])}"},
                                "status": "accepted"})
    r = post_fhir(scheduler, body)
    assert r.status == 201, r.json
    assert ext(r.json, MODALITY)[0]["valueCoding"]["code"] == "FACE"
    assert ext(r.json, "https://hybrid-care.example/fhir/StructureDefinition/place-of-service")[0][
        "valueCoding"]["code"] == "11"


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda b: b.pop("participant"), "participant"),
    (lambda b: b.pop("start"), "start"),
    (lambda b: b.update(serviceType=[{"text": "therapy"}]), "serviceType"),
    (lambda b: b.update(resourceType="Patient"), "resourceType"),
    (lambda b: b.update(status="cancelled"), "status"),
    (lambda b: b.update(start="next tuesday"), "start"),
    (lambda b: b["participant"].append({"actor": {"reference": "Group/1"}}), "participant[2].actor"),
])
def test_bad_appointments_are_400_operation_outcomes_naming_the_element(world, scheduler, mutate, field):
    body = appointment_body(world)
    mutate(body)
    r = post_fhir(scheduler, body)
    assert r.status == 400 and issue_code(r) == "VALIDATION_ERROR", r.json
    assert field in r.json["issue"][0]["expression"]


def test_malformed_json_is_an_operation_outcome_naming_the_body(world, scheduler):
    r = scheduler.api.call("POST", "/fhir/R4/Appointment", raw=b"{nope", token=scheduler.token,
                           headers={"Content-Type": FHIR})
    assert r.status == 400 and issue_code(r) == "VALIDATION_ERROR" and r.json["issue"][0]["expression"] == ["body"]


def test_appointment_search_by_patient_practitioner_and_date_and_patients_see_their_own(api, world, scheduler):
    pid, cid = world["patient"]["patient_id"], world["clinician"]["clinician_id"]
    tuesday = post_fhir(scheduler, appointment_body(world)).json["id"]
    wednesday = post_fhir(scheduler, appointment_body(world, start="2026-03-04T10:00:00-05:00")).json["id"]
    found = entries(fhir_get(scheduler, f"/fhir/R4/Appointment?patient=Patient/{fid(pid)}").json)
    assert {a["id"] for a in found} == {tuesday, wednesday}
    on_tuesday = f"/fhir/R4/Appointment?practitioner={fid(cid)}&date=ge2026-03-03&date=lt2026-03-04"
    assert [a["id"] for a in entries(fhir_get(scheduler, on_tuesday).json)] == [tuesday]
    assert [a["id"] for a in entries(fhir_get(scheduler, f"/fhir/R4/Appointment?patient={fid(pid)}"
                                                         f"&date=2026-03-04").json)] == [wednesday]
    me = Api(api.client, api.tenant).as_role("patient", patient_id=pid)
    assert {a["id"] for a in entries(fhir_get(me, "/fhir/R4/Appointment").json)} == {tuesday, wednesday}
    other = scheduler.post("/v1/patients", patient_body("Other")).json["patient_id"]
    stranger = Api(api.client, api.tenant).as_role("patient", patient_id=other)
    assert entries(fhir_get(stranger, f"/fhir/R4/Appointment?patient={fid(pid)}").json) == []
    hidden = stranger.get(f"/fhir/R4/Appointment/{tuesday}")
    assert hidden.status == 404 and issue_code(hidden) == "NOT_FOUND"
    unbounded = scheduler.get("/fhir/R4/Appointment")
    assert unbounded.status == 400 and issue_code(unbounded) == "VALIDATION_ERROR"


def test_a_patient_books_only_for_themself(api, world, scheduler):
    other = scheduler.post("/v1/patients", patient_body("Other")).json["patient_id"]
    me = Api(api.client, api.tenant).as_role("patient", patient_id=other)
    r = post_fhir(me, appointment_body(world))
    assert r.status == 404 and issue_code(r) == "NOT_FOUND"
    assert post_fhir(me, appointment_body(world, patient=other)).status == 201


def test_errors_of_the_gate_are_operation_outcomes_too(api, world):
    assert issue_code(api.call("GET", "/fhir/R4/Patient")) == "UNAUTHENTICATED"
    payer = api.as_role("payer", payer_id="acme")
    r = payer.get("/fhir/R4/Slot")
    assert r.status == 403 and issue_code(r) == "FORBIDDEN" and r.json["issue"][0]["code"] == "forbidden"


# --- SMART Scheduling Links ------------------------------------------------------------------------
def test_bulk_publish_manifest_and_files_are_private_until_the_tenant_publishes(api, world, admin, scheduler):
    manifest = scheduler.get("/fhir/R4/$bulk-publish")
    assert manifest.status == 200 and manifest.headers["Content-Type"] == "application/json"
    outputs = {(o["type"], o["url"].rsplit("/", 1)[1]) for o in manifest.json["output"]}
    assert outputs == {("Location", "Location.ndjson"), ("Schedule", "Schedule.ndjson"), ("Slot", "Slot-US-NY.ndjson")}
    assert manifest.json["error"] == [] and manifest.json["transactionTime"] == "2026-03-02T12:00:00Z"
    public = f"/fhir/R4/public/{api.tenant}"
    assert api.call("GET", f"{public}/$bulk-publish").status == 404
    assert api.call("GET", f"{public}/files/Slot-US-NY.ndjson").status == 404
    assert scheduler.get(f"{public}/files/Location.ndjson").status == 200  # the tenant's own staff may read it
    foreign = api.call("GET", f"{public}/files/Location.ndjson", token=api.token("scheduler", tenant="elsewhere"))
    assert foreign.status == 404 and issue_code(foreign) == "NOT_FOUND"

    r = admin.put("/v1/tenant/settings", {"publication": {"public": True, "booking_url": "https://book.example/x",
                                                          "booking_phone": "+1 212 555 0199", "days": 3}})
    assert r.status == 200 and r.json["publication"]["public"] is True
    opened = api.call("GET", f"{public}/$bulk-publish")
    assert opened.status == 200 and {o["type"] for o in opened.json["output"]} == {"Location", "Schedule", "Slot"}
    files = {}
    for output in opened.json["output"]:
        r = api.call("GET", output["url"][output["url"].index("/fhir/R4"):])
        assert r.status == 200 and r.headers["Content-Type"] == "application/fhir+ndjson"
        files[output["type"]] = [valid(json.loads(line)) for line in r.raw.decode().splitlines()]
    assert {x["id"] for x in files["Location"]} == {fid(world["site"]["site_id"]), "virtual.US-NY"}
    assert [x["id"] for x in files["Schedule"]] == [fid(world["clinician"]["clinician_id"])]
    slots = files["Slot"]
    assert slots and all(s["status"] == "free" and s["start"] < "2026-03-05T12:00:00Z" for s in slots)
    link = ext(slots[0], DEEP_LINK)[0]["valueUrl"]
    assert link.startswith("https://book.example/x?") and "clinician=" in link and "start=" in link
    assert ext(slots[0], BOOKING_PHONE)[0]["valueString"] == "+1 212 555 0199"
    feed = json.dumps(files)
    assert world["patient"]["patient_id"] not in feed and "Pat Example" not in feed  # no PHI


def test_a_booked_slot_leaves_the_published_feed(api, world, admin, scheduler):
    admin.put("/v1/tenant/settings", {"publication": {"public": True, "services": ["90834"], "days": 2}})
    url = f"/fhir/R4/public/{api.tenant}/files/Slot-US-NY.ndjson"

    def starts():
        return {json.loads(x)["start"] for x in api.call("GET", url).raw.decode().splitlines()}

    assert "2026-03-03T15:00:00Z" in starts()
    assert post_fhir(scheduler, appointment_body(world)).status == 201
    assert "2026-03-03T15:00:00Z" not in starts()
    assert api.call("GET", f"/fhir/R4/public/{api.tenant}/files/Slot-US-WY.ndjson").status == 404


def test_a_clinic_only_clinician_adds_no_virtual_location(admin, scheduler, world):
    site_id = world["site"]["site_id"]
    body = clinician_body("Dr Clinic", npi=VALID_NPIS[3], licenses=["US-CT"], modalities=["in_person"],
                          site_ids=[site_id])
    cid = admin.post("/v1/clinicians", body).json["clinician_id"]
    admin.put(f"/v1/clinicians/{cid}/availability", {"rules": weekday_rules(site_id=site_id,
                                                                            modalities=["in_person"])})
    role = fhir_get(scheduler, f"/fhir/R4/PractitionerRole/{fid(cid)}").json
    assert [x["reference"] for x in role["location"]] == [f"Location/{fid(site_id)}"]
    assert scheduler.get("/fhir/R4/Location/virtual.US-CT").status == 404


@pytest.mark.parametrize("kind", ["Practitioner", "PractitionerRole", "Schedule", "Location"])
def test_search_by_id_finds_the_one_resource_and_an_unknown_id_finds_none(world, scheduler, kind):
    internal = world["site"]["site_id"] if kind == "Location" else world["clinician"]["clinician_id"]
    found = entries(fhir_get(scheduler, f"/fhir/R4/{kind}?_id={fid(internal)}").json)
    assert [(x["resourceType"], x["id"]) for x in found] == [(kind, fid(internal))]
    assert entries(fhir_get(scheduler, f"/fhir/R4/{kind}?_id=nobody").json) == []
    assert fhir_get(scheduler, f"/fhir/R4/{kind}/{fid(internal)}").json == found[0]
