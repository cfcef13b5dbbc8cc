"""DynamoDB Streams, driven locally as Lambda's event source mapping drives them when deployed.

Reads moto's stream of the main table (describe_stream, shard iterators, get_records) and hands each
batch to the real Chalice handler (api/streams.py) in the Lambda DynamoDB event shape. The handler's
partial batch response is honoured as the deployed event source mapping honours it (infra/api.py):
records before the first failed one are done; the stream is delivered again from that record, at most
MAX_RETRIES more times; then the failed record alone is skipped, as Lambda's bisection ends by sending
the poison record to the stream's dead-letter queue, and the pump goes on from the record after it: a
poison record never wedges `make run` and costs the records behind it nothing but redelivery (they were
handed to the consumers on every attempt, and once more after the skip; the consumers are idempotent).
A skipped record is logged with the same metadata Lambda's dead-letter message carries (shard and
sequence numbers, never a record's content); `python -m chalicelib.api.stream_redrive` delivers it again.
`make run` pumps in the background (local/background.py); tests call drain() to chain at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

BATCH_SIZE = 100  # what api/streams.py asks Lambda for
MAX_RETRIES = 3  # deployed: infra/api.py STREAM_MAX_RETRIES (more); here a poison record costs 4 tries

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Skipped:
    """A range of one shard given up after its retries: what Lambda sends to the dead-letter queue."""

    stream_arn: str
    shard_id: str
    start: str  # sequence numbers, both included
    end: str
    size: int
    attempts: int

    def message(self) -> dict[str, Any]:
        """The on-failure record's shape (the fields the re-drive reads); no record content, so no PHI."""
        return {"version": "1.0", "timestamp": datetime.now(UTC).isoformat(),
                "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": self.attempts},
                "DDBStreamBatchInfo": {"shardId": self.shard_id, "startSequenceNumber": self.start,
                                       "endSequenceNumber": self.end, "batchSize": self.size,
                                       "streamArn": self.stream_arn}}


def _log_skipped(skipped: Skipped) -> None:
    log.warning("stream range skipped after %d attempts: %s", skipped.attempts, skipped.message())


class StreamPump:
    def __init__(self, dynamodb: Any, streams: Any, table: str, handler: Callable[[dict[str, Any], Any], Any],
                 max_retries: int = MAX_RETRIES, on_skip: Callable[[Skipped], None] = _log_skipped) -> None:
        self.dynamodb, self.streams, self.table, self.handler = dynamodb, streams, table, handler
        self.max_retries, self.on_skip = max_retries, on_skip
        self.arn: str | None = None
        self.iterators: dict[str, str] = {}  # shard id -> the iterator of its next undelivered record
        self.failing: dict[str, tuple[str, int]] = {}  # shard id -> (first failed record, failed deliveries)
        self.skipped: list[Skipped] = []

    def drain(self) -> int:
        """Deliver every record written so far (retrying a failing range, then skipping it); returns how
        many records were done or skipped."""
        finished = 0
        while True:
            done, busy = self._pump()
            finished += done
            if not busy:
                return finished

    def pump_once(self) -> int:
        return self._pump()[0]

    def _pump(self) -> tuple[int, bool]:
        """One delivery per shard: (records done or skipped, whether any records were handed over)."""
        finished, busy = 0, False
        for shard, iterator in self._iterators().items():
            page = self.streams.get_records(ShardIterator=iterator, Limit=BATCH_SIZE)
            records = page.get("Records", [])
            if not records:
                if page.get("NextShardIterator"):
                    self.iterators[shard] = page["NextShardIterator"]
                continue
            busy = True
            failed_at = self._deliver(records)
            if failed_at is None:
                self.failing.pop(shard, None)
                self.iterators[shard] = page["NextShardIterator"]
                finished += len(records)
                continue
            first = records[failed_at]["dynamodb"]["SequenceNumber"]
            previous, attempts = self.failing.get(shard, (None, 0))
            attempts = attempts + 1 if previous == first else 1
            finished += failed_at
            if attempts > self.max_retries:  # as Lambda after bisection: the poison record to the dead letters
                self.failing.pop(shard, None)
                skipped = Skipped(self.arn or "", shard, first, first, 1, attempts)
                self.skipped.append(skipped)
                self.on_skip(skipped)
                self.iterators[shard] = self.streams.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                    SequenceNumber=first)["ShardIterator"]
                finished += 1
                continue
            self.failing[shard] = (first, attempts)
            self.iterators[shard] = self.streams.get_shard_iterator(
                StreamArn=self.arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER",
                SequenceNumber=first)["ShardIterator"]
        return finished, busy

    def _deliver(self, records: list[dict[str, Any]]) -> int | None:
        """Hand the batch to the handler; None when all is done, else the index of the first record to retry."""
        try:
            answer = self.handler(self.event(records), None)
        except Exception as exc:  # a function error: the whole batch failed
            log.warning("stream handler failed: %s", type(exc).__name__)
            return 0
        failures = (answer or {}).get("batchItemFailures") if isinstance(answer, dict) else None
        if not failures:
            return None
        position = {r["dynamodb"]["SequenceNumber"]: n for n, r in enumerate(records)}
        named = [position.get(f.get("itemIdentifier") or "") for f in failures]
        # As Lambda: the lowest sequence number reported; one it cannot place fails the whole batch.
        return 0 if None in named else min(n for n in named if n is not None)

    def event(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        """The Lambda event: boto3's parsed records back in the wire shape, plus the stream ARN."""
        from chalicelib.adapters.dynamo.stream_records import lambda_event

        return lambda_event(records, self.arn)

    def _iterators(self) -> dict[str, str]:
        if self.arn is None:
            self.arn = self.dynamodb.describe_table(TableName=self.table)["Table"]["LatestStreamArn"]
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        for shard in shards:
            if shard["ShardId"] not in self.iterators:
                self.iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        return dict(self.iterators)


def table_pump(region: str, endpoint: str | None, table: str,
               on_skip: Callable[[Skipped], None] = _log_skipped) -> StreamPump:
    """A pump of `table`'s stream into the app's own handler."""
    import boto3
    from botocore.config import Config

    from app import app
    from chalicelib.api.streams import HANDLER_NAME

    return StreamPump(boto3.client("dynamodb", region_name=region, endpoint_url=endpoint),
                      # Account-based endpoints would send stream calls (they carry an ARN) to DynamoDB's own
                      # endpoint, which moto answers with 404; the streams endpoint is the documented one.
                      boto3.client("dynamodbstreams", region_name=region, endpoint_url=endpoint,
                                   config=Config(account_id_endpoint_mode="disabled")), table,
                      app.handler_map[HANDLER_NAME], on_skip=on_skip)
