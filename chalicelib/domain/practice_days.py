"""Days of temporary practice (PSYPACT TAP: 30 distinct days a calendar year in a remote state).

A visit resting on a day-limited privilege occupies its local date in a ledger per clinician,
privilege, jurisdiction and year. A second visit on a day already counted costs nothing; a
cancelled visit gives its day back once no other visit uses it. The storage adapter writes the
ledger in the same transaction as the visit, conditioned on the counts it read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from .model import Appointment, Status

# Visits whose day still counts: the practice happened or is planned (a no-show's day was kept free
# for the patient, so it counts as well). Only a cancellation gives the day back.
COUNTED = frozenset({Status.BOOKED, Status.CHECKED_IN, Status.IN_PROGRESS, Status.COMPLETED, Status.NO_SHOW})


@dataclass(frozen=True)
class PracticeDay:
    ledger: str  # "PSYPACT#TAP#US-NJ"
    day: date
    limit: int

    @property
    def year(self) -> int:
        return self.day.year


def practice_day(appointment: Appointment | None) -> PracticeDay | None:
    """The ledger day a visit occupies, or None (not day-limited, or cancelled)."""
    if appointment is None or appointment.status not in COUNTED:
        return None
    record = appointment.licensure
    if record is None or record.temporary_practice is None or record.temporary_practice_limit is None:
        return None
    local = appointment.start.astimezone(ZoneInfo(record.zone)).date()
    return PracticeDay(record.temporary_practice, local, record.temporary_practice_limit)


def days_used_before(counted: frozenset[date], day: date) -> int:
    """Days already used this year, not counting `day` itself (a second visit that day is free)."""
    return len(counted - {day})
