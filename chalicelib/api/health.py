from __future__ import annotations

from chalice import Blueprint, Response

from .endpoint import Call, endpoint, ok

health = Blueprint(__name__)


@endpoint(health, "GET", "/v1/health", response="HealthOut", summary="Liveness check (no authentication)")
def health_check(call: Call) -> Response:
    return ok({"status": "ok"})
