"""The one decorator every route goes through: errors -> problem+json, authentication, the matrix."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from chalice import Blueprint, Response

from ..bootstrap import get_services
from ..domain.access import Caller
from ..domain.errors import DomainError, FieldError, ValidationFailed
from .access import ACCESS, PUBLIC, authorize
from .auth import caller_from_headers
from .problems import problem, problem_responses

M = TypeVar("M")
MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class Call:
    request: Any
    caller: Caller
    lambda_context: Any = None

    @property
    def query(self) -> dict[str, str]:
        return dict(self.request.query_params or {})

    @property
    def headers(self) -> Any:
        return self.request.headers

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
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationFailed("The body is not valid JSON.",
                                   errors=[FieldError("body", "is not valid JSON")]) from exc
        if not isinstance(data, dict):
            raise ValidationFailed("The body must be a JSON object.",
                                   errors=[FieldError("body", "must be a JSON object")])
        return data


class PayloadTooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413
    title = "Request body too large"


def endpoint(bp: Blueprint, method: str, path: str, *, content_types: list[str] | None = None
             ) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    route = f"{method} {path}"
    if route not in ACCESS:
        raise LookupError(f"{route} has no entry in the authorization matrix")

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        @problem_responses
        def guarded(**params: str) -> Response:
            request = bp.current_request
            if ACCESS[route] == PUBLIC:
                return view(Call(request, Caller("anonymous", "", frozenset()), bp.lambda_context), **params)
            request_id = (request.context or {}).get("requestId", "")
            caller = caller_from_headers(request.headers, get_services().settings, request_id)
            authorize(route, caller)
            return view(Call(request, caller, bp.lambda_context), **params)

        kwargs: dict[str, Any] = {"methods": [method]}
        if content_types:
            kwargs["content_types"] = content_types
        bp.route(path, **kwargs)(guarded)
        return guarded

    return decorate


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body), status_code=status,
                    headers={"Content-Type": "application/json", **(headers or {})})


def created(body: Any) -> Response:
    return ok(body, 201)


def not_found() -> Response:
    return problem(404, "NOT_FOUND", "Not found", "No such resource.")
