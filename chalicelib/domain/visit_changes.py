"""What changed about a visit, told from its stored versions before and after (the table stream's images).

The stream consumer (services/visit_followers.py) names each committed change of an appointment item
and hands it to the visit's followers: reminders, confirmations and no-show tallies, the waitlist and
eligibility. An eligibility result landing on the visit is a change of its own kind ("eligibility"),
which nobody follows: otherwise each landed result would start the followers (and eligibility) again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from zoneinfo import ZoneInfo

from .eligibility_hook import HISTORY_ACTION as ELIGIBILITY_ACTION
from .model import Appointment, Status

BOOKED = "booked"
RESCHEDULED = "rescheduled"  # the start moved (with or without another modality or site)
MODALITY = "modality"        # same start, another modality or site
CANCELLED = "cancelled"
NO_SHOW = "no_show"
ELIGIBILITY = "eligibility"  # only the eligibility status and its history event: followed by nobody
UPDATED = "updated"          # anything else (check-in, a location confirmed, licensure re-decided, video)

# Statuses whose arrival is a change of that name; other status moves (checked_in, ...) are "updated"
# unless the status itself names one (completed, in_progress).
_BY_STATUS = {Status.CANCELLED: CANCELLED, Status.NO_SHOW: NO_SHOW}


def visit_change(before: Appointment | None, after: Appointment | None) -> str | None:
    """The name of a committed change; None when there is nothing after it (the item was removed)."""
    if after is None:
        return None
    if before is None:
        return BOOKED if after.status is Status.BOOKED else UPDATED
    if before.status is not after.status:
        return _BY_STATUS.get(after.status, after.status.value)
    if before.start != after.start:
        return RESCHEDULED
    if before.modality is not after.modality or before.site_id != after.site_id:
        return MODALITY
    if _without_eligibility(before) == _without_eligibility(after):
        return ELIGIBILITY
    return UPDATED


def _without_eligibility(a: Appointment) -> Appointment:
    return replace(a, eligibility_status="", version=0,
                   history=tuple(e for e in a.history if e.get("action") != ELIGIBILITY_ACTION))


def checked_for_version(history: tuple[Mapping[str, str], ...]) -> int:
    """The highest visit version an eligibility result was landed for (0: none yet)."""
    versions = [e.get("for_version", "") for e in history if e.get("action") == ELIGIBILITY_ACTION]
    return max((int(v) for v in versions if v.isdigit()), default=0)


def same_eligibility_facts(a: Appointment, b: Appointment) -> bool:
    """A check asked for `a` answers for `b` too: same patient, service, clinician, modality and day."""
    return (a.patient_id, a.service, a.clinician_id, a.modality, local_day(a)) == \
        (b.patient_id, b.service, b.clinician_id, b.modality, local_day(b))


def local_day(a: Appointment) -> date:
    """The date of service: the visit's date where care happens, not the UTC date."""
    return a.start.astimezone(ZoneInfo(a.timezone)).date()
