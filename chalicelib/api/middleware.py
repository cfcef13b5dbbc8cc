"""Chalice middleware, registered for every Lambda handler of the app (app.py registers this blueprint first).

- Every handler (HTTP, the schedules, Chime's meeting events) logs with its Lambda context: the shared
  Powertools logger's `inject_lambda_context`, the event itself never logged (it carries PHI).
- The framework's own refusals, answered before a view runs (405 for a method a route does not take, 415
  for a Content-Type it does not accept, Chalice's 500), are problem+json like every other error of the API
  (OperationOutcome under /fhir/), never Chalice's `{"Code": ..., "Message": ...}`.
- A request without a body is not refused for its Content-Type: there is nothing to misread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response
from chalice.app import CaseInsensitiveMapping

from ..observability import logger
from .problems import framework_problem

runtime = Blueprint(__name__)

_CONTEXT_FIELDS = ("function_name", "memory_limit_in_mb", "invoked_function_arn", "aws_request_id")
# Headers of Chalice's own error answers worth keeping: what a client needs to retry correctly.
_KEPT_HEADERS = frozenset({"allow", "access-control-allow-origin", "access-control-allow-headers",
                           "access-control-allow-methods", "access-control-max-age",
                           "access-control-expose-headers", "access-control-allow-credentials"})


@runtime.middleware("all")
def lambda_context(event: Any, get_response: Callable[[Any], Any]) -> Any:
    # An HTTP event (chalice Request) carries the context as `lambda_context` (its `context` is API Gateway's
    # requestContext); every other event as `context`.
    context = getattr(event, "lambda_context", None) if hasattr(event, "lambda_context") else \
        getattr(event, "context", None)
    if context is None or not all(hasattr(context, f) for f in _CONTEXT_FIELDS):
        return get_response(event)
    handler = logger.inject_lambda_context(lambda e, _c: get_response(e), log_event=False)
    return handler(event, context)


@runtime.middleware("http")
def framework_problems(request: Any, get_response: Callable[[Any], Response]) -> Response:
    _accept_without_body(request)
    return as_problem(request, get_response(request))


def _accept_without_body(request: Any) -> None:
    """Chalice refuses a Content-Type its route does not list even when no body comes with it (and takes a
    missing one for JSON). A body-less request is given the route's own type instead, so it reaches the view,
    which answers for what is missing."""
    if request.raw_body:
        return
    entry = runtime.current_app.routes.get(request.path, {}).get(request.method)
    if entry is None or not entry.content_types:
        return
    sent = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if sent and sent in (t.lower() for t in entry.content_types):
        return
    request.headers = CaseInsensitiveMapping({**dict(request.headers), "content-type": entry.content_types[0]})


def as_problem(request: Any, response: Response) -> Response:
    """Chalice's own error shape (a dict body with Code and Message) -> the API's; anything else as it was."""
    body = response.body
    if response.status_code < 400 or not (isinstance(body, dict) and set(body) == {"Code", "Message"}):
        return response
    kept = {k: v for k, v in (response.headers or {}).items() if k.lower() in _KEPT_HEADERS}
    answer = framework_problem(response.status_code, kept)
    if str(getattr(request, "path", "")).startswith("/fhir/"):
        from .fhir import as_operation_outcome

        return as_operation_outcome(answer)
    return answer
