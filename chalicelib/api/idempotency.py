"""Idempotency-Key on creating POSTs, stored by Powertools idempotency in DynamoDB.

The record is keyed on a JSON list (an injective encoding: no separator a claim could contain) of
tenant, route, caller `sub` and every claim that decides access (roles, patient, clinician and
payer ids), so only the same caller with the same access can ever reach a stored answer. A replay
is checked again against the caller before it is returned: an answer naming a patient the caller
may not see is a 404, never the answer. The body is hashed as the payload to validate: the same
key with another body is a 409.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chalice import Response

from ..bootstrap import get_services
from ..domain.access import Caller, require_patient_access
from ..domain.errors import FieldError, IdempotencyInProgress, IdempotencyKeyReused, NotFound, ValidationFailed
from .endpoint import Call, ok


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

    services = get_services()
    config = IdempotencyConfig(event_key_jmespath="[scope, key]", payload_validation_jmespath="body",
                               hash_function="sha256", expires_after_seconds=services.settings.idempotency_ttl_seconds)
    if call.lambda_context is not None and hasattr(call.lambda_context, "get_remaining_time_in_millis"):
        # An in-progress record then expires with this invocation, so a retry after a timeout can run at once.
        config.register_lambda_context(call.lambda_context)

    @idempotent_function(data_keyword_argument="request", config=config,
                         persistence_store=services.process.idempotency_store())
    def run(request: dict[str, Any]) -> dict[str, Any]:
        status, body = produce()
        return {"status": status, "body": body}

    scope = idempotency_scope(call.caller, route)
    try:
        result = run(request={"scope": scope, "key": key, "body": _canonical_body(call)})
    except IdempotencyValidationError as exc:
        raise IdempotencyKeyReused("This Idempotency-Key was used with a different request body.") from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise IdempotencyInProgress("The first request with this Idempotency-Key is still running; retry soon.",
                                    headers={"Retry-After": "1"}) from exc
    _require_visible(call.caller, result["body"])
    return ok(result["body"], result["status"])


def idempotency_scope(caller: Caller, route: str) -> list[Any]:
    """Everything that decides what this caller may see, as a list (JSON-encoded before hashing)."""
    return [caller.tenant_id, route, caller.sub, sorted(caller.roles), caller.patient_id, caller.clinician_id,
            caller.payer_id]


def _require_visible(caller: Caller, body: Any) -> None:
    """Defence in depth: a stored answer is only handed to a caller who may see what it names."""
    if not isinstance(body, dict):
        return
    if isinstance(body.get("patient_id"), str):
        require_patient_access(caller, body["patient_id"])
    payer = body.get("payer_id")
    if isinstance(payer, str) and not caller.tenant_wide and caller.payer_id != payer:
        raise NotFound("No such resource.")


def _canonical_body(call: Call) -> str:
    try:
        return json.dumps(call.json(), sort_keys=True, separators=(",", ":"))
    except ValidationFailed:
        return (call.request.raw_body or b"").decode("utf-8", "replace")
