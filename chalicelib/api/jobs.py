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


@jobs.schedule(Rate(1, unit=Rate.MINUTES), name="reminders-send")
def reminders_send(event: Any) -> dict[str, Any]:
    """Due reminders (by time bucket) go out by SMS and email, each claimed by a conditional write first."""
    sent = get_services().reminders.send_due()
    return {"sent": sum(1 for s in sent if s.status == "sent"), "failed": sum(1 for s in sent if s.status == "failed")}


@jobs.schedule(Rate(5, unit=Rate.MINUTES), name="confirmations-release")
def confirmations_release(event: Any) -> dict[str, Any]:
    """Visits that required confirmation and got none by their release time are released to the waitlist."""
    return {"released": len(get_services().confirmations.release_unconfirmed())}


@jobs.schedule(Rate(1, unit=Rate.MINUTES), name="waitlist-offers")
def waitlist_offers(event: Any) -> dict[str, Any]:
    """Expired offers pass on; freed slots become offers that hold the slot."""
    return get_services().waitlist.run()


@jobs.schedule(Rate(1, unit=Rate.MINUTES), name="eligibility-pending")
def eligibility_pending(event: Any) -> dict[str, Any]:
    """Pending eligibility checks of visits (payer timeout, 5xx) are asked again once due; a final answer
    lands on the visit. Nobody has to read the check for it to finish."""
    worker = get_services().visit_eligibility
    return worker.finish_pending() if worker is not None else {"asked": 0, "settled": 0}
