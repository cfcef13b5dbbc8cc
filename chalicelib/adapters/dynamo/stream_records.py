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
    out = []
    for record in records:
        body = record["dynamodb"]
        keys = _image(body["Keys"]) or {}
        new, old = _image(body.get("NewImage")), _image(body.get("OldImage"))
        kind = (new or old or {}).get("kind")
        out.append(Change(event=record["eventName"], kind=kind if isinstance(kind, str) else None,
                          pk=str(keys.get("pk")), sk=str(keys.get("sk")), new=new, old=old,
                          sequence=str(body.get("SequenceNumber", ""))))
    return out
