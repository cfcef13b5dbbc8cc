"""GET /v1/openapi.json: the OpenAPI 3.1 document of every route, built from the route registry.

`endpoint(...)` records each route's pydantic models (the same ones that validate its body and
query string) in `contract.ROUTES` as the blueprints are imported. The JSON schemas are generated
here on the first request and kept for the life of the process: `import app` (a Lambda cold
start) never pays for schema generation.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from typing import Any

from chalice import Blueprint, Response

from .endpoint import Call, endpoint
from .openapi_registry import ERROR_REASONS, ROUTES, RouteContract
from .problems import PROBLEM_JSON

openapi = Blueprint(__name__)

REF = "#/components/schemas/{model}"
PATH_ID = {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,64}$"}
LOCAL_SERVER = {"url": "http://127.0.0.1:{port}", "description": "Local stage (`make run`)",
                "variables": {"port": {"default": "8000"}}}

_lock = threading.Lock()
_cached: str | None = None


@endpoint(openapi, "GET", "/v1/openapi.json", response="OpenApiDocument", summary="This OpenAPI 3.1 document",
          description="Generated from the pydantic models that validate requests. No authentication.")
def openapi_document(call: Call) -> Response:
    return Response(body=document_json(), status_code=200,
                    headers={"Content-Type": "application/json", "Cache-Control": "public, max-age=300"})


def document_json() -> str:
    global _cached
    if _cached is None:
        with _lock:
            if _cached is None:
                _cached = json.dumps(build_document(), separators=(",", ":"))
    return _cached


def reset() -> None:
    """Forget the cached document (tests that declare routes after the first request)."""
    global _cached
    _cached = None


def build_document(routes: dict[str, RouteContract] | None = None) -> dict[str, Any]:
    from pydantic.json_schema import models_json_schema

    from ..schemas.responses import GatewayError, Problem

    routes = {k: _resolved(r) for k, r in (ROUTES if routes is None else routes).items()}
    ordered = sorted(routes.values(), key=lambda r: (r.path, r.method))
    wanted: list[tuple[Any, Any]] = [(Problem, "serialization"), (GatewayError, "serialization")]
    for r in ordered:
        wanted += [(m, "validation") for m in (r.body, r.query) if m is not None]
        if r.response is not None:
            wanted.append((r.response, "serialization"))
        if r.extra.get("error_model") is not None:  # e.g. FHIR routes answer errors as OperationOutcome
            wanted.append((r.extra["error_model"], "serialization"))
    wanted = list(dict.fromkeys(wanted))
    refs, top = models_json_schema(wanted, ref_template=REF)
    schemas: dict[str, Any] = top.get("$defs", {})

    paths: dict[str, dict[str, Any]] = {}
    for r in ordered:
        paths.setdefault(r.path, {})[r.method.lower()] = _operation(r, refs, schemas)
    for r in ordered:  # query models become parameters, not components
        if r.query is not None:
            schemas.pop(_name(refs[(r.query, "validation")]), None)

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Hybrid Care Orchestrator API",
            "version": "1.0.0",
            "summary": "Scheduling of mental-health visits across clinic, video and phone.",
            "description": "Errors are RFC 9457 problem details (`application/problem+json`). "
                           "Every route except the health check and this document needs a bearer JWT.",
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "servers": [LOCAL_SERVER],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": t} for t in sorted({t for r in ordered for t in r.tags})],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "Cognito ID token (deployed stages) or a local dev token "
                               "(`python -m local.token --role ROLE --tenant TENANT`)."}},
        },
    }


def _resolved(r: RouteContract) -> RouteContract:
    """A model may be named rather than imported, so `import app` never defines it: a response by its name in
    schemas/responses.py, any model as "package.module:Name"."""
    changes: dict[str, Any] = {name: _model(getattr(r, name)) for name in ("body", "query", "response")
                               if isinstance(getattr(r, name), str)}
    if isinstance(r.extra.get("error_model"), str):
        changes["extra"] = {**r.extra, "error_model": _model(r.extra["error_model"])}
    return replace(r, **changes) if changes else r


def _model(name: str) -> Any:
    if ":" in name:
        import importlib

        module, _, attr = name.partition(":")
        return getattr(importlib.import_module(module), attr)
    from ..schemas import responses

    return getattr(responses, name)


def _operation(r: RouteContract, refs: dict[Any, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": _operation_id(r),
        "tags": list(r.tags),
        "summary": r.summary or r.key,
    }
    if r.description:
        op["description"] = r.description
    path_schema = r.extra.get("path_schema", PATH_ID)
    params = [{"name": p, "in": "path", "required": True, "schema": dict(path_schema)} for p in r.path_params]
    if r.query is not None:
        params += _query_parameters(schemas[_name(refs[(r.query, "validation")])])
    if r.idempotent:
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "description": "A retry with the same key and body returns the first response; "
                                      "the same key with another body is 409 IDEMPOTENCY_KEY_REUSED.",
                       "schema": {"type": "string", "pattern": r"^[!-~]{1,255}$"}})
    if params:
        op["parameters"] = params
    if r.body is not None:
        ref = refs[(r.body, "validation")]
        required = bool(schemas.get(_name(ref), {}).get("required"))
        op["requestBody"] = {"required": required, "content": {ct: {"schema": ref} for ct in r.content_types}}
    responses: dict[str, Any] = {}
    success: dict[str, Any] = {"description": "OK" if r.status == 200 else "Created" if r.status == 201 else "Done"}
    if r.response is not None:
        content_type = r.extra.get("response_content_type", "application/json")  # e.g. application/edi-x12
        success["content"] = {content_type: {"schema": refs[(r.response, "serialization")]}}
    responses[str(r.status)] = success
    from ..schemas.responses import GatewayError, Problem

    problem_ref = refs[(Problem, "serialization")]
    error_type = r.extra.get("error_content_type", PROBLEM_JSON)
    if r.extra.get("error_model") is not None:
        problem_ref = refs[(r.extra["error_model"], "serialization")]
    for status in r.error_statuses():
        if status == 415:
            # Answered as problem+json (OperationOutcome under /fhir/) since the framework's own errors are
            # (api/middleware.py); the old application/json shape stays listed: the document only grows.
            gateway_ref = refs[(GatewayError, "serialization")]
            responses["415"] = {"description": ERROR_REASONS[415],
                                "content": {error_type: {"schema": problem_ref},
                                            "application/json": {"schema": gateway_ref}}}
            continue
        answer: dict[str, Any] = {"description": ERROR_REASONS.get(status, "Error"),
                                  "content": {error_type: {"schema": problem_ref}}}
        if status == 429:
            answer["headers"] = {"Retry-After": {"description": "Seconds until the window resets",
                                                 "schema": {"type": "integer", "minimum": 1}}}
        responses[str(status)] = answer
    op["responses"] = responses
    if r.public:
        op["security"] = []
    return op


def _query_parameters(model_schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(model_schema.get("required", []))
    params = []
    for name, prop in model_schema.get("properties", {}).items():
        schema = _without_null(dict(prop))
        schema.pop("title", None)
        if "default" in schema and schema["default"] is None:
            del schema["default"]
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": schema}
        if "description" in schema:
            param["description"] = schema.pop("description")
        params.append(param)
    return params


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`X | None` of an optional query parameter: absent is the null, so the parameter is just X."""
    branches = schema.get("anyOf")
    if isinstance(branches, list) and {"type": "null"} in branches:
        rest = [b for b in branches if b != {"type": "null"}]
        merged = {k: v for k, v in schema.items() if k != "anyOf"}
        if len(rest) == 1:
            return {**rest[0], **merged}
        return {**merged, "anyOf": rest}
    return schema


def _operation_id(r: RouteContract) -> str:
    words = [p.strip("{}").replace("-", "_").replace(".", "_") for p in r.path.split("/")[2:] if p]
    return r.method.lower() + "_" + "_".join(words)


def _name(ref: dict[str, str]) -> str:
    return ref["$ref"].rsplit("/", 1)[1]
