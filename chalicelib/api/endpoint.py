"""The one decorator every route goes through: errors -> problem+json, authentication, the matrix."""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from chalice import Blueprint, Response

from ..bootstrap import get_services
from ..domain.access import Caller
from ..domain.errors import DomainError, FieldError, Forbidden, NotFound, ValidationFailed
from ..observability import logger, record_request
from ..services.paging import CursorScope, cursor_scope
from .auth import caller_from_headers
from .openapi_registry import RouteContract, record
from .problems import problem, problem_responses
from .route_permissions import ACCESS, PHI_ROUTES, authorize, without_login

M = TypeVar("M")
MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32


@dataclass(frozen=True)
class Call:
    request: Any
    caller: Caller
    lambda_context: Any = None
    route: str = ""

    @property
    def query(self) -> dict[str, str]:
        return dict(self.request.query_params or {})

    @property
    def headers(self) -> Any:
        return self.request.headers

    def params(self, model: type[M]) -> M:
        """The query string, validated by a pydantic model (a bad parameter is a 400 naming it)."""
        return model.model_validate(self.query)  # type: ignore[attr-defined, no-any-return]

    def body(self, model: type[M]) -> M:
        return model.model_validate(self.json())  # type: ignore[attr-defined, no-any-return]

    def json(self) -> dict[str, Any]:
        raw = self.request.raw_body or b""
        if len(raw) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"The body may be at most {MAX_BODY_BYTES} bytes.")
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except RecursionError:
            raise _too_deep() from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationFailed("The body is not valid JSON.",
                                   errors=[FieldError("body", "is not valid JSON")]) from exc
        if _depth(data) > MAX_JSON_DEPTH:
            raise _too_deep()
        if not isinstance(data, dict):
            raise ValidationFailed("The body must be a JSON object.",
                                   errors=[FieldError("body", "must be a JSON object")])
        return data


def _depth(data: Any) -> int:
    """Nesting depth, counted without recursion (validators and encoders recurse on what passes)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_JSON_DEPTH:
                stack.extend((v, level + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


def _too_deep() -> ValidationFailed:
    return ValidationFailed("The body is nested too deeply.",
                            errors=[FieldError("body", f"may nest objects and arrays at most {MAX_JSON_DEPTH} deep")])


class PayloadTooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413
    title = "Request body too large"


def endpoint(bp: Blueprint, method: str, path: str, *, content_types: list[str] | None = None,
             body: Any = None, query: Any = None, response: Any = None, status: int = 200, summary: str = "",
             description: str = "", errors: tuple[int, ...] = (), idempotency_key: bool = False,
             ) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Declare a route. The keyword arguments after `content_types` only describe it, for GET /v1/openapi.json
    (see api/openapi_registry.py), and are all optional: `body`/`query` the pydantic models the view validates with,
    `response` the model of the `status` answer, by name in chalicelib/schemas/responses.py (imported only
    when the document is built), `errors` the route's own error statuses (400/401/403/404/413/415 follow
    from its shape), `idempotency_key` whether it honours an Idempotency-Key header."""
    route = f"{method} {path}"
    if route not in ACCESS:
        raise LookupError(f"{route} has no entry in the authorization matrix")
    record(RouteContract(
        method, path, public=without_login(route), summary=summary, description=description,
        tags=(bp._import_name.rpartition(".")[2],), body=body, query=query, response=response, status=status,
        errors=tuple(errors), idempotent=idempotency_key, content_types=tuple(content_types or ["application/json"])))

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        @problem_responses
        def guarded(**params: str) -> Response:
            request = bp.current_request
            services = get_services()
            if without_login(route):
                anonymous = Caller("anonymous", "", frozenset())
                # A public feed pages internally too: its cursors are sealed to the anonymous caller.
                with cursor_scope(_cursor_scope(services, route, anonymous, request)):
                    return view(Call(request, anonymous, bp.lambda_context), **params)
            request_id = (request.context or {}).get("requestId", "")
            caller = caller_from_headers(request.headers, services.settings, request_id, services.process.jwks)
            try:
                authorize(route, caller)
                with cursor_scope(_cursor_scope(services, route, caller, request)):
                    return view(Call(request, caller, bp.lambda_context, route), **params)
            except (Forbidden, NotFound):
                if route in PHI_ROUTES:
                    _audit_denied(services, route, caller, request, params)
                raise

        @functools.wraps(view)
        def observed(**params: str) -> Response:
            started = time.perf_counter()
            response = guarded(**params)
            request_id = ((bp.current_request.context or {}).get("requestId", "") if bp.current_request else "")
            record_request(_metrics(), route, response.status_code, time.perf_counter() - started, request_id,
                           _problem_code(response))
            return response

        kwargs: dict[str, Any] = {"methods": [method]}
        if content_types:
            kwargs["content_types"] = content_types
        bp.route(path, **kwargs)(observed)
        return observed

    return decorate


def _metrics() -> Any:
    try:
        return get_services().process.metrics()
    except Exception:  # no composition (its settings failed to load): the answer is a problem all the same
        return None


_AUDITABLE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _audit_denied(services: Any, route: str, caller: Caller, request: Any, params: dict[str, str]) -> None:
    """A refused attempt on a PHI route, in the caller's log: ids only (a member id is PHI: never kept)."""
    ids = {k: v for k, v in params.items() if k != "member_id" and _AUDITABLE_ID.fullmatch(v)}
    patient_id = ids.get("patient_id") or (request.query_params or {}).get("patient_id")
    if patient_id is not None and not _AUDITABLE_ID.fullmatch(patient_id):
        patient_id = None
    resource = ",".join(f"{k}={v}" for k, v in sorted(ids.items())) or route.split(" ", 1)[1]
    try:
        services.audit.record(caller, route, resource, patient_id, "denied")
    except Exception as exc:  # the refusal stands whatever the audit store does
        logger.warning("denied attempt not audited", extra={"route": route, "error": type(exc).__name__})


def _cursor_scope(services: Any, route: str, caller: Caller, request: Any) -> CursorScope:
    """Cursors of this request are bound to this caller, this route and this query's filters."""
    # Paging parameters are not filters: /v1's cursor and limit, FHIR's _cursor and _count.
    filters = {k: v for k, v in (request.query_params or {}).items()
               if k not in ("cursor", "limit", "_cursor", "_count") and v}
    who = [caller.tenant_id, caller.sub, sorted(caller.roles), caller.patient_id, caller.clinician_id,
           caller.payer_id]
    settings = services.settings
    return CursorScope(settings.cursor_key or "", int(services.clock().timestamp()), settings.cursor_ttl_seconds,
                       {"route": route, "caller": who, "filters": filters})


def _problem_code(response: Response) -> str | None:
    if response.status_code < 400 or not isinstance(response.body, str):
        return None
    try:
        code = json.loads(response.body).get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, str) else None


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body), status_code=status,
                    headers={"Content-Type": "application/json", **(headers or {})})


def created(body: Any) -> Response:
    return ok(body, 201)


def not_found() -> Response:
    return problem(404, "NOT_FOUND", "Not found", "No such resource.")
