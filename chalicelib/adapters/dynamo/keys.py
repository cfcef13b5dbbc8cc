"""Key builders: tenant first in every partition key; ids only, never names or birth dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from ...domain.errors import FieldError, ValidationFailed
from ...domain.timeblocks import block_key


def directory_pk(tenant: str) -> str:
    return f"T#{tenant}#DIR"


def site_sk(site_id: str) -> str:
    return f"SITE#{site_id}"


def clinician_sk(clinician_id: str) -> str:
    return f"CLIN#{clinician_id}"


# Changed in the transaction of every clinician or site write. It sorts before CLIN# and SITE#, so a Query of
# the directory partition reads it first: a write that lands during the Query makes the stamp read stale,
# never the other way round.
def directory_stamp_sk(shard: int) -> str:
    return f"#STAMP#{shard}"


def patient_pk(tenant: str, patient_id: str) -> str:
    return f"T#{tenant}#PAT#{patient_id}"


PROFILE_SK = "PROFILE"
APPOINTMENT_SK = "APPT"
SCREENING_PREFIX = "SCREEN#"
_NEWEST_FIRST = str.maketrans("0123456789", "9876543210")


def screening_sk(at: datetime, instrument: str) -> str:
    """SCREEN#{time, each digit complemented}#{instrument}: newest first in key order, so that the patient's
    latest screening is the item right after PROFILE and one Query (Limit 2) reads both for a booking."""
    return f"{SCREENING_PREFIX}{at.strftime('%Y%m%d%H%M%S%f').translate(_NEWEST_FIRST)}#{instrument}"


def appointment_pk(tenant: str, appointment_id: str) -> str:
    return f"T#{tenant}#APPT#{appointment_id}"


def clinician_pk(tenant: str, clinician_id: str) -> str:
    return f"T#{tenant}#CLIN#{clinician_id}"


def site_pk(tenant: str, site_id: str) -> str:
    return f"T#{tenant}#SITE#{site_id}"


def schedule_sk(start: datetime, appointment_id: str) -> str:
    return f"{block_key(start)}#{appointment_id}"


def week_of(moment: datetime) -> date:
    """The Monday of the UTC ISO week `moment` falls in (UTC: daylight saving never moves a block)."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def week_sk(monday: date) -> str:
    return f"WEEK#{monday:%Y-%m-%d}"


def block_attr(block: datetime, room: str | None = None) -> str:
    """The attribute of a busy-week item that holds one 15-minute block: b{isoweekday}{HHMM}, or for a
    room on the site's item r{isoweekday}{HHMM}#{room}."""
    moment = block.astimezone(UTC)
    position = f"{moment.isoweekday()}{moment:%H%M}"
    return f"r{position}#{room}" if room else f"b{position}"


def parse_block_attr(monday: date, name: str) -> tuple[datetime, str | None] | None:
    """(block start, room) of a busy-week attribute name; None for any other attribute (pk, sk, kind)."""
    if len(name) < 6 or name[0] not in "br" or not name[1:6].isdigit() or not "1" <= name[1] <= "7":
        return None
    room = None
    if name[0] == "r":
        if len(name) < 8 or name[6] != "#":
            return None
        room = name[7:]
    elif len(name) != 6:
        return None
    hour, minute = int(name[2:4]), int(name[4:6])
    if hour > 23 or minute > 59:
        return None
    day = monday + timedelta(days=int(name[1]) - 1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC), room


def payer_pk(payer_id: str) -> str:
    return f"PAYER#{payer_id}"


def require_partition(cursor: Any, attribute: str, partition: str) -> Any:
    """A cursor is a DynamoDB key from an earlier page: it must point into the partition being read.

    A crafted or foreign cursor would otherwise reach DynamoDB as an invalid ExclusiveStartKey.
    """
    if cursor is None:
        return None
    value = cursor.get(attribute) if isinstance(cursor, dict) else None
    if not (isinstance(value, dict) and value.get("S") == partition):
        raise ValidationFailed("cursor is not valid", errors=[FieldError("cursor", "is not a cursor we issued")])
    return cursor


def require_key(cursor: Any, names: tuple[str, ...]) -> Any:
    """A cursor's key has exactly the attributes a page of this query ends on, each a string."""
    if cursor is None:
        return None
    if not (isinstance(cursor, dict) and set(cursor) == set(names)
            and all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in cursor.values())):
        raise ValidationFailed("cursor is not valid", errors=[FieldError("cursor", "is not a cursor we issued")])
    return cursor
