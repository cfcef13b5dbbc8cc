from __future__ import annotations

import pytest

pytestmark = pytest.mark.api


def test_admin_reads_the_audit_of_one_patient_and_the_read_is_itself_audited(world, api, admin, scheduler):
    pid = world["patient"]["patient_id"]
    assert scheduler.get(f"/v1/patients/{pid}").status == 200
    r = admin.get(f"/v1/audit?patient_id={pid}")
    assert r.status == 200
    actions = [e["action"] for e in r.json["items"]]
    assert actions == ["patient.create", "patient.read"]
    assert all(e["patient_id"] == pid and e["actor"]["role"] == "scheduler" for e in r.json["items"])
    again = admin.get(f"/v1/audit?patient_id={pid}").json["items"]
    assert [e["action"] for e in again][-1] == "audit.read" and again[-1]["actor"]["role"] == "admin"
    verified = admin.get("/v1/audit/verify").json
    assert verified["ok"] is True and verified["entries"] >= 4


def test_only_admins_read_the_audit_log(world, api, scheduler):
    r = scheduler.get("/v1/audit")
    assert r.status == 403 and r.json["code"] == "FORBIDDEN"
