"""Work AWS runs outside a request, driven locally by `make run`: the scheduled jobs on a local clock,
and what the app publishes to SNS printed to the console (ids and types only: no PHI is published)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

JOB_EVERY_SECONDS = 60.0
POLL_SECONDS = 2.0


def start_background(moto_url: str, region: str, stop: threading.Event, say: Callable[[str], None] = print) -> None:
    threading.Thread(target=_jobs, args=(stop, say), name="jobs", daemon=True).start()
    threading.Thread(target=_printer, args=(moto_url, region, stop, say), name="events", daemon=True).start()


def _jobs(stop: threading.Event, say: Callable[[str], None]) -> None:
    from chalicelib.api.jobs import escalations_overdue

    while not stop.wait(JOB_EVERY_SECONDS):
        try:
            result = escalations_overdue({})  # the same handler the deployed schedule invokes
            if result.get("reported"):
                say(f"job escalations-overdue: {result['reported']} reported")
        except Exception as exc:  # a failing job must not stop the local stack
            say(f"job escalations-overdue failed: {exc!r}")


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
