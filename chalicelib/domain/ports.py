"""What the services need from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from .access import Caller
from .attendance import PresenceEvent
from .audit_chain import ChainReport
from .audit_entry import AuditEntry
from .availability import BusyTime, SearchInputs
from .deadline import Deadline
from .escalation import Escalation
from .keyed_reads import KeyedRead
from .model import Appointment, Clinician, Interval, Patient, Site
from .records import BookingRecords, RecordVersion
from .reminders import Reminder
from .screening import ScreeningResult
from .tenant_policy import TenantSettings
from .video_rooms import AttendeeInfo, MeetingInfo
from .waitlist import FreedSlot, HeldSlot, WaitlistEntry

Clock = Callable[[], datetime]
IdFactory = Callable[[str], str]
# A store's page position: opaque to the services, which seal it into a cursor (services/paging.py).
PageKey = dict[str, Any]
Keep = Callable[[Appointment], bool]


def payer_log(payer_id: str) -> str:
    """The audit log of a payer. '@' and ':' are outside the tenant id charset: no tenant can own this log."""
    return f"@payer:{payer_id}"


def audit_log_of(caller: Caller) -> str:
    """Whose log an action goes to: the payer's own for a payer token, never the log its tenant claim names."""
    if caller.has("payer") and caller.payer_id and not caller.has("admin", "scheduler", "clinician", "patient"):
        return payer_log(caller.payer_id)
    return caller.tenant_id


class AuditTrail(Protocol):
    def record(self, caller: Caller, action: str, resource: str, patient_id: str | None, outcome: str, *,
               log: str | None = None, extra: dict[str, str | None] | None = None) -> None:
        """Append one entry to `log` (default: audit_log_of(caller)); never raises for the caller's request
        to fail silently."""

    def record_many(self, caller: Caller, action: str, targets: Sequence[tuple[str, str | None]], outcome: str, *,
                    log: str | None = None) -> None:
        """One entry per (resource, patient id) of a list page, written together (one BatchWriteItem)."""

class AuditLog(AuditTrail, Protocol):
    """The audit trail as its readers see it (services/audit.py)."""

    def entries(self, tenant: str, window: Interval, patient_id: str | None, limit: int,
                cursor: PageKey | None) -> tuple[list[dict[str, Any]], PageKey | None]: ...
    def verify(self, tenant: str, max_wait_seconds: int) -> ChainReport:
        """The chain checked, entries still waiting counted; fails when one waited past the bound."""
        ...
    def chain(self, tenant: str, keys: Sequence[tuple[str, str]]) -> int:
        """Link the entries at these table keys into the tenant's chain (the stream consumer); idempotent."""
        ...


class KeyedReads(Protocol):
    """Reads of several stores (each a KeyedRead, domain/keyed_reads.py) done together."""

    def read_all(self, *reads: KeyedRead[Any]) -> list[Any]:
        """Each read's answer, in order. The items of all of them are fetched together and consistently:
        one BatchGetItem per 100 keys on DynamoDB, none when no read has a key."""
        ...


# --- appointments ------------------------------------------------------------------------------
class PracticeDayCounts(Protocol):
    def practice_day_counts(self, tenant: str, clinician_id: str, ledger: str, year: int) -> dict[date, int]:
        """Visits per counted day in a temporary-practice ledger for one year, read consistently."""
        ...


class BusyBlocks(Protocol):
    """The time blocks (15 minutes) held in a window, widened by a day so buffers reaching into it count."""

    def clinician_blocks(self, tenant: str, clinician_id: str, window: Interval) -> frozenset[datetime]: ...
    def patient_blocks(self, tenant: str, patient_id: str, window: Interval) -> frozenset[datetime]: ...
    def rooms_taken(self, tenant: str, site_id: str, window: Interval) -> dict[datetime, frozenset[str]]: ...
    def rooms_taken_read(self, tenant: str, site_id: str, window: Interval,
                         ) -> KeyedRead[dict[datetime, frozenset[str]]]:
        """rooms_taken as a KeyedRead, to be read together with other stores' reads (KeyedReads)."""
        ...
    def busy_time(self, tenant: str, window: Interval, *, clinician_ids: Sequence[str] = (),
                  site_ids: Sequence[str] = (), patient_id: str | None = None) -> BusyTime:
        """All of the above for many clinicians and sites and one patient at once (one batched read)."""
        ...


class SearchSession(Protocol):
    def read(self, window: Interval) -> SearchInputs:
        """The search's reads for `window` (widened by a day); what an earlier window of this search read
        already is not read again."""
        ...


class SearchReader(Protocol):
    def open_search(self, tenant: str, *, patient_id: str | None = None, clinician_id: str | None = None,
                    wanted: Callable[[Clinician], bool] = lambda c: True,
                    also: Sequence[KeyedRead[Any]] = ()) -> SearchSession:
        """An availability search's reads, window by window: the directory, the patient, and the busy time of
        the `wanted` clinicians, their sites' rooms and the patient's own blocks. `also`: other stores' keyed
        reads, answered with the first window's read (one round trip, e.g. the tenant's settings)."""
        ...

    def read_for_search(self, tenant: str, window: Interval, *, patient_id: str | None = None,
                        clinician_id: str | None = None,
                        wanted: Callable[[Clinician], bool] = lambda c: True) -> SearchInputs:
        """open_search(...).read(window): one window at once."""
        ...


class PatientHistory(Protocol):
    def list_for_patient(self, tenant: str, patient_id: str, window: Interval, limit: int,
                         cursor: PageKey | None, keep: Keep = ...) -> tuple[list[Appointment], PageKey | None]:
        """A patient's visits starting in `window`, in start order; only those `keep` admits (the page
        position then rests on an item the caller may see)."""
        ...


class AppointmentReader(PatientHistory, BusyBlocks, Protocol):
    def get(self, tenant: str, appointment_id: str) -> Appointment | None: ...
    def list_for_clinician(self, tenant: str, clinician_id: str, window: Interval, limit: int,
                           cursor: PageKey | None, keep: Keep = ...) -> tuple[list[Appointment], PageKey | None]: ...
    def needing_review(self, tenant: str, limit: int, after: str | None) -> tuple[list[str], str | None]:
        """Ids of active visits flagged for licensure review, in start order, and the position after them."""
        ...


class AppointmentStore(AppointmentReader, PracticeDayCounts, Protocol):
    """Appointments with the locks that make double booking impossible (adapters/dynamo/appointments.py).

    Every write is all or nothing. `book` refuses with SlotTaken / PatientBusy / RoomUnavailable when a
    block it needs is held by another visit, and with PracticeDaysChanged when the ledger moved since it
    was read; the other writes refuse with Conflict when the stored version is not `old.version`.
    Each returns the visit as stored, with its new version.

    `audit`: the change's audit entry, written in the same all-or-nothing write (a refused write leaves
    no entry, a committed one exactly one). `fresh`: directory records the change was decided on that
    must still be at these versions when it commits (StaleRecords otherwise; domain/records.py).
    """

    def book(self, appointment: Appointment, hold: HeldSlot | None = None, *,
             audit: AuditEntry | None = None, fresh: Sequence[RecordVersion] = ()) -> Appointment: ...
    def replace_visit(self, old: Appointment, new: Appointment, token: str, *,
                      audit: AuditEntry | None = None, fresh: Sequence[RecordVersion] = ()) -> Appointment:
        """Reschedule or switch: the new blocks held and the old released in one write."""
        ...
    def update(self, old: Appointment, new: Appointment, token: str, *, release_locks: bool,
               audit: AuditEntry | None = None, fresh: Sequence[RecordVersion] = ()) -> Appointment:
        """A status change; `release_locks` frees the visit's blocks in the same write (cancel, no-show)."""
        ...
    def save(self, old: Appointment, new: Appointment, token: str, *,
             audit: AuditEntry | None = None, fresh: Sequence[RecordVersion] = ()) -> Appointment: ...


# --- directory ---------------------------------------------------------------------------------
class SiteReader(Protocol):
    def get_site(self, tenant: str, site_id: str) -> Site | None: ...


class PatientReader(Protocol):
    def get_patient(self, tenant: str, patient_id: str) -> Patient | None: ...


class DirectoryReader(SiteReader, PatientReader, Protocol):
    def get_clinician(self, tenant: str, clinician_id: str) -> Clinician | None: ...
    def list_clinicians(self, tenant: str) -> list[Clinician]: ...
    def list_sites(self, tenant: str) -> list[Site]: ...


class BookingDirectory(DirectoryReader, Protocol):
    def booking_records(self, tenant: str, patient_id: str, clinician_id: str,
                        site_ids: Sequence[str] = (), *, with_screening: bool = False) -> BookingRecords:
        """The patient, the clinician, the sites named and the clinician's own sites: from this process's cache
        where it has them (their versions in `fresh`, for the write to check), the rest in one batched read.
        `with_screening`: the patient is read afresh together with their latest screening (`screenings`), in
        one read of the patient's own records; never from the cache, so not in `fresh`."""
        ...
    def forget(self, stale: Sequence[RecordVersion]) -> None:
        """Drop these records from the cache (a write found them stale)."""
        ...


class Directory(BookingDirectory, Protocol):
    """Sites, clinicians and patients of a tenant. `add_*` refuse an id that exists; `save_*` are optimistic
    (Conflict when someone saved since the record was read) and return the record with its new version;
    `page_*` refuse (ValidationFailed, field "cursor") a page position that is not one of this tenant's."""

    def add_site(self, site: Site) -> None: ...
    def save_site(self, site: Site) -> Site: ...
    def page_sites(self, tenant: str, limit: int, cursor: PageKey | None) -> tuple[list[Site], PageKey | None]: ...
    def add_clinician(self, clinician: Clinician) -> None: ...
    def save_clinician(self, clinician: Clinician) -> Clinician: ...
    def page_clinicians(self, tenant: str, limit: int, cursor: PageKey | None
                        ) -> tuple[list[Clinician], PageKey | None]: ...
    def add_patient(self, patient: Patient) -> None: ...
    def save_patient(self, patient: Patient) -> Patient: ...


class TenantSettingsStore(Protocol):
    def get(self, tenant: str) -> TenantSettings:
        """The tenant's settings, the defaults when none were saved."""
        ...
    def settings_read(self, tenant: str) -> KeyedRead[TenantSettings]:
        """`get` as a KeyedRead (a booking reads the settings with its other keyed reads)."""
        ...
    def save(self, settings: TenantSettings) -> TenantSettings:
        """Optimistic on `settings.version`; returns them with the new version."""
        ...


# --- video -------------------------------------------------------------------------------------
class VideoRooms(Protocol):
    """Meetings of one control region (adapters/chime.py). Every call answers within `deadline` or raises
    VideoUnavailable; ChimeRequestRejected and MeetingNotFound (domain/video_rooms.py) as their names say."""

    def find_or_create_meeting(self, appointment_token: str, generation: int, external_meeting_id: str,
                               media_region: str, *, deadline: Deadline | None = None) -> MeetingInfo: ...
    def get_meeting(self, meeting_id: str, *, deadline: Deadline | None = None) -> MeetingInfo | None: ...
    def add_attendee(self, meeting_id: str, external_user_id: str, profile: str = ..., *,
                     deadline: Deadline | None = None) -> AttendeeInfo: ...
    def admit(self, meeting_id: str, attendee_id: str, *, deadline: Deadline | None = None) -> None: ...
    def end_meeting(self, meeting_id: str, *, deadline: Deadline | None = None) -> bool: ...


class VideoRoomsByRegion(Protocol):
    """The rooms of a control region (None = where new meetings are made)."""

    default_region: str

    def __call__(self, control_region: str | None = None) -> VideoRooms: ...


# Where a meeting's media is hosted, for the stack's region and the patient's jurisdiction.
MediaRegionChooser = Callable[[str, str | None], str]


class AttendanceStore(Protocol):
    """Chime's presence events per visit, each stored once; the meeting -> visit owner map."""

    def remember_meeting(self, meeting_id: str, tenant: str, appointment_id: str) -> None: ...
    def owner_of(self, meeting_id: str) -> tuple[str, str] | None: ...
    def add(self, tenant: str, appointment_id: str, event: PresenceEvent) -> bool:
        """False when this event was stored before (events arrive at least once)."""
        ...
    def events(self, tenant: str, appointment_id: str, limit: int = 1000) -> list[PresenceEvent]: ...


# --- reminders, confirmations, no-shows, waitlist -----------------------------------------------
class SendFailed(Exception):
    """A message could not be handed to SMS or email; `code` names why, without PHI."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Sender(Protocol):
    def sms(self, phone: str, text: str) -> str: ...
    def email(self, to: str, subject: str, body: str) -> str: ...


class ReminderStore(Protocol):
    """Reminders, single-use links, confirmations and no-show tallies (adapters/dynamo/reminders.py)."""

    def for_appointment(self, tenant: str, appointment_id: str) -> list[Reminder]: ...
    def get(self, tenant: str, appointment_id: str, reminder_id: str) -> Reminder | None: ...
    def schedule(self, reminder: Reminder) -> bool: ...
    def finish(self, reminder: Reminder, status: str, expected: str, **changes: Any) -> bool: ...
    def claim(self, reminder: Reminder) -> bool: ...
    def drop_pointer(self, tenant: str, appointment_id: str, reminder_id: str, send_at: datetime) -> None: ...
    def due(self, now: datetime, lookback: timedelta) -> list[tuple[str, str, str, datetime]]: ...
    def issue_link(self, tenant: str, appointment_id: str, nonce: str, action: str, expires_at: datetime) -> None: ...
    def consume_link(self, tenant: str, appointment_id: str, nonce: str, action: str, now: datetime) -> bool: ...
    def confirmation(self, tenant: str, appointment_id: str) -> dict[str, Any] | None: ...
    def set_confirmation(self, tenant: str, appointment_id: str, status: str, at: datetime,
                         required: bool | None = None) -> None: ...
    def count_no_show(self, tenant: str, patient_id: str, appointment_id: str, at: datetime) -> None: ...
    def no_shows(self, tenant: str, patient_id: str) -> tuple[int, str | None]: ...


class WaitlistStore(Protocol):
    """Waitlist entries, their offers (which hold the slot's clinician blocks) and freed slots."""

    def add(self, entry: WaitlistEntry) -> WaitlistEntry: ...
    def get(self, tenant: str, waitlist_id: str) -> WaitlistEntry | None: ...
    def waiting(self, tenant: str, limit: int = 200) -> list[WaitlistEntry]: ...
    def offer(self, old: WaitlistEntry, new: WaitlistEntry, hold_until_epoch: int) -> bool: ...
    def settle(self, old: WaitlistEntry, new: WaitlistEntry, *, release: bool) -> WaitlistEntry: ...
    def release_hold(self, entry: WaitlistEntry) -> None: ...
    def save(self, old: WaitlistEntry, new: WaitlistEntry) -> WaitlistEntry: ...
    def add_freed(self, slot: FreedSlot) -> bool:
        """Enqueue a freed slot once per (source, slot, freed_at); False when it already was."""
        ...
    def freed(self, limit: int = 100) -> list[tuple[Any, FreedSlot]]:
        """Freed slots with an opaque pointer each, to `drop` once handled."""
        ...
    def drop(self, pointer: Any) -> None: ...
    def expired_offers(self, now: datetime, limit: int = 100) -> list[tuple[str, str]]: ...


# --- routing -----------------------------------------------------------------------------------
class EscalationStore(Protocol):
    def add(self, escalation: Escalation) -> Escalation: ...
    def get(self, tenant: str, escalation_id: str) -> Escalation | None: ...
    def list(self, tenant: str, status: str | None, limit: int) -> list[Escalation]: ...
    def save(self, old: Escalation, new: Escalation) -> Escalation: ...
    def open_before(self, moment: datetime, limit: int = 100) -> list[tuple[str, str]]: ...


class ScreeningStore(Protocol):
    def add(self, tenant: str, patient_id: str, result: ScreeningResult) -> None: ...
    def latest(self, tenant: str, patient_id: str, limit: int = 10) -> list[ScreeningResult]: ...


class Events(Protocol):
    """Publishes a domain event (SNS); returns the message id."""

    def publish(self, event_type: str, body: dict[str, Any]) -> str: ...


# --- eligibility ports ---------------------------------------------------------------------------------
# What services/eligibility needs: the payer store (configuration and roster), the check store (checks
# and the answer cache), the X12 connector of a payer, the connector URL policy, the X12 control-number
# counter, and the narrow reads of the directory and the appointments it uses. Implementations:
# adapters/dynamo/payers.py, adapters/payer_http.py, adapters/dynamo/x12_control.py.
# (Imported here, not at the top, so this section stays one block for merging.)
from typing import TYPE_CHECKING, Any  # noqa: E402

if TYPE_CHECKING:
    from .eligibility import EligibilityCheck, Owner, RosterMember
    from .model import Appointment, Clinician, Patient
    from .payer_policy import PayerConfig

class PayerStore(Protocol):
    def get_config(self, payer_id: str) -> PayerConfig | None: ...

    def config_read(self, payer_id: str) -> KeyedRead[None]:
        """The configuration as a KeyedRead whose answer keeps it for get_config (a store that keeps it a while
        in the process; no key when it has it already): a booking reads it with its other keyed reads."""
        ...

    def put_config(self, config: PayerConfig) -> PayerConfig:
        """Saved with the next version (raises Conflict when another write won)."""
        ...

    def get_member(self, payer_id: str, member_id: str) -> RosterMember | None: ...

    def put_member(self, payer_id: str, member: RosterMember) -> bool:
        """True when the member is new."""
        ...


class EligibilityCheckStore(Protocol):
    def get_check(self, owner: Owner, check_id: str) -> EligibilityCheck | None: ...

    def add_check(self, check: EligibilityCheck) -> EligibilityCheck: ...

    def update_check(self, check: EligibilityCheck) -> EligibilityCheck:
        """Raises Conflict when the stored version moved on."""
        ...

    def get_cached(self, owner: Owner, payer_id: str, digest: str, now: datetime) -> dict[str, Any] | None: ...

    def cached_read(self, owner: Owner, payer_id: str, digest: str, now: datetime
                    ) -> KeyedRead[dict[str, Any] | None]:
        """get_cached as a KeyedRead (a booking reads it together with its other keyed reads)."""
        ...

    def put_cached(self, owner: Owner, payer_id: str, digest: str, entry: dict[str, Any],
                   expires_at: datetime) -> None: ...


class PayerConnector(Protocol):
    """One X12 exchange with a payer or clearinghouse: a 270 out, the raw answer back.

    Raises PayerCallFailed (domain/eligibility.py) with a short code; the caller owns the retries."""

    def exchange(self, url: str, x12_270: str, timeout: float) -> str: ...


class ConnectorUrlPolicy(Protocol):
    def vet(self, url: str) -> object:
        """Raises ConnectorUrlNotAllowed (domain/connector_url.py) for a URL a payer may not use."""
        ...


class ControlNumberCounter(Protocol):
    def next(self, sender_qualifier: str, sender_id: str) -> int:
        """The sender's next ISA13/GS06 control number, atomically."""
        ...


Pseudonym = Callable[..., str]  # keyed digest of its parts: members in audit entries, cache keys


class EligibilityDirectory(Protocol):
    """The directory reads eligibility needs."""

    def get_patient(self, tenant: str, patient_id: str) -> Patient | None: ...

    def get_clinician(self, tenant: str, clinician_id: str) -> Clinician | None: ...


class VisitRecords(Protocol):
    """The appointment reads and writes of eligibility after commit (the table stream's consumer)."""

    def get(self, tenant: str, appointment_id: str) -> Appointment | None: ...

    def land_eligibility(self, current: Appointment, status: str, event: dict[str, str]) -> Appointment:
        """Write only the eligibility status and append `event` to the history, under the condition that the
        visit is still at `current.version` (Conflict otherwise, so a concurrent change is never overwritten);
        the version moves on. Returns the visit as stored."""
        ...


class PendingChecks(Protocol):
    """Pending eligibility checks of visits, found by the hour they are due again (no Scan)."""

    def remind(self, tenant: str, check_id: str, at: datetime) -> None:
        """Idempotent: the same check and time is one pointer."""
        ...

    def due(self, now: datetime, lookback: timedelta) -> list[tuple[str, str, datetime]]:
        """(tenant, check id, due at) of pointers due by `now`."""
        ...

    def drop(self, tenant: str, check_id: str, at: datetime) -> None: ...
