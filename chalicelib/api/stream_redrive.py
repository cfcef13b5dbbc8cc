"""Deliver a skipped range of the table stream again: ops' re-drive of the stream's dead-letter messages.

    python -m chalicelib.api.stream_redrive --function-name <stage function>-table-stream message.json ...
    python -m chalicelib.api.stream_redrive --function-name ... --queue-url <StreamDeadLetters url>
    python -m chalicelib.api.stream_redrive --in-process message.json     # make run / tests: this process's app

A message is Lambda's on-failure record of the stream's event source (infra/api.py): the range's metadata
only (`DDBStreamBatchInfo`: stream, shard, first and last sequence numbers), never a record. The records
are read again from the stream (DynamoDB Streams keep them 24 hours) and handed to the deployed stream
consumer (Lambda Invoke, so it runs under its own role and settings) in the event shape Lambda gives it.
Every consumer is idempotent (services/streams.py): the audit chain skips entries already chained, the
visit followers skip work already done. A message from the queue is deleted only once its range was
delivered and nothing failed. Output: counts and sequence numbers, no record content (PHI).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class StreamRange:
    stream_arn: str
    shard_id: str
    first: str
    last: str

    @classmethod
    def of(cls, message: Mapping[str, Any]) -> StreamRange:
        info = message.get("DDBStreamBatchInfo")
        if not isinstance(info, Mapping):
            raise ValueError("not a DynamoDB stream on-failure record: DDBStreamBatchInfo is missing")
        fields = ("streamArn", "shardId", "startSequenceNumber", "endSequenceNumber")
        missing = [f for f in fields if not isinstance(info.get(f), str) or not info.get(f)]
        if missing:
            raise ValueError(f"DDBStreamBatchInfo lacks {', '.join(missing)}")
        return cls(*(str(info[f]) for f in fields))


@dataclass(frozen=True)
class Outcome:
    range: StreamRange
    read: int  # records read from the stream
    whole: bool  # the last record read is the range's last
    failed_from: str | None  # the first record some consumer did not finish again; None: done

    @property
    def done(self) -> bool:
        return self.whole and self.failed_from is None

    def line(self) -> str:
        what = "done" if self.done else (f"failed again from {self.failed_from}" if self.failed_from
                                         else "incomplete: the stream no longer holds all of it")
        return (f"shard {self.range.shard_id} {self.range.first}..{self.range.last}: {self.read} record(s), {what}")


def redrive(streams: Any, stream_range: StreamRange, handler: Handler) -> Outcome:
    from ..adapters.dynamo.stream_records import lambda_event, read_range

    records = read_range(streams, stream_range.stream_arn, stream_range.shard_id, stream_range.first,
                         stream_range.last)
    whole = bool(records) and records[-1]["dynamodb"]["SequenceNumber"] == stream_range.last
    if not records:
        return Outcome(stream_range, 0, False, None)
    answer = handler(lambda_event(records, stream_range.stream_arn), None)
    failures = (answer.get("batchItemFailures") if isinstance(answer, Mapping) else None) or []
    named = sorted((str(f.get("itemIdentifier")) for f in failures), key=lambda s: int(s) if s.isdigit() else -1)
    return Outcome(stream_range, len(records), whole, named[0] if named else None)


def lambda_handler(function_name: str, region: str | None) -> Handler:
    """The deployed consumer, invoked synchronously: its role, its settings, its answer."""
    import boto3

    client = boto3.client("lambda", region_name=region)

    def invoke(event: dict[str, Any], _context: Any) -> Any:
        reply = client.invoke(FunctionName=function_name, InvocationType="RequestResponse",
                              Payload=json.dumps(event, default=str).encode())
        body = json.loads(reply["Payload"].read() or b"null")
        if reply.get("FunctionError"):  # the function raised: nothing of the batch is known to be done
            return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}]}
        return body

    return invoke


def in_process_handler() -> Handler:
    """This process's app (make run, tests): the same Chalice handler Lambda calls."""
    import importlib

    from .streams import HANDLER_NAME

    handler: Handler = importlib.import_module("app").app.handler_map[HANDLER_NAME]
    return handler


def main(argv: list[str] | None = None, *, streams: Any = None, handler: Handler | None = None,
         sqs: Any = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=handler is None)
    where.add_argument("--function-name", help="the deployed stream consumer (Lambda Invoke)")
    where.add_argument("--in-process", action="store_true", help="this process's app (make run, tests)")
    parser.add_argument("--queue-url", help="read on-failure records from this queue; delete each one done")
    parser.add_argument("--max-messages", type=int, default=10)
    parser.add_argument("--region")
    parser.add_argument("messages", nargs="*", help="files of on-failure records ('-': stdin)")
    args = parser.parse_args(argv)
    if not args.messages and not args.queue_url:
        parser.error("name message files or --queue-url")

    import boto3
    from botocore.config import Config

    from ..adapters.dynamo.stream_records import RangeGone

    # Stream calls carry an ARN: account-based endpoints would send them to DynamoDB's own endpoint.
    streams = streams or boto3.client("dynamodbstreams", region_name=args.region,
                                      config=Config(account_id_endpoint_mode="disabled"))
    if handler is None:
        handler = in_process_handler() if args.in_process else lambda_handler(args.function_name, args.region)

    work: list[tuple[str, dict[str, Any], str | None]] = []  # (name, message, receipt handle)
    for name in args.messages:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        work.append((name, json.loads(text), None))
    if args.queue_url:
        sqs = sqs or boto3.client("sqs", region_name=args.region)
        got = sqs.receive_message(QueueUrl=args.queue_url, MaxNumberOfMessages=min(args.max_messages, 10),
                                  WaitTimeSeconds=1, VisibilityTimeout=300)
        work += [(m["MessageId"], json.loads(m["Body"]), m["ReceiptHandle"]) for m in got.get("Messages", [])]

    status = 0
    for name, message, receipt in work:
        try:
            outcome = redrive(streams, StreamRange.of(message), handler)
        except (ValueError, RangeGone) as exc:
            print(f"{name}: not re-driven: {exc}", file=sys.stderr)
            status = 1
            if receipt is not None:
                sqs.change_message_visibility(QueueUrl=args.queue_url, ReceiptHandle=receipt, VisibilityTimeout=0)
            continue
        print(f"{name}: {outcome.line()}")
        if not outcome.done:
            status = 1
            if receipt is not None:  # back in the queue at once: the alarm stays until it goes through
                sqs.change_message_visibility(QueueUrl=args.queue_url, ReceiptHandle=receipt, VisibilityTimeout=0)
        elif receipt is not None:
            sqs.delete_message(QueueUrl=args.queue_url, ReceiptHandle=receipt)
    if not work:
        print("no messages")
    return status


if __name__ == "__main__":
    sys.exit(main())
