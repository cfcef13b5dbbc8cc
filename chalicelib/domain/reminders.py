"""When appointment reminders go out: pure rules, time passed in.

A whole-day offset (1440, 2880 minutes) means "the same wall-clock time N days before" in the
patient's zone, so a reminder the day after a DST change still comes at the visit's local time
(23 or 25 real hours before); shorter offsets are real minutes. A time inside quiet hours moves
earlier, to the last quarter-hour before quiet hours begin; if that is already past, it moves to
the end of quiet hours when that is still before the visit, else it is dropped. None is in the past.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .tenant_policy import ReminderPolicy

STATUSES = ("scheduled", "sent", "cancelled", "failed")
DAY_MINUTES = 1440
# A reminder later than this before the visit is pointless (the patient is on their way).
MIN_LEAD = timedelta(minutes=10)


@dataclass(frozen=True)
class Reminder:
    tenant_id: str
    appointment_id: str
    reminder_id: str
    channel: str  # sms | email
    send_at: datetime
    status: str
    visit_start: datetime
    offset_minutes: int
    sent_at: datetime | None = None
    message_id: str | None = None
    failure: str | None = None  # a code, never the provider's text (it can echo the phone number)


def reminder_id(appointment_id: str, visit_start: datetime, offset_minutes: int, channel: str) -> str:
    """Stable per (visit time, offset, channel): planning the same visit twice writes the same reminders."""
    seed = f"{appointment_id}|{visit_start.astimezone(UTC).isoformat()}|{offset_minutes}|{channel}"
    return "rem_" + hashlib.sha256(seed.encode()).hexdigest()[:20]


def _wall(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def in_quiet_hours(moment: datetime, zone: ZoneInfo, policy: ReminderPolicy) -> bool:
    local = moment.astimezone(zone).time()
    start, end = _wall(policy.quiet_start), _wall(policy.quiet_end)
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def _before(start: datetime, offset_minutes: int, zone: ZoneInfo) -> datetime:
    if offset_minutes % DAY_MINUTES == 0:
        local = start.astimezone(zone)
        wall = local.replace(tzinfo=None) - timedelta(days=offset_minutes // DAY_MINUTES)
        return wall.replace(tzinfo=zone).astimezone(UTC)  # a wall time in a DST gap resolves forward
    return (start - timedelta(minutes=offset_minutes)).astimezone(UTC)


def _out_of_quiet(at: datetime, start: datetime, now: datetime, zone: ZoneInfo,
                  policy: ReminderPolicy) -> datetime | None:
    if not in_quiet_hours(at, zone, policy):
        return at
    local = at.astimezone(zone)
    quiet_start, quiet_end = _wall(policy.quiet_start), _wall(policy.quiet_end)
    day = local.date() if local.time() >= quiet_start else local.date() - timedelta(days=1)
    earlier = (datetime.combine(day, quiet_start, tzinfo=zone) - timedelta(minutes=15)).astimezone(UTC)
    if earlier > now and not in_quiet_hours(earlier, zone, policy):
        return earlier
    later = datetime.combine(day + timedelta(days=1) if quiet_start > quiet_end else day, quiet_end,
                             tzinfo=zone).astimezone(UTC)
    return later if now < later <= start - MIN_LEAD else None


def plan_send_times(start: datetime, now: datetime, zone_name: str,
                    policy: ReminderPolicy) -> list[tuple[int, datetime]]:
    """(offset, send time) for each reminder the policy asks for that can still go out; one per moment."""
    zone = ZoneInfo(zone_name)
    planned: dict[datetime, int] = {}
    for offset in sorted(set(policy.offsets_minutes), reverse=True):
        at = _out_of_quiet(_before(start, offset, zone), start, now, zone, policy)
        if at is None or at <= now or at > start - MIN_LEAD:
            continue
        planned.setdefault(at, offset)
    return sorted(((offset, at) for at, offset in planned.items()), key=lambda p: p[1])


def plan(tenant: str, appointment_id: str, start: datetime, now: datetime, zone_name: str,
         policy: ReminderPolicy, channels: tuple[str, ...]) -> list[Reminder]:
    return [Reminder(tenant, appointment_id, reminder_id(appointment_id, start, offset, channel), channel, at,
                     "scheduled", start, offset)
            for offset, at in plan_send_times(start, now, zone_name, policy) for channel in channels]
