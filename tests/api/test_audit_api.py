from __future__ import annotations

import pytest

pytestmark = pytest.mark.api


def test_admin_reads_the_audit_of_one_patient_and_the_read_is_itself_audited(world, api, admin, scheduler,
                                                                            drain_stream, clock):
    pid = world["patient"]["patient_id"]
    clock.advance(seconds=1)
    assert scheduler.get(f"/v1/patients/{pid}").status == 200
    clock.advance(seconds=1)
    r = admin.get(f"/v1/audit?patient_id={pid}")
    assert r.status == 200
    actions = [e["action"] for e in r.json["items"]]
    assert actions == ["patient.create", "patient.read"]  # at once: nothing chained yet
    assert all(e["patient_id"] == pid and e["actor"]["role"] == "scheduler" for e in r.json["items"])
    assert [(e["chained"], e["seq"], e["hash"]) for e in r.json["items"]] == [(False, None, None)] * 2
    clock.advance(seconds=1)
    again = admin.get(f"/v1/audit?patient_id={pid}").json["items"]
    assert [e["action"] for e in again] == ["patient.create", "patient.read", "audit.read"]
    assert again[-1]["actor"]["role"] == "admin"
    waiting = admin.get("/v1/audit/verify").json
    assert waiting["ok"] is True and waiting["entries"] == 0 and waiting["waiting"] >= 4
    assert waiting["max_wait_seconds"] == 300

    drain_stream()  # the table stream's consumer, as Lambda runs it
    chained = admin.get(f"/v1/audit?patient_id={pid}").json["items"]
    assert all(e["chained"] and isinstance(e["seq"], int) and len(e["hash"]) == 64 for e in chained)
    drain_stream()  # that read's own entry too
    verified = admin.get("/v1/audit/verify").json
    assert verified["ok"] is True and verified["entries"] >= 4 and verified["waiting"] == 0
    assert verified["oldest_waiting_seconds"] is None


def test_verify_fails_when_an_entry_waited_past_the_bound(world, api, admin, scheduler, services, drain_stream):
    drain_stream()
    assert scheduler.get(f"/v1/patients/{world['patient']['patient_id']}").status == 200
    services.clock.advance(seconds=301)  # nobody chained it: the consumer stopped
    r = admin.get("/v1/audit/verify")
    assert r.status == 200
    assert r.json["ok"] is False and r.json["waiting"] >= 1 and r.json["oldest_waiting_seconds"] >= 301
    assert "more than 300 s" in r.json["problem"]


def test_only_admins_read_the_audit_log(world, api, scheduler):
    r = scheduler.get("/v1/audit")
    assert r.status == 403 and r.json["code"] == "FORBIDDEN"


def test_a_list_page_of_appointments_writes_one_entry_per_item(world, api, admin, scheduler):
    pid = world["patient"]["patient_id"]
    for start in ("2026-03-03T10:00:00-05:00", "2026-03-03T12:00:00-05:00"):
        assert scheduler.post("/v1/appointments", {
            "patient_id": pid, "clinician_id": world["clinician"]["clinician_id"], "service": "90834",
            "start": start, "modality": "video", "site_id": None, "patient_jurisdiction": "US-NY"}).status == 201
    r = scheduler.get(f"/v1/appointments?patient_id={pid}&from=2026-03-01T00:00:00Z&to=2026-03-31T00:00:00Z")
    assert r.status == 200
    listed = [a["appointment_id"] for a in r.json["items"]]
    assert len(listed) == 2
    entries = [e for e in admin.get(f"/v1/audit?patient_id={pid}").json["items"] if e["action"] == "appointment.list"]
    assert sorted(e["resource"] for e in entries) == sorted(f"appointment/{a}" for a in listed)
