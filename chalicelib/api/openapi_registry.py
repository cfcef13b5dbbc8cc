"""What each route promises, recorded by `endpoint(...)` as the routes are declared.

Recording is cheap (a dataclass per route, model classes held by reference): nothing here builds a
JSON schema. `api/openapi.py` turns the registry into the OpenAPI document on its first request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Status codes a route may answer besides its success, with the reason the document gives.
ERROR_REASONS = {
    400: "Malformed JSON, a missing or wrong-typed field or parameter (VALIDATION_ERROR, errors[] names each).",
    401: "Missing, expired, forged or unsigned bearer token (UNAUTHENTICATED).",
    403: "The caller's role may not use this route (FORBIDDEN).",
    404: "No such object, or the caller may not see it (NOT_FOUND).",
    409: "Conflict with the current state (e.g. SLOT_TAKEN, PATIENT_BUSY, INVALID_TRANSITION, "
         "IDEMPOTENCY_KEY_REUSED).",
    413: "The request body exceeds 64 KiB (PAYLOAD_TOO_LARGE).",
    415: "The Content-Type is not one this route accepts (answered by the Chalice/API Gateway layer).",
    422: "Well-formed but refused by a rule (e.g. NOT_LICENSED_IN_JURISDICTION, OUTSIDE_AVAILABILITY).",
    429: "Per-caller rate limit reached (RATE_LIMITED); see Retry-After.",
    503: "A dependency is unavailable; retry later (DEPENDENCY_UNAVAILABLE, VIDEO_UNAVAILABLE).",
}


@dataclass(frozen=True)
class RouteContract:
    method: str
    path: str
    public: bool = False
    summary: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    body: Any = None            # pydantic model of the JSON body (validates the request)
    query: Any = None           # pydantic model of the query string (validates the request)
    response: Any = None        # pydantic model of the success body
    status: int = 200           # success status
    errors: tuple[int, ...] = ()  # route-specific error statuses beyond those derived below
    idempotent: bool = False    # accepts an Idempotency-Key header
    content_types: tuple[str, ...] = ("application/json",)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_params(self) -> list[str]:
        import re

        return re.findall(r"{([^}]+)}", self.path)

    def error_statuses(self) -> list[int]:
        """The route's own errors, plus those that follow from its shape."""
        statuses = set(self.errors)
        if self.body is not None or self.query is not None:
            statuses.add(400)
        if self.body is not None:
            statuses |= {413, 415}
        if self.idempotent:
            statuses |= {400, 409}
        if not self.public:
            statuses |= {401, 403}
        if self.path_params:
            statuses.add(404)
        return sorted(statuses)


ROUTES: dict[str, RouteContract] = {}


def record(contract: RouteContract) -> None:
    """Chalice itself refuses a second view for the same method and path."""
    ROUTES[contract.key] = contract
