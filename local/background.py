"""Work AWS runs outside a request, driven locally by `make run`: the scheduled jobs on a local clock, the
main table's DynamoDB stream into its Chalice handler (local/streams.py: the audit chain is built there, and
the visit's followers run there: eligibility after booking, reminders, confirmations, the waitlist),
and what the app publishes to SNS printed to the console (ids and types only: no PHI is published).
The local outbox (SMS and email the reminder and waitlist jobs sent through moto) is printed too: it is
demo data on the local stage only."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

JOB_EVERY_SECONDS = 60.0
POLL_SECONDS = 2.0
STREAM_POLL_SECONDS = 0.5  # Lambda polls a stream shard about four times a second


def start_background(moto_url: str, region: str, stop: threading.Event, say: Callable[[str], None] = print) -> None:
    threading.Thread(target=_jobs, args=(stop, say), name="jobs", daemon=True).start()
    threading.Thread(target=_printer, args=(moto_url, region, stop, say), name="events", daemon=True).start()
    threading.Thread(target=_stream, args=(moto_url, region, stop, say), name="stream", daemon=True).start()


def _stream(moto_url: str, region: str, stop: threading.Event, say: Callable[[str], None]) -> None:
    from chalicelib.settings import Settings
    from local.streams import Skipped, table_pump

    def skipped(s: Skipped) -> None:  # what Lambda would send to the stream's dead-letter queue: no PHI
        say(f"stream records skipped after {s.attempts} attempts (poison record?): {json.dumps(s.message())}")

    pump = table_pump(region, moto_url, Settings.from_env().main_table, on_skip=skipped)
    while not stop.wait(STREAM_POLL_SECONDS):
        try:
            pump.drain()
        except Exception as exc:  # as Lambda: the batch stays and is delivered again on the next poll
            if not stop.is_set():
                say(f"stream consumer failed (will retry): {type(exc).__name__}")


def scheduled_event(rule: str) -> dict[str, Any]:
    """The EventBridge event a deployed schedule hands its Lambda (what Chalice's handler parses)."""
    import uuid
    from datetime import UTC, datetime

    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "us-east-1", "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{rule}"], "detail": {}}


def run_jobs_once(say: Callable[[str], None]) -> None:
    """Every scheduled handler once, as the deployed schedules invoke them, then what went out."""
    from chalicelib.adapters.notify import LOCAL_OUTBOX
    from chalicelib.api.jobs import (
        confirmations_release,
        eligibility_pending,
        escalations_overdue,
        reminders_send,
        waitlist_offers,
    )

    for name, handler in (("escalations-overdue", escalations_overdue), ("reminders-send", reminders_send),
                          ("confirmations-release", confirmations_release), ("waitlist-offers", waitlist_offers),
                          ("eligibility-pending", eligibility_pending)):
        try:
            result = handler(scheduled_event(name), None)
            if any(result.values()):
                say(f"job {name}: " + " ".join(f"{k}={v}" for k, v in result.items()))
        except Exception as exc:  # a failing job must not stop the local stack
            say(f"job {name} failed: {exc!r}")
    while LOCAL_OUTBOX:
        sent = LOCAL_OUTBOX.popleft()
        say(f"outbox {sent['channel']} to {sent['to']}: {sent['text']}")


def _jobs(stop: threading.Event, say: Callable[[str], None]) -> None:
    while not stop.wait(JOB_EVERY_SECONDS):
        run_jobs_once(say)


def _printer(moto_url: str, region: str, stop: threading.Event, say: Callable[[str], None]) -> None:
    import boto3

    from chalicelib.adapters.events import LOCAL_TOPIC

    sns = boto3.client("sns", region_name=region, endpoint_url=moto_url)
    sqs = boto3.client("sqs", region_name=region, endpoint_url=moto_url)
    topic = sns.create_topic(Name=LOCAL_TOPIC)["TopicArn"]
    queue = sqs.create_queue(QueueName="hco-local-console")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    while not stop.wait(POLL_SECONDS):
        try:
            for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
                say(f"published {_summary(json.loads(m['Body']))}")
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
        except Exception as exc:  # moto stopping at Ctrl-C
            if not stop.is_set():
                say(f"event printer: {exc!r}")


def _summary(event: dict[str, Any]) -> str:
    return " ".join(f"{k}={event[k]}" for k in ("type", "tenant_id", "escalation_id", "risk") if k in event)
