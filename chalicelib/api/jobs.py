"""Work outside a request: scheduled functions. `make run` drives the same handlers on a local clock."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate

from ..bootstrap import get_services

jobs = Blueprint(__name__)


@jobs.schedule(Rate(5, unit=Rate.MINUTES), name="escalations-overdue")
def escalations_overdue(event: Any) -> dict[str, Any]:
    """Escalations nobody acknowledged within the policy's bound are published again, once each."""
    reported = get_services().routing.report_overdue()
    return {"reported": len(reported)}
