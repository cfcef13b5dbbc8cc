"""Idempotency-Key on creating POSTs, stored by Powertools idempotency in DynamoDB.

The key is scoped to tenant, caller and route, so two callers can never replay each other's
responses. The body is hashed as the payload to validate: the same key with another body is a 409.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chalice import Response

from ..bootstrap import get_services
from ..domain.errors import FieldError, IdempotencyInProgress, IdempotencyKeyReused, ValidationFailed
from .routing import Call, ok

_store: Any = None


def _persistence() -> Any:
    global _store
    if _store is None:
        import boto3
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        settings = get_services().settings
        client = boto3.client("dynamodb", region_name=settings.region, endpoint_url=settings.dynamodb_endpoint)
        _store = DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=client)
    return _store


def reset() -> None:
    global _store
    _store = None


def idempotent(call: Call, route: str, produce: Callable[[], tuple[int, Any]]) -> Response:
    key = call.headers.get("idempotency-key") or call.headers.get("Idempotency-Key")
    if key is None:
        status, body = produce()
        return ok(body, status)
    if not (1 <= len(key) <= 255) or not key.isprintable():
        raise ValidationFailed("Idempotency-Key is not valid",
                               errors=[FieldError("Idempotency-Key", "must be 1-255 printable characters")])
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    config = IdempotencyConfig(event_key_jmespath="[scope, key]", payload_validation_jmespath="body",
                               expires_after_seconds=get_services().settings.idempotency_ttl_seconds)
    if call.lambda_context is not None and hasattr(call.lambda_context, "get_remaining_time_in_millis"):
        # An in-progress record then expires with this invocation, so a retry after a timeout can run at once.
        config.register_lambda_context(call.lambda_context)

    @idempotent_function(data_keyword_argument="request", config=config, persistence_store=_persistence())
    def run(request: dict[str, Any]) -> dict[str, Any]:
        status, body = produce()
        return {"status": status, "body": body}

    scope = f"{call.caller.tenant_id}|{call.caller.sub}|{route}"
    try:
        result = run(request={"scope": scope, "key": key, "body": _canonical_body(call)})
    except IdempotencyValidationError as exc:
        raise IdempotencyKeyReused("This Idempotency-Key was used with a different request body.") from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise IdempotencyInProgress("The first request with this Idempotency-Key is still running; retry soon.",
                                    headers={"Retry-After": "1"}) from exc
    return ok(result["body"], result["status"])


def _canonical_body(call: Call) -> str:
    try:
        return json.dumps(call.json(), sort_keys=True, separators=(",", ":"))
    except ValidationFailed:
        return (call.request.raw_body or b"").decode("utf-8", "replace")
