"""RFC 9457 problem details for every error, and the decorator that maps errors to them."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from chalice import Response

from ..domain.errors import DomainError, FieldError
from ..observability import logger

PROBLEM_TYPE_BASE = "https://hybrid-care.example/problems/"
PROBLEM_JSON = "application/problem+json"


def problem(status: int, code: str, title: str, detail: str, errors: list[FieldError] | None = None,
            extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code.lower().replace("_", "-"),
        "title": title, "status": status, "code": code, "detail": detail,
        "errors": [{"field": e.field, "message": e.message} for e in errors or []],
    }
    body.update(extra or {})
    return Response(body=json.dumps(body), status_code=status,
                    headers={"Content-Type": PROBLEM_JSON, **(headers or {})})


# The refusals of the framework itself (Chalice before a view runs, the local dev server): fixed words,
# never the method, path, header or body the client sent.
FRAMEWORK_PROBLEMS: dict[int, tuple[str, str, str]] = {
    400: ("VALIDATION_ERROR", "Bad request", "The request was refused."),
    401: ("UNAUTHENTICATED", "Authentication required", "The request was refused."),
    404: ("NOT_FOUND", "Not found", "No such route."),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed", "This route does not take that method."),
    413: ("PAYLOAD_TOO_LARGE", "Request body too large", "The request was refused."),
    414: ("URI_TOO_LONG", "Request URI too long", "The request was refused."),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type", "The Content-Type is not one this route accepts."),
    431: ("HEADERS_TOO_LARGE", "Request headers too large", "The request was refused."),
    500: ("INTERNAL_ERROR", "Internal error", "The request could not be completed."),
}


def framework_problem(status: int, headers: dict[str, str] | None = None) -> Response:
    code, title, detail = FRAMEWORK_PROBLEMS.get(status, ("REQUEST_REFUSED", "Request refused",
                                                          "The request was refused."))
    return problem(status, code, title, detail, headers=headers)


def from_domain_error(exc: DomainError) -> Response:
    return problem(exc.status, exc.code, exc.title, exc.detail, exc.errors, exc.extra, exc.headers)


def from_validation_error(exc: Any) -> Response:
    """A pydantic ValidationError: one entry per bad field, with the field's path; input values never echoed."""
    errors = [FieldError(_path(e["loc"]) or "body", _message(e)) for e in exc.errors(include_input=False)]
    return problem(400, "VALIDATION_ERROR", "The request is not valid",
                   "Invalid fields: " + ", ".join(sorted({e.field for e in errors})), errors)


def _path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif part in ("function-after", "function-before") or str(part).startswith(("function-", "constrained-")):
            continue
        elif isinstance(part, str) and ("[" in part or part in ("list", "int", "str")):
            continue  # union branch names such as 'list[constrained-str]' are not fields
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


def _message(error: dict[str, Any]) -> str:
    msg = str(error.get("msg", "is not valid"))
    return msg.removeprefix("Value error, ")


def problem_responses(view: Callable[..., Response]) -> Callable[..., Response]:
    """Chalice middleware never sees exceptions raised in views, so each view maps its own."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        from pydantic import ValidationError

        try:
            return view(*args, **kwargs)
        except DomainError as exc:
            return from_domain_error(exc)
        except ValidationError as exc:
            return from_validation_error(exc)
        except Exception:
            # The exception text may hold PHI from a request; log its type and trace only.
            logger.exception("unhandled error in view", extra={"view": view.__name__})
            return problem(500, "INTERNAL_ERROR", "Internal error",
                           "The request could not be completed; it is safe to retry with the same Idempotency-Key.")

    return wrapper
