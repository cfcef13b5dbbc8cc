"""The waitlist: entries; freed slots offered to the first eligible entry, one offer at a time, holding
the slot until the offer expires; acceptance books through the booking service.

Off the request path: a cancel, decline, reschedule away or no-show only records the freed slot
(`freed`); the scheduled job (`run`) expires offers and turns freed slots into offers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ..domain.access import Caller, require_patient_access
from ..domain.availability import slot_fits_rules
from ..domain.care import PatientWhereabouts
from ..domain.errors import DomainError, FieldError, InvalidTransition, NotFound, ValidationFailed
from ..domain.model import Appointment, Interval, Modality
from ..domain.ports import AuditTrail, BusyBlocks, Clock, DirectoryReader, IdFactory, WaitlistStore
from ..domain.rulebook import RuleBook
from ..domain.tenant_policy import TenantSettings
from ..domain.waitlist import (
    BOOKED,
    CANCELLED,
    OFFERED,
    WAITING,
    FreedSlot,
    HeldSlot,
    Offer,
    WaitlistEntry,
    may_match,
)
from . import messages
from .booking import BookingRequest
from .care_gate import CareGate


@dataclass(frozen=True)
class WaitlistRequest:
    """A patient asks for an earlier visit of `service` in `window`, in one of `modalities`."""

    patient_id: str
    service: str
    modalities: tuple[Modality, ...]
    window: Interval
    patient_jurisdiction: str | None = None
    clinician_id: str | None = None


class OfferExpired(DomainError):
    code = "OFFER_EXPIRED"
    status = 409
    title = "The offer has expired"


class WaitlistService:
    def __init__(self, repo: WaitlistStore, directory: DirectoryReader, appointments: BusyBlocks, booking: Any,
                 gate: CareGate,
                 rules: Callable[[], RuleBook], settings_of: Callable[[str], TenantSettings], clock: Clock,
                 new_id: IdFactory, audit: AuditTrail, sender: Callable[[], Any]) -> None:
        self.repo = repo
        self.directory = directory
        self.appointments = appointments
        self.booking = booking
        self.gate = gate
        self.rules = rules
        self.settings_of = settings_of
        self.clock = clock
        self.new_id = new_id
        self.audit = audit
        self.sender = sender

    # --- requests ----------------------------------------------------------------------------
    def create(self, caller: Caller, body: WaitlistRequest) -> WaitlistEntry:
        require_patient_access(caller, body.patient_id)
        patient = self.directory.get_patient(caller.tenant_id, body.patient_id)
        if patient is None:
            raise NotFound("No such patient.")
        self.rules().require_service(body.service)
        if body.clinician_id and self.directory.get_clinician(caller.tenant_id, body.clinician_id) is None:
            raise NotFound("No such clinician.")
        now = self.clock()
        if body.window.end <= now:
            raise ValidationFailed("The window is over", errors=[FieldError("window.to", "must be in the future")])
        entry = WaitlistEntry(caller.tenant_id, self.new_id("wl"), body.patient_id, body.service,
                              tuple(body.modalities), body.patient_jurisdiction or patient.home_jurisdiction,
                              body.window.start, body.window.end, body.clinician_id, WAITING, now)
        saved = self.repo.add(entry)
        self.audit.record(caller, "waitlist.create", f"waitlist/{saved.waitlist_id}", saved.patient_id, "success")
        return saved

    def get(self, caller: Caller, waitlist_id: str) -> WaitlistEntry:
        entry = self._visible(caller, waitlist_id)
        self.audit.record(caller, "waitlist.read", f"waitlist/{waitlist_id}", entry.patient_id, "success")
        return entry

    def accept(self, caller: Caller, waitlist_id: str) -> tuple[WaitlistEntry, Appointment]:
        entry = self._visible(caller, waitlist_id)
        offer = entry.offer
        if entry.status != OFFERED or offer is None:
            raise InvalidTransition(f"The entry is {entry.status}; there is no offer to accept.",
                                    extra={"current_status": entry.status})
        if offer.expires_at <= self.clock():  # TTL deletes lazily: the expiry is checked here
            raise OfferExpired("The offer has expired; the slot passes to the next entry.")
        held = HeldSlot(offer.hold_id, entry.tenant_id, offer.clinician_id, offer.start, offer.held_until)
        body = BookingRequest(patient_id=entry.patient_id, clinician_id=offer.clinician_id, service=entry.service,
                              start=offer.start, modality=offer.modality, site_id=offer.site_id,
                              patient_jurisdiction=entry.patient_jurisdiction)
        booked = self.booking.book(caller, body, hold=held)
        done = self.repo.settle(entry, replace(entry, status=BOOKED, appointment_id=booked.appointment_id),
                                release=False)
        self.audit.record(caller, "waitlist.accept", f"waitlist/{waitlist_id}", entry.patient_id, "success")
        return done, booked

    def decline(self, caller: Caller, waitlist_id: str) -> WaitlistEntry:
        """Let the offer go: the slot passes to the next entry; this entry keeps waiting for another."""
        entry = self._visible(caller, waitlist_id)
        if entry.status != OFFERED or entry.offer is None:
            raise InvalidTransition(f"The entry is {entry.status}; there is no offer to decline.",
                                    extra={"current_status": entry.status})
        done = self._pass_on(entry)
        self.audit.record(caller, "waitlist.decline", f"waitlist/{waitlist_id}", entry.patient_id, "success")
        return done

    def cancel(self, caller: Caller, waitlist_id: str) -> WaitlistEntry:
        entry = self._visible(caller, waitlist_id)
        if entry.status not in (WAITING, OFFERED):
            raise InvalidTransition(f"The entry is {entry.status}.", extra={"current_status": entry.status})
        if entry.status == OFFERED:
            entry = self._pass_on(entry)
        done = self.repo.save(entry, replace(entry, status=CANCELLED))
        self.audit.record(caller, "waitlist.cancel", f"waitlist/{waitlist_id}", entry.patient_id, "success")
        return done

    def _visible(self, caller: Caller, waitlist_id: str) -> WaitlistEntry:
        entry = self.repo.get(caller.tenant_id, waitlist_id)
        mine = entry is not None and caller.has("patient") and caller.patient_id == entry.patient_id
        if entry is None or not (caller.tenant_wide or mine):
            raise NotFound("No such waitlist entry.")
        return entry

    # --- told by booking after commit --------------------------------------------------------
    def on_change(self, change: str, before: Appointment | None, after: Appointment) -> None:
        if change in ("cancelled", "no_show") or (change == "rescheduled" and before is not None
                                                    and before.start != after.start):
            self.freed(before or after, after.updated_at)

    def freed(self, visit: Appointment, at: datetime | None = None) -> None:
        """`at`: when the change that freed the slot committed (the stream's after image): a redelivered
        change names the same freed slot, enqueued once."""
        now = self.clock()
        if visit.start <= now:
            return
        self.repo.add_freed(FreedSlot(visit.tenant_id, visit.clinician_id, visit.start, visit.end, visit.modality,
                                      visit.site_id, at or now, visit.appointment_id))

    # --- the scheduled job -------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        expired = self.expire_offers()
        offered = 0
        for pointer, slot in self.repo.freed():
            if self.offer_slot(slot):
                offered += 1
            self.repo.drop(pointer)
        return {"expired": expired, "offered": offered}

    def expire_offers(self) -> int:
        count = 0
        for tenant, waitlist_id in self.repo.expired_offers(self.clock()):
            entry = self.repo.get(tenant, waitlist_id)
            if entry is None or entry.status != OFFERED or entry.offer is None:
                continue
            if entry.offer.expires_at > self.clock():
                continue
            try:
                self._pass_on(entry)
            except DomainError:
                continue  # accepted or declined meanwhile
            count += 1
        return count

    def _pass_on(self, entry: WaitlistEntry) -> WaitlistEntry:
        offer = entry.offer
        assert offer is not None
        back = replace(entry, status=WAITING, offer=None, passed=(*entry.passed, offer.slot_key))
        done = self.repo.settle(entry, back, release=True)
        # The slot goes to the next entry (the job picks it up): this one will not see it again.
        self.repo.add_freed(FreedSlot(entry.tenant_id, offer.clinician_id, offer.start, offer.end, offer.modality,
                                      offer.site_id, self.clock(), entry.waitlist_id))
        return done

    def offer_slot(self, slot: FreedSlot) -> bool:
        now = self.clock()
        clinician = self.directory.get_clinician(slot.tenant_id, slot.clinician_id)
        if clinician is None or slot.start <= now:
            return False
        policy = self.settings_of(slot.tenant_id).reminders
        for entry in self.repo.waiting(slot.tenant_id):
            service = self.rules().service(entry.service)
            if service is None or clinician.discipline not in service.disciplines:
                continue
            duration = timedelta(minutes=service.duration_minutes)
            if not may_match(entry, slot, duration, now):
                continue
            offer = self._lawful_offer(entry, slot, clinician, service, duration, policy.offer_hold_minutes)
            if offer is None:
                continue
            new = replace(entry, status=OFFERED, offer=offer)
            if self.repo.offer(entry, new, int(offer.expires_at.timestamp())):
                self._notify(new)
                return True
            reread = self.repo.get(entry.tenant_id, entry.waitlist_id)
            if reread is not None and reread.version == entry.version:
                return False  # the entry was unchanged, so the slot itself is taken or held: nothing to offer
        return False

    def _lawful_offer(self, entry: WaitlistEntry, slot: FreedSlot, clinician: Any, service: Any,
                      duration: timedelta, hold_minutes: int) -> Offer | None:
        from ..domain.waitlist import candidate_modalities

        patient = self.directory.get_patient(entry.tenant_id, entry.patient_id)
        if patient is None:
            return None
        end = slot.start + duration
        if self.appointments.patient_blocks(entry.tenant_id, entry.patient_id, Interval(slot.start, end)) & \
                _blocks(slot.start, end):
            return None
        sites = {s: x for s in clinician.site_ids if (x := self.directory.get_site(entry.tenant_id, s)) is not None}
        for modality in candidate_modalities(entry, slot):
            if modality not in service.modalities or modality not in clinician.modalities:
                continue
            if modality.value == "video" and not patient.video_capable:
                continue
            site_id = slot.site_id if modality.value == "in_person" else None
            if not slot_fits_rules(clinician, sites, Interval(slot.start, end), modality, site_id):
                continue
            site = sites.get(site_id) if site_id else None
            place = self.gate.place(modality, site, PatientWhereabouts(patient.home_jurisdiction,
                                                                       entry.patient_jurisdiction), clinician)
            decided = self.gate.decide(entry.tenant_id, clinician, modality, slot.start, place, service=service.code)
            if not decided.decision.allowed:
                continue
            buffer = timedelta(minutes=clinician.availability.buffer_minutes)
            return Offer(slot.start, end, clinician.clinician_id, modality, site_id,
                         self.clock() + timedelta(minutes=hold_minutes), self.new_id("hold"), end + buffer, slot.key)
        return None

    def _notify(self, entry: WaitlistEntry) -> None:
        """The offer goes out the way reminders do (SMS, email); a failed send leaves the offer standing."""
        offer = entry.offer
        patient = self.directory.get_patient(entry.tenant_id, entry.patient_id)
        if offer is None or patient is None:
            return
        language = messages.language_of(patient.preferred_language)
        site = self.directory.get_site(entry.tenant_id, offer.site_id) if offer.site_id else None
        zone = site.timezone if site else (self.directory.get_clinician(entry.tenant_id, offer.clinician_id).timezone)
        values = {"time": messages.local_time(offer.start, zone, language),
                  "place": messages.place_of(offer.modality.value, site.name if site else None, language),
                  "expires": messages.local_time(offer.expires_at, zone, language)}
        messages.notify(self.sender(), patient, self.settings_of(entry.tenant_id).reminders.channels, "offer",
                        language, values)


def _blocks(start: Any, end: Any) -> frozenset[Any]:
    from ..domain.timeblocks import blocks_covering

    return frozenset(blocks_covering(start, end))


