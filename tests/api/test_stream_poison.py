"""A poison record does not wedge the table stream: a follower that always fails on one visit change costs
that change a bounded number of deliveries, the audit entries of the same batch are chained and the other
visits are followed; the skipped range is reported with stream metadata only (no PHI), and the re-drive
delivers it again once the follower is fixed."""

from __future__ import annotations

import json
import logging

import pytest

from chalicelib.api.stream_redrive import main as redrive_main
from local.streams import MAX_RETRIES
from tests.api.reminder_support import unique_patient

pytestmark = pytest.mark.api

STARTS = ("2026-03-03T10:00:00-05:00", "2026-03-03T11:00:00-05:00", "2026-03-03T12:00:00-05:00")
PHI = ("Pola Poison", "1990-04-01", "M123456")  # name, birth date, member id of the patient


@pytest.fixture
def visit_followers(services):
    """The VisitFollowers the deployed handler runs (bootstrap wires it into the stream's dispatcher)."""
    return services.stream.consumers["appointment"][0].__self__


@pytest.fixture
def poisoned(visit_followers, monkeypatch):
    """Reminders fail, every time, on the one visit named in `ids`; every call is counted."""
    real = visit_followers.followers["reminders"]
    calls: list[tuple[str, str]] = []
    ids: list[str] = []

    def reminders(change, before, after):
        calls.append((after.appointment_id, change))
        if after.appointment_id in ids:
            raise RuntimeError("reminder store refuses this visit")
        real(change, before, after)

    monkeypatch.setitem(visit_followers.followers, "reminders", reminders)
    return {"calls": calls, "ids": ids, "real": real}


def _book(scheduler, world, patient, start):
    r = scheduler.post("/v1/appointments", {
        "patient_id": patient["patient_id"], "clinician_id": world["clinician"]["clinician_id"], "service": "90834",
        "start": start, "modality": "video", "patient_jurisdiction": "US-NY"})
    assert r.status == 201, r.json
    return r.json["appointment_id"]


def _scheduled(caller, appointment_id):
    r = caller.get(f"/v1/appointments/{appointment_id}/reminders")
    assert r.status == 200, r.json
    return sorted((i["send_at"], i["channel"]) for i in r.json["items"] if i["status"] == "scheduled")


def test_a_follower_failing_on_one_record_costs_that_record_bounded_retries_and_nothing_else(
        world, scheduler, admin, tenant, stream_pump, poisoned, caplog):
    stream_pump.drain()  # the world's own records first
    skipped_before = len(stream_pump.skipped)
    patient = unique_patient(scheduler, tenant, "Pola Poison")
    first, poison, last = (_book(scheduler, world, patient, start) for start in STARTS)
    poisoned["ids"].append(poison)

    with caplog.at_level(logging.DEBUG):
        stream_pump.drain()

    # The poison change was delivered once and retried MAX_RETRIES times, then skipped: the stream moved on.
    assert poisoned["calls"].count((poison, "booked")) == 1 + MAX_RETRIES
    assert stream_pump.drain() == 0  # nothing left waiting behind it
    # The visit before it was followed once; the one after it on every delivery and once after the poison record
    # was skipped alone, idempotently.
    assert poisoned["calls"].count((first, "booked")) == 1
    assert poisoned["calls"].count((last, "booked")) == 2 + MAX_RETRIES
    assert len(_scheduled(scheduler, first)) == 4
    assert len(_scheduled(scheduler, last)) == 4  # redelivered five times, scheduled once
    assert _scheduled(scheduler, poison) == []
    # The audit entries of the same batch (the bookings, the patient) are chained: nothing waits.
    report = admin.get("/v1/audit/verify").json
    assert report["ok"] is True and report["waiting"] == 0, report

    # Reported once, as Lambda reports it to the dead-letter queue: stream metadata, no record content.
    assert len(stream_pump.skipped) == skipped_before + 1
    skipped = stream_pump.skipped[-1]
    message = skipped.message()
    info = message["DDBStreamBatchInfo"]
    assert set(info) == {"shardId", "startSequenceNumber", "endSequenceNumber", "batchSize", "streamArn"}
    assert skipped.attempts == 1 + MAX_RETRIES
    # The range is the poison visit's own change alone (as Lambda's bisection isolates it).
    assert info["startSequenceNumber"] == info["endSequenceNumber"] and info["batchSize"] == 1
    from chalicelib.adapters.dynamo.stream_records import changes, read_range

    ranged = changes(read_range(stream_pump.streams, info["streamArn"], info["shardId"], info["startSequenceNumber"],
                                info["endSequenceNumber"]))
    assert len(ranged) == info["batchSize"] and ranged[0].kind == "appointment" and poison in json.dumps(
        ranged[0].new, default=str)
    text = json.dumps(message) + caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    for value in (*PHI, patient["patient_id"], patient["phone_e164"], patient["email"]):
        assert value not in text, value
    assert "stream range skipped" in caplog.text


def test_the_redrive_delivers_a_skipped_range_again_once_the_follower_is_fixed(
        world, scheduler, tenant, stream_pump, poisoned, tmp_path, capsys):
    stream_pump.drain()
    patient = unique_patient(scheduler, tenant, "Pola Poison")
    poison = _book(scheduler, world, patient, STARTS[0])
    poisoned["ids"].append(poison)
    stream_pump.drain()
    assert _scheduled(scheduler, poison) == []
    dead_letter = tmp_path / "dead-letter.json"
    dead_letter.write_text(json.dumps(stream_pump.skipped[-1].message()))

    # Still broken: the re-drive says so and fails, so ops keep the message.
    assert redrive_main(["--in-process", str(dead_letter)], streams=stream_pump.streams) == 1
    assert "failed again from" in capsys.readouterr().out

    poisoned["ids"].clear()  # the follower is fixed
    assert redrive_main(["--in-process", str(dead_letter)], streams=stream_pump.streams) == 0
    out = capsys.readouterr().out
    assert "done" in out and "Pola" not in out and patient["patient_id"] not in out
    assert len(_scheduled(scheduler, poison)) == 4
    # Again, from the dead-letter queue (a message delivered twice): a message whose range fails again is
    # put back at once; once its range went through it is deleted, and nothing is scheduled twice.
    import boto3

    sqs = boto3.client("sqs", region_name=stream_pump.dynamodb.meta.region_name)
    queue = sqs.create_queue(QueueName=f"stream-dead-letters-{tenant}")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody=dead_letter.read_text())
    poisoned["ids"].append(poison)
    assert redrive_main(["--in-process", "--queue-url", queue], streams=stream_pump.streams, sqs=sqs) == 1
    poisoned["ids"].clear()
    assert redrive_main(["--in-process", "--queue-url", queue], streams=stream_pump.streams, sqs=sqs) == 0
    assert sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0).get("Messages", []) == []
    assert len(_scheduled(scheduler, poison)) == 4


def test_a_message_that_is_not_a_stream_failure_record_is_refused_by_name(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"DDBStreamBatchInfo": {"shardId": "s-1"}}))
    assert redrive_main([str(bad)], handler=lambda event, context: None, streams=object()) == 1
    err = capsys.readouterr().err
    assert "streamArn" in err and "startSequenceNumber" in err
