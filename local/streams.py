"""DynamoDB Streams, driven locally as Lambda's event source mapping drives them when deployed.

Reads moto's stream of the main table (describe_stream, shard iterators, get_records) and hands each
batch to the real Chalice handler (api/streams.py) in the Lambda DynamoDB event shape. A failing
batch is delivered again on the next pump, as Lambda retries it; positions advance only on success.
`make run` pumps in the background (local/background.py); tests call drain() to chain at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

BATCH_SIZE = 100  # what api/streams.py asks Lambda for


class StreamPump:
    def __init__(self, dynamodb: Any, streams: Any, table: str, handler: Callable[[dict[str, Any], Any], Any]
                 ) -> None:
        self.dynamodb, self.streams, self.table, self.handler = dynamodb, streams, table, handler
        self.arn: str | None = None
        self.iterators: dict[str, str] = {}  # shard id -> the iterator of its next undelivered record

    def drain(self) -> int:
        """Deliver every record written so far; returns how many were delivered."""
        delivered = 0
        while True:
            moved = self.pump_once()
            if not moved:
                return delivered
            delivered += moved

    def pump_once(self) -> int:
        delivered = 0
        for shard, iterator in self._iterators().items():
            page = self.streams.get_records(ShardIterator=iterator, Limit=BATCH_SIZE)
            records = page.get("Records", [])
            if records:
                self.handler(self.event(records), None)  # raises: the position stays, the batch comes again
                delivered += len(records)
            if page.get("NextShardIterator"):
                self.iterators[shard] = page["NextShardIterator"]
        return delivered

    def event(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        """The Lambda event: boto3's parsed records back in the wire shape, plus the stream ARN."""
        out = []
        for record in records:
            body = dict(record["dynamodb"])
            created = body.get("ApproximateCreationDateTime")
            if isinstance(created, datetime):
                body["ApproximateCreationDateTime"] = created.timestamp()
            out.append({**record, "dynamodb": body, "eventSourceARN": self.arn})
        return {"Records": out}

    def _iterators(self) -> dict[str, str]:
        if self.arn is None:
            self.arn = self.dynamodb.describe_table(TableName=self.table)["Table"]["LatestStreamArn"]
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        for shard in shards:
            if shard["ShardId"] not in self.iterators:
                self.iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        return dict(self.iterators)


def table_pump(region: str, endpoint: str | None, table: str) -> StreamPump:
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
                      app.handler_map[HANDLER_NAME])
