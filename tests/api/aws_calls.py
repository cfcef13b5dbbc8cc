"""Every AWS call the code makes, as IAM sees it: the action, the table or index, the partition key.

Transactions are authorized per item by the item's own action (a TransactWriteItems Put needs
dynamodb:PutItem); DynamoDB's `dynamodb:LeadingKeys` condition key is the partition key of each item
or query. Used to check that a role grants what its code does (tests/api/test_job_grants.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem",
             "Get": "GetItem"}
_EQUALS = re.compile(r"(#\w+)\s*=\s*(:\w+)")


@dataclass(frozen=True)
class Call:
    action: str  # service:Action, as in an IAM policy
    table: str | None = None
    index: str | None = None
    key: str | None = None  # the partition key value (dynamodb:LeadingKeys)
    target: str | None = None  # sns: "topic" or "phone"; secretsmanager: the secret's id (ARN or name)


def _pk(key: Mapping[str, Any] | None, name: str = "pk") -> str | None:
    value = (key or {}).get(name)
    return value.get("S") if isinstance(value, Mapping) else None


def _query_key(params: Mapping[str, Any]) -> str | None:
    index = params.get("IndexName")
    attribute = f"{index}pk" if index else "pk"  # gsi1 -> gsi1pk (adapters/dynamo/models.py)
    names = params.get("ExpressionAttributeNames") or {}
    values = params.get("ExpressionAttributeValues") or {}
    for name, value in _EQUALS.findall(params.get("KeyConditionExpression", "")):
        if names.get(name, name) == attribute:
            return values.get(value, {}).get("S")
    return None


def as_iam(service: str, operation: str, params: Mapping[str, Any]) -> list[Call]:
    if service != "dynamodb":
        target = None
        if service == "sns" and operation == "Publish":
            target = "phone" if params.get("PhoneNumber") else "topic"
        if service == "secretsmanager":
            target = params.get("SecretId")
        prefix = {"sesv2": "ses", "chime-sdk-meetings": "chime"}.get(service, service)
        return [Call(f"{prefix}:{operation}", target=target)]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        out = []
        for item in params["TransactItems"]:
            ((kind, body),) = item.items()
            out.append(Call(f"dynamodb:{_TRANSACT[kind]}", body["TableName"], None,
                            _pk(body.get("Key") or body.get("Item"))))
        return out
    if operation == "BatchWriteItem":
        return [Call("dynamodb:BatchWriteItem", table, None,
                     _pk((w.get("PutRequest") or {}).get("Item") or (w.get("DeleteRequest") or {}).get("Key")))
                for table, writes in params["RequestItems"].items() for w in writes]
    if operation == "BatchGetItem":
        return [Call("dynamodb:BatchGetItem", table, None, _pk(k))
                for table, ask in params["RequestItems"].items() for k in ask["Keys"]]
    if operation in ("Query", "Scan"):
        return [Call(f"dynamodb:{operation}", params["TableName"], params.get("IndexName"),
                     _query_key(params) if operation == "Query" else None)]
    return [Call(f"dynamodb:{operation}", params.get("TableName"), None,
                 _pk(params.get("Key") or params.get("Item")))]


@contextmanager
def recorded() -> Iterator[list[Call]]:
    """Every call of every botocore client (PynamoDB's included) while inside, in order."""
    from botocore.client import BaseClient

    calls: list[Call] = []
    original = BaseClient._make_api_call

    def spy(self: Any, operation_name: str, api_params: Mapping[str, Any]) -> Any:
        calls.extend(as_iam(self.meta.service_model.service_name, operation_name, api_params))
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = spy  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]
