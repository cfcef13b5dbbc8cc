"""The waitlist: entries, the slots that free up, and offers that hold a slot until they expire.

An entry gets one offer at a time. An offer holds the clinician's blocks for the visit (blocks of the
clinician's busy-week items owned by `hold_id` until the offer expires), so nobody else can book them;
accepting passes the held blocks to the booking in the same transaction; expiry or a declined offer
frees them and the slot goes to the next entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .model import Modality

WAITING, OFFERED, BOOKED, CANCELLED = "waiting", "offered", "booked", "cancelled"


@dataclass(frozen=True)
class HeldSlot:
    """The clinician blocks an offer holds (start up to held_until), owned by `hold_id`: a booking that
    accepts the offer takes them over in its own write (AppointmentStore.book)."""

    hold_id: str
    tenant_id: str
    clinician_id: str
    start: datetime
    held_until: datetime


@dataclass(frozen=True)
class FreedSlot:
    tenant_id: str
    clinician_id: str
    start: datetime
    end: datetime
    modality: Modality
    site_id: str | None
    freed_at: datetime
    source: str  # the appointment whose change freed it (an id, no PHI)

    @property
    def key(self) -> str:
        return f"{self.clinician_id}@{self.start.isoformat()}"


@dataclass(frozen=True)
class Offer:
    start: datetime
    end: datetime
    clinician_id: str
    modality: Modality
    site_id: str | None
    expires_at: datetime
    hold_id: str
    held_until: datetime  # end of the held blocks (visit end + the clinician's buffer)
    slot_key: str


@dataclass(frozen=True)
class WaitlistEntry:
    tenant_id: str
    waitlist_id: str
    patient_id: str
    service: str
    modalities: tuple[Modality, ...]
    patient_jurisdiction: str
    window_from: datetime
    window_to: datetime
    clinician_id: str | None
    status: str
    created_at: datetime
    offer: Offer | None = None
    appointment_id: str | None = None
    passed: tuple[str, ...] = ()  # slots offered to this entry and let go: never offered to it again
    version: int = 0


def candidate_modalities(entry: WaitlistEntry, slot: FreedSlot) -> list[Modality]:
    """Modalities the entry accepts that the freed slot could carry: in person only at the freed site."""
    found = []
    for modality in entry.modalities:
        if modality is Modality.IN_PERSON and (slot.modality is not Modality.IN_PERSON or not slot.site_id):
            continue
        found.append(modality)
    return found


def may_match(entry: WaitlistEntry, slot: FreedSlot, duration: timedelta, now: datetime) -> bool:
    """The cheap checks; availability rules, licensure and the patient's own calendar come after."""
    return (entry.status == WAITING and entry.tenant_id == slot.tenant_id
            and entry.clinician_id in (None, slot.clinician_id)
            and slot.start > now
            and entry.window_from <= slot.start and slot.start + duration <= entry.window_to
            and slot.key not in entry.passed
            and bool(candidate_modalities(entry, slot)))
