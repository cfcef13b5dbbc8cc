"""Issue 11, item 1: cursors are sealed, bound to caller, route and filter, and only point past visible items."""

from __future__ import annotations

import base64

import pytest

from tests.support import patient_body

pytestmark = pytest.mark.api

DAY = "from=2026-03-02T00:00:00Z&to=2026-03-31T00:00:00Z"


def _book(scheduler, world, patient_id: str, start: str) -> str:
    r = scheduler.post("/v1/appointments", {
        "patient_id": patient_id, "clinician_id": world["clinician"]["clinician_id"], "service": "90834",
        "start": start, "modality": "video", "patient_jurisdiction": "US-NY"})
    assert r.status == 201, r.json
    return r.json["appointment_id"]


@pytest.fixture
def two_patients(world, scheduler):
    """Patient B sees the clinician first (10:00), patient A later (13:00), on the same Tuesday."""
    other = scheduler.post("/v1/patients", patient_body("Other Person")).json
    b_apt = _book(scheduler, world, other["patient_id"], "2026-03-03T10:00:00-05:00")
    a_apt = _book(scheduler, world, world["patient"]["patient_id"], "2026-03-03T13:00:00-05:00")
    return {"a": world["patient"]["patient_id"], "b": other["patient_id"], "a_apt": a_apt, "b_apt": b_apt}


def _unpadded_bytes(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def test_a_patient_paging_a_clinicians_list_never_gets_a_cursor_to_another_patients_visit(
        api, world, two_patients):
    patient = api.as_role("patient", patient_id=two_patients["a"])
    r = patient.get(f"/v1/appointments?clinician_id={world['clinician']['clinician_id']}&limit=1&{DAY}")
    assert r.status == 200
    assert [a["appointment_id"] for a in r.json["items"]] == [two_patients["a_apt"]]
    assert r.json["next_cursor"] is None  # nothing visible follows
    assert two_patients["b_apt"].encode() not in r.raw and two_patients["b"].encode() not in r.raw


def test_a_cursor_is_opaque_no_key_or_patient_id_can_be_read_from_it(world, scheduler, two_patients, admin):
    _book(scheduler, world, two_patients["a"], "2026-03-03T14:00:00-05:00")
    r = scheduler.get(f"/v1/appointments?patient_id={two_patients['a']}&limit=1&from=2026-01-01T00:00:00Z")
    scheduler.get(f"/v1/appointments?patient_id={two_patients['b']}&limit=1&from=2026-01-01T00:00:00Z")
    audit = admin.get(f"/v1/audit?patient_id={two_patients['a']}&limit=1").json
    for cursor in (r.json.get("next_cursor"), audit["next_cursor"]):
        assert cursor
        assert two_patients["a"].encode() not in _unpadded_bytes(cursor)
        assert b"APPT" not in _unpadded_bytes(cursor) and b"PAT#" not in _unpadded_bytes(cursor)


def test_a_cursor_brought_back_by_another_caller_route_or_filter_is_a_400(api, admin, scheduler, two_patients):
    first = admin.get(f"/v1/audit?patient_id={two_patients['a']}&limit=1").json
    cursor = first["next_cursor"]
    assert cursor
    follow = admin.get(f"/v1/audit?patient_id={two_patients['a']}&limit=1&cursor={cursor}")
    assert follow.status == 200
    other_admin = api.as_role("admin")  # same tenant, another user
    for caller, path in ((other_admin, f"/v1/audit?patient_id={two_patients['a']}&cursor={cursor}"),
                         (admin, f"/v1/audit?patient_id={two_patients['b']}&cursor={cursor}"),
                         (admin, f"/v1/clinicians?cursor={cursor}")):
        r = caller.get(path)
        assert r.status == 400, (path, r.json)
        assert r.json["errors"][0]["field"] == "cursor"


def test_a_forged_or_stale_cursor_is_a_400(admin, two_patients, clock):
    cursor = admin.get(f"/v1/audit?patient_id={two_patients['a']}&limit=1").json["next_cursor"]
    raw = bytearray(_unpadded_bytes(cursor))
    raw[-1] ^= 1
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    r = admin.get(f"/v1/audit?patient_id={two_patients['a']}&cursor={forged}")
    assert r.status == 400 and r.json["errors"][0]["field"] == "cursor"
    clock.advance(hours=2)
    r = admin.get(f"/v1/audit?patient_id={two_patients['a']}&cursor={cursor}")
    assert r.status == 400 and "expired" in r.json["errors"][0]["message"]


def test_a_right_partition_wrong_type_cursor_is_a_400_not_a_500(api, scheduler, two_patients):
    import json

    partition = f"T#{api.tenant}#PAT#{two_patients['a']}"
    legacy = base64.urlsafe_b64encode(json.dumps(
        {"pk": {"N": "1"}, "sk": 5, "gsi2pk": {"S": partition}, "gsi2sk": ["x"]}).encode())
    r = scheduler.get(f"/v1/appointments?patient_id={two_patients['a']}&cursor={legacy.decode().rstrip('=')}")
    assert r.status == 400 and r.json["errors"][0]["field"] == "cursor"
