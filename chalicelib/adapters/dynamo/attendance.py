"""Meeting events (who joined, left, dropped) and which visit a Chime meeting belongs to.

| pattern                                   | key                                                 | operation |
|-------------------------------------------|-----------------------------------------------------|-----------|
| the visit a meeting belongs to            | pk=CHIME#MTG#{meeting id}, sk=OWNER                 | Get/Put   |
| presence events of a visit, in time order | pk=T#{t}#APPT#{id}, sk begins_with ATT#             | Query     |

Chime's events name only the meeting, so the owner item is keyed by the meeting id (a random
UUID chosen by Chime, no PHI); it holds the tenant and appointment id, and everything read
from it is written back into that tenant's own partition. An event is stored under a key made
of its timestamp, attendee and type: EventBridge delivers at least once, and a repeat lands on
the same key (the version condition refuses the second put).
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, PutError

from ...domain.attendance import PresenceEvent
from . import keys
from .models import DocumentItem

OWNER_SK = "OWNER"
EVENT_PREFIX = "ATT#"


def _owner_pk(meeting_id: str) -> str:
    return f"CHIME#MTG#{meeting_id}"


class AttendanceRepository:
    def remember_meeting(self, meeting_id: str, tenant: str, appointment_id: str) -> None:
        item = DocumentItem(_owner_pk(meeting_id), OWNER_SK, kind="meeting_owner",
                            doc={"tenant": tenant, "appointment_id": appointment_id})
        with suppress(PutError):  # the other participant's join recorded it first: same owner
            item.save()

    def owner_of(self, meeting_id: str) -> tuple[str, str] | None:
        try:
            item = DocumentItem.get(_owner_pk(meeting_id), OWNER_SK)
        except DoesNotExist:
            return None
        doc = item.doc.as_dict() if hasattr(item.doc, "as_dict") else dict(item.doc)
        return str(doc["tenant"]), str(doc["appointment_id"])

    def add(self, tenant: str, appointment_id: str, event: PresenceEvent) -> bool:
        """False when this event was already stored (a redelivery)."""
        millis = int(event.at.timestamp() * 1000)
        sk = f"{EVENT_PREFIX}{millis:013d}#{event.attendee_id or '-'}#{event.kind}"
        item = DocumentItem(keys.appointment_pk(tenant, appointment_id), sk, kind="presence",
                            doc={"at": event.at.isoformat(), "kind": event.kind, "meeting_id": event.meeting_id,
                                 "attendee_id": event.attendee_id, "role": event.role})
        try:
            item.save()
        except PutError:
            return False
        return True

    def events(self, tenant: str, appointment_id: str, limit: int = 1000) -> list[PresenceEvent]:
        found = DocumentItem.query(keys.appointment_pk(tenant, appointment_id),
                                   DocumentItem.sk.startswith(EVENT_PREFIX), limit=limit)
        result = []
        for item in found:
            doc = item.doc.as_dict() if hasattr(item.doc, "as_dict") else dict(item.doc)
            result.append(PresenceEvent(at=datetime.fromisoformat(doc["at"]).astimezone(UTC), kind=doc["kind"],
                                        meeting_id=doc["meeting_id"], attendee_id=doc.get("attendee_id"),
                                        role=doc.get("role")))
        return result
