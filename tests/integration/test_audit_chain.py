"""Audit without a hot key: each audited access is one PutItem of its own entry; the table stream's
consumer (the real Chalice handler, driven from moto's stream) chains entries in batches afterwards, and
verify detects an edited, removed or cut-off entry, a gap, and an entry left waiting too long."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from chalicelib.adapters.dynamo.audit import head_pk, link_pk
from chalicelib.adapters.dynamo.models import AuditChainLinkItem, AuditEntryItem, AuditHeadItem
from chalicelib.api.directory_inputs import patient_draft
from chalicelib.domain.access import Caller
from chalicelib.domain.audit_chain import GENESIS, chain_order, entry_hash
from chalicelib.domain.model import Interval
from chalicelib.schemas.directory import PatientIn
from tests.conftest import START
from tests.support import patient_body

pytestmark = pytest.mark.integration
BOUND = 300
WINDOW = Interval(START - timedelta(days=1), START + timedelta(days=1))


def sched(tenant: str) -> Caller:
    return Caller("sched-1", tenant, frozenset({"scheduler"}), request_id="req-1")


def new_patient(services, tenant, name):
    return services.directory.create_patient(sched(tenant), patient_draft(PatientIn.model_validate(patient_body(name))))


@pytest.fixture
def calls(monkeypatch):
    """Every DynamoDB operation PynamoDB sends, by name."""
    from pynamodb.connection.base import Connection

    seen: list[str] = []
    original = Connection._make_api_call

    def spy(self, operation_name, operation_kwargs):
        seen.append(operation_name)
        return original(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "_make_api_call", spy)
    return seen


@pytest.fixture
def filled(services, tenant, clock):
    patients = []
    for i in range(3):
        patients.append(services.directory.create_patient(sched(tenant), patient_draft(PatientIn.model_validate(
            patient_body(f"P{i}")))))
        clock.advance(seconds=1)
    for p in patients:
        services.directory.get_patient(sched(tenant), p.patient_id)
        clock.advance(seconds=1)
    return patients


def link(tenant, seq) -> AuditChainLinkItem:
    return AuditChainLinkItem.get(link_pk(tenant, seq), f"SEQ#{seq:012d}")


def entry_of(tenant, seq) -> AuditEntryItem:
    x = link(tenant, seq)
    return AuditEntryItem.get(x.entry_pk, x.entry_sk)


def verify(services, tenant):
    return services.audit.verify(tenant, BOUND)


def test_an_audited_read_is_one_put_item_never_a_transaction(services, tenant, calls):
    patient = new_patient(services, tenant, "P")
    calls.clear()
    services.directory.get_patient(sched(tenant), patient.patient_id)
    assert calls.count("PutItem") == 1
    assert not {"TransactWriteItems", "UpdateItem"} & set(calls)


def test_entries_spread_over_day_and_shard_partitions_and_show_at_once_unchained(services, tenant, filled):
    items, _ = services.audit.entries(tenant, WINDOW, None, 50, None)
    assert [e["action"] for e in items] == ["patient.create"] * 3 + ["patient.read"] * 3  # time order
    assert all(e["seq"] is None and e["hash"] is None for e in items)
    partitions = {i.pk for i in AuditEntryItem.scan(AuditEntryItem.kind == "audit")
                  if i.log == tenant}
    assert len(partitions) > 1 and all(p.startswith(f"T#{tenant}#AUDIT#2026-03#") for p in partitions)
    report = verify(services, tenant)
    assert report.ok and report.entries == 0 and report.waiting == 6


def test_the_stream_consumer_chains_every_entry_in_one_batch_in_a_deterministic_order(
        services, filled, tenant, drain_stream):
    drain_stream()
    report = verify(services, tenant)
    assert report.ok and report.entries == 6 and report.waiting == 0
    head = AuditHeadItem.get(head_pk(tenant), "HEAD")
    assert head.seq == 6 and len(head.batch) == 6  # one conditional head write claimed all six
    docs = [entry_of(tenant, n).doc.as_dict() for n in range(1, 7)]
    assert docs == sorted(docs, key=chain_order)
    first, second = link(tenant, 1), link(tenant, 2)
    assert first.prev_hash == GENESIS and second.prev_hash == first.hash
    assert docs[0]["action"] == "patient.create" and docs[0]["actor"] == {"sub": "sched-1", "role": "scheduler"}
    assert docs[0]["patient_id"] == filled[0].patient_id and docs[0]["request_id"] == "req-1"
    assert "P0" not in str(docs[0])  # ids only: no names in the audit log
    items, _ = services.audit.entries(tenant, WINDOW, filled[0].patient_id, 10, None)
    assert [(e["action"], e["seq"] is not None) for e in items] == [("patient.create", True), ("patient.read", True)]


def test_a_redelivered_batch_changes_nothing(services, filled, tenant, drain_stream, stream_pump):
    drain_stream()
    head = AuditHeadItem.get(head_pk(tenant), "HEAD")
    stream_pump.iterators.clear()  # as if Lambda delivered the stream again from its start
    drain_stream()
    again = AuditHeadItem.get(head_pk(tenant), "HEAD")
    assert (again.seq, again.last_hash) == (head.seq, head.last_hash)
    assert verify(services, tenant).ok


def test_later_entries_continue_the_chain_in_a_new_batch(services, filled, tenant, drain_stream, clock):
    drain_stream()
    clock.advance(minutes=1)
    services.directory.get_patient(sched(tenant), filled[1].patient_id)
    drain_stream()
    report = verify(services, tenant)
    assert report.ok and report.entries == 7
    assert link(tenant, 7).prev_hash == link(tenant, 6).hash


def test_a_consumer_that_stopped_after_claiming_a_batch_is_finished_by_the_redelivery(
        services, filled, tenant, drain_stream, stream_pump, monkeypatch):
    from chalicelib.adapters.dynamo.audit import DynamoAuditTrail

    def crash(self, log, batch, *, check):
        raise RuntimeError("Lambda timed out")

    with monkeypatch.context() as m:
        m.setattr(DynamoAuditTrail, "_finish", crash)
        stream_pump.pump_once()  # one delivery, which fails after claiming: the stream comes again from it
    assert AuditHeadItem.get(head_pk(tenant), "HEAD").seq == 6  # claimed, links not written
    in_flight = verify(services, tenant)
    assert in_flight.ok and in_flight.entries == 0 and in_flight.waiting == 6
    drain_stream()  # the same records again: the claimed batch is finished, nothing chained twice
    report = verify(services, tenant)
    assert report.ok and report.entries == 6
    assert stream_pump.skipped == []


def test_an_edited_entry_is_detected(services, filled, tenant, drain_stream):
    drain_stream()
    item = entry_of(tenant, 3)
    doc = item.doc.as_dict()
    doc["outcome"] = "refused"
    item.doc = doc
    item.save()
    report = verify(services, tenant)
    assert not report.ok and report.first_bad_seq == 3 and "altered" in report.problem


def test_an_edit_with_a_recomputed_link_hash_breaks_the_next_link(services, filled, tenant, drain_stream):
    drain_stream()
    item, x = entry_of(tenant, 2), link(tenant, 2)
    doc = item.doc.as_dict()
    doc["action"] = "patient.read.hidden"
    item.doc = doc
    item.save()
    x.hash = entry_hash({**doc, "seq": 2, "prev_hash": x.prev_hash})
    x.save()
    report = verify(services, tenant)
    assert not report.ok and report.first_bad_seq == 3 and "link" in report.problem


def test_a_removed_entry_is_detected(services, filled, tenant, drain_stream):
    drain_stream()
    entry_of(tenant, 4).delete()
    report = verify(services, tenant)
    assert not report.ok and report.first_bad_seq == 4 and "missing" in report.problem


def test_a_gap_in_the_chain_is_detected(services, filled, tenant, drain_stream):
    drain_stream()
    link(tenant, 4).delete()
    report = verify(services, tenant)
    assert not report.ok and report.first_bad_seq == 4 and "missing" in report.problem


def test_a_cut_off_tail_is_detected_against_the_head(services, filled, tenant, drain_stream, clock):
    drain_stream()
    clock.advance(seconds=1)
    services.directory.get_patient(sched(tenant), filled[0].patient_id)
    drain_stream()  # a second batch: entry 7
    link(tenant, 6).delete()
    link(tenant, 7).delete()
    report = verify(services, tenant)
    assert not report.ok and "head" in report.problem


def test_a_removed_last_batch_looks_in_flight_only_until_the_bound(services, filled, tenant, drain_stream, clock):
    drain_stream()
    link(tenant, 6).delete()  # the last link of the head's batch: as if the consumer were still writing it
    assert verify(services, tenant).waiting == 6
    clock.advance(seconds=BOUND + 1)
    report = verify(services, tenant)
    assert not report.ok and f"more than {BOUND} s" in report.problem


def test_an_entry_waiting_longer_than_the_bound_fails_verification(services, tenant, clock, drain_stream):
    drain_stream()  # whatever other tests of this module left in the stream
    services.audit.record(sched(tenant), "patient.read", "patient/p-1", "p-1", "success")
    clock.advance(seconds=BOUND)
    within = verify(services, tenant)
    assert within.ok and within.waiting == 1 and within.oldest_waiting_seconds == BOUND
    clock.advance(seconds=1)
    late = verify(services, tenant)
    assert not late.ok and late.waiting == 1 and f"more than {BOUND} s" in late.problem
    drain_stream()
    assert verify(services, tenant).ok


def test_a_list_page_is_audited_with_one_batch_write(services, tenant, calls):
    calls.clear()
    services.audit.record_many(sched(tenant), "appointment.list", [(f"appointment/a{i}", f"p{i}") for i in range(7)],
                               "success")
    assert calls == ["BatchWriteItem"]
    items, _ = services.audit.entries(tenant, WINDOW, None, 50, None)
    assert sorted(e["resource"] for e in items) == sorted(f"appointment/a{i}" for i in range(7))


def test_pages_of_the_tenant_log_follow_one_another_without_repeats(services, tenant, filled):
    seen, cursor = [], None
    while True:
        items, cursor = services.audit.entries(tenant, WINDOW, None, 4, cursor)
        seen += [(e["at"], e["entry_id"]) for e in items]
        if cursor is None:
            break
    assert len(seen) == 6 and seen == sorted(set(seen))


def test_a_long_quiet_window_answers_short_pages_with_a_cursor_instead_of_reading_it_all(services, tenant,
                                                                                         filled, calls):
    year = Interval(START - timedelta(days=700), START + timedelta(days=1))
    calls.clear()
    items, cursor = services.audit.entries(tenant, year, None, 50, None)
    assert items == [] and cursor is not None and calls.count("Query") == 3 * 4
    while cursor is not None:
        page, cursor = services.audit.entries(tenant, year, None, 50, cursor)
        items += page
    assert len(items) == 6


def test_chaining_logs_no_phi(services, tenant, drain_stream, caplog):
    drain_stream()
    patient = new_patient(services, tenant, "Zelda Q")
    with caplog.at_level(logging.DEBUG):
        drain_stream()
    text = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert "stream batch" in caplog.text
    assert patient.patient_id not in text and "Zelda" not in text


def test_the_pump_hands_the_handler_the_lambda_dynamodb_event_shape(services, tenant, stream_pump, drain_stream):
    from chalice.app import DynamoDBEvent

    drain_stream()
    services.audit.record(sched(tenant), "patient.read", "patient/p-9", "p-9", "success")
    page = stream_pump.streams.get_records(ShardIterator=next(iter(stream_pump.iterators.values())))
    event = stream_pump.event(page["Records"])
    records = list(DynamoDBEvent(event, None))  # what Chalice parses out of a real Lambda event
    assert [r.event_name for r in records] == ["INSERT"]
    record = records[0]
    assert record.table_name == services.settings.main_table and record.stream_view_type == "NEW_AND_OLD_IMAGES"
    assert record.new_image["kind"] == {"S": "audit"} and record.new_image["log"] == {"S": tenant}
    assert record.timestamp.year >= 2026
