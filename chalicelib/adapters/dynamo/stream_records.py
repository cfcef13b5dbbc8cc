"""Lambda's DynamoDB stream records -> plain Changes (the images decoded from DynamoDB JSON)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ...domain.changes import Change
from .codec import _plain


def _image(raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    from boto3.dynamodb.types import TypeDeserializer

    decode = TypeDeserializer().deserialize
    return {name: _plain(decode(value)) for name, value in raw.items()}


def changes(records: Iterable[Mapping[str, Any]]) -> list[Change]:
    """One Change per record, in order; a record that cannot be decoded is an `unreadable` Change at its
    place (its sequence number only), so one malformed record fails alone instead of the whole batch."""
    out = []
    for record in records:
        body = record.get("dynamodb") or {}
        sequence = str(body.get("SequenceNumber", ""))
        try:
            keys = _image(body["Keys"]) or {}
            new, old = _image(body.get("NewImage")), _image(body.get("OldImage"))
        except Exception:
            out.append(Change(event=str(record.get("eventName", "")), kind=None, pk="", sk="", new=None, old=None,
                              sequence=sequence, unreadable=True))
            continue
        kind = (new or old or {}).get("kind")
        out.append(Change(event=record["eventName"], kind=kind if isinstance(kind, str) else None,
                          pk=str(keys.get("pk")), sk=str(keys.get("sk")), new=new, old=old, sequence=sequence))
    return out


def lambda_event(records: Iterable[Mapping[str, Any]], stream_arn: str | None) -> dict[str, Any]:
    """Lambda's DynamoDB event of records read with boto3: the wire shape again, plus the stream ARN."""
    from datetime import datetime

    out = []
    for record in records:
        body = dict(record["dynamodb"])
        created = body.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            body["ApproximateCreationDateTime"] = created.timestamp()
        out.append({**record, "dynamodb": body, "eventSourceARN": stream_arn})
    return {"Records": out}


class RangeGone(Exception):
    """The stream no longer holds the start of the range (DynamoDB Streams keep records 24 hours)."""


def read_range(streams: Any, stream_arn: str, shard_id: str, first: str, last: str) -> list[dict[str, Any]]:
    """The records of one shard from sequence number `first` to `last`, both included, in stream order."""
    from botocore.exceptions import ClientError

    try:
        iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard_id,
                                              ShardIteratorType="AT_SEQUENCE_NUMBER",
                                              SequenceNumber=first)["ShardIterator"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("TrimmedDataAccessException", "ResourceNotFoundException"):
            raise RangeGone(exc.response["Error"]["Code"]) from exc
        raise
    out: list[dict[str, Any]] = []
    end = int(last)
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        records = page.get("Records", [])
        for record in records:
            if int(record["dynamodb"]["SequenceNumber"]) > end:
                return out
            out.append(record)
        if not records:  # the shard has nothing after `last` yet (or is closed): the range is all read
            return out
        iterator = page.get("NextShardIterator")
    return out
