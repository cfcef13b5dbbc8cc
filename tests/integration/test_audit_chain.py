"""The audit log is a hash chain: an edited, removed or cut-off entry is detected."""

from __future__ import annotations

import pytest

from chalicelib.adapters.dynamo.models import AuditEntryItem, AuditHeadItem
from chalicelib.api.directory_inputs import patient_draft
from chalicelib.domain.access import Caller
from chalicelib.domain.audit_chain import GENESIS, entry_hash
from chalicelib.schemas.directory import PatientIn
from tests.support import patient_body

pytestmark = pytest.mark.integration


@pytest.fixture
def filled(services, tenant):
    sched = Caller("sched-1", tenant, frozenset({"scheduler"}), request_id="req-1")
    patients = [services.directory.create_patient(sched, patient_draft(PatientIn.model_validate(patient_body(f"P{i}"))))
                for i in range(3)]
    for p in patients:
        services.directory.get_patient(sched, p.patient_id)
    return patients


def entry(tenant, seq):
    return AuditEntryItem.get(f"T#{tenant}#AUDIT", f"SEQ#{seq:012d}")


def test_every_phi_access_appends_one_linked_entry(services, filled, tenant):
    report = services.audit.verify(tenant)
    assert report.ok and report.entries == 6
    first, second = entry(tenant, 1).doc.as_dict(), entry(tenant, 2).doc.as_dict()
    assert first["prev_hash"] == GENESIS and second["prev_hash"] == first["hash"]
    assert first["action"] == "patient.create" and first["actor"] == {"sub": "sched-1", "role": "scheduler"}
    assert first["patient_id"] == filled[0].patient_id and first["request_id"] == "req-1"
    assert "P0" not in str(first)  # ids only: no names in the audit log


def test_an_edited_entry_is_detected(services, filled, tenant):
    item = entry(tenant, 3)
    doc = item.doc.as_dict()
    doc["outcome"] = "refused"
    item.doc = doc
    item.save()
    report = services.audit.verify(tenant)
    assert not report.ok and report.first_bad_seq == 3 and "altered" in report.problem


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(services, filled, tenant):
    item = entry(tenant, 2)
    doc = item.doc.as_dict()
    doc["action"] = "patient.read.hidden"
    doc["hash"] = entry_hash(doc)
    item.doc = doc
    item.save()
    report = services.audit.verify(tenant)
    assert not report.ok and report.first_bad_seq == 3 and "link" in report.problem


def test_a_removed_entry_is_detected(services, filled, tenant):
    entry(tenant, 4).delete()
    report = services.audit.verify(tenant)
    assert not report.ok and report.first_bad_seq == 4 and "missing" in report.problem


def test_a_cut_off_tail_is_detected_against_the_head(services, filled, tenant):
    entry(tenant, 6).delete()
    report = services.audit.verify(tenant)
    assert not report.ok and "head" in report.problem
    assert AuditHeadItem.get(f"T#{tenant}#AUDIT", "HEAD").seq == 6


def test_under_contention_an_entry_is_parked_never_lost_and_later_chained(services, tenant):
    from chalicelib.adapters.dynamo.audit import DynamoAuditTrail

    busy = DynamoAuditTrail(services.clock, services.audit.connection, attempts=0, sleep=lambda _: None)
    sched = Caller("sched-1", tenant, frozenset({"scheduler"}))
    busy.record(sched, "patient.read", "patient/p-1", "p-1", "success")  # cannot chain: parks
    services.audit.record(sched, "patient.read", "patient/p-2", "p-2", "success")  # chains normally
    report = services.audit.verify(tenant)
    assert report.ok and report.entries == 1 and report.parked == 1
    from chalicelib.domain.model import Interval
    from tests.conftest import START

    found, _ = services.audit.entries(tenant, Interval(START.replace(year=2025), START.replace(year=2027)), "p-1",
                                      10, None)
    assert [e["resource"] for e in found] == ["patient/p-1"]  # readable by patient while parked
    assert services.audit.drain_parked(tenant) == 1
    after = services.audit.verify(tenant)
    assert after.ok and after.entries == 2 and after.parked == 0
