"""Domain entities: plain frozen dataclasses, no I/O, no clock reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum


class Modality(StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"
    PHONE = "phone"

    @property
    def is_telehealth(self) -> bool:
        return self is not Modality.IN_PERSON


class Discipline(StrEnum):
    PSYCHIATRIST = "psychiatrist"
    PSYCHOLOGIST = "psychologist"
    COUNSELOR = "counselor"
    SOCIAL_WORKER = "social_worker"
    PSYCHIATRIC_NP = "psychiatric_np"
    MARRIAGE_FAMILY_THERAPIST = "marriage_family_therapist"


class Status(StrEnum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


# A board's word on a licence, privilege or registration. Only these two grant authority.
GRANTING_STATUSES = frozenset({"active", "probation"})
CREDENTIAL_STATUSES = ("active", "inactive", "suspended", "revoked", "probation")


@dataclass(frozen=True)
class License:
    jurisdiction: str
    type: str
    number: str
    expires_on: date
    # `status` is in force from `effective_from` (None: always); before that date a granting
    # status does not grant yet and a suspension has not begun.
    status: str = "active"
    effective_from: date | None = None


@dataclass(frozen=True)
class CompactPrivilege:
    compact: str
    kind: str | None
    home_jurisdiction: str
    expires_on: date
    # Remote states a counseling-style privilege names; empty means "every member state".
    jurisdictions: tuple[str, ...] = ()
    status: str = "active"
    effective_from: date | None = None


@dataclass(frozen=True)
class DeaRegistration:
    jurisdiction: str
    number: str
    schedules: tuple[str, ...]
    expires_on: date
    status: str = "active"
    effective_from: date | None = None


@dataclass(frozen=True)
class WeeklyRule:
    weekday: int  # 0 = Monday, as datetime.weekday()
    start: time
    end: time
    modalities: frozenset[Modality]
    site_id: str | None = None


@dataclass(frozen=True)
class ClosedDate:
    on: date  # a local date in the clinician's zone


@dataclass(frozen=True)
class Unavailable:
    start: datetime  # aware, UTC
    end: datetime


AvailabilityException = ClosedDate | Unavailable


@dataclass(frozen=True)
class Availability:
    rules: tuple[WeeklyRule, ...] = ()
    exceptions: tuple[AvailabilityException, ...] = ()
    buffer_minutes: int = 0


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    postal_code: str


@dataclass(frozen=True)
class Site:
    tenant_id: str
    site_id: str
    name: str
    timezone: str
    jurisdiction: str
    address: Address
    rooms: tuple[str, ...]
    version: int = 0


@dataclass(frozen=True)
class Clinician:
    tenant_id: str
    clinician_id: str
    name: str
    npi: str
    discipline: Discipline
    timezone: str
    licenses: tuple[License, ...] = ()
    compact_privileges: tuple[CompactPrivilege, ...] = ()
    dea_registrations: tuple[DeaRegistration, ...] = ()
    modalities: frozenset[Modality] = frozenset()
    site_ids: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    payer_networks: tuple[str, ...] = ()
    availability: Availability = field(default_factory=Availability)
    version: int = 0


@dataclass(frozen=True)
class Coverage:
    payer_id: str
    member_id: str
    # The patient is a dependent on someone else's coverage: that subscriber, and how the patient
    # relates to them (INS02: 01 spouse, 19 child, 34 other adult). None = the patient is the subscriber.
    relationship: str | None = None
    subscriber: Subscriber | None = None


@dataclass(frozen=True)
class Subscriber:
    given_name: str = field(repr=False)
    family_name: str = field(repr=False)
    birth_date: date | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str


@dataclass(frozen=True)
class Patient:
    tenant_id: str
    patient_id: str
    name: str
    birth_date: date
    home_jurisdiction: str
    phone: str | None = None
    email: str | None = None
    preferred_language: str | None = None
    video_capable: bool = True
    coverages: tuple[Coverage, ...] = ()
    emergency_contact: Contact | None = None
    version: int = 0
    # Given and family name as the patient's card has them: X12 and payer matching use these,
    # never a split of ``name`` ("Maria de la Cruz" has family name "de la Cruz").
    given_name: str | None = None
    family_name: str | None = None


@dataclass(frozen=True)
class Billing:
    place_of_service: str
    modifiers: tuple[str, ...]


@dataclass(frozen=True)
class LicensureBasis:
    kind: str  # "license" | "compact_privilege" | "exception"
    jurisdiction: str
    compact: str | None = None
    ref: str | None = None


@dataclass(frozen=True)
class DecisionNote:
    """A reason of a licensure decision as stored on an appointment (code, rule and what it says)."""

    code: str
    rule_id: str
    detail: str = ""


@dataclass(frozen=True)
class LicensureRecord:
    """The licensure decision an active visit rests on, as the last door decided it."""

    jurisdiction: str  # where care happens: the site, or the patient's location for telehealth
    location_source: str  # site | confirmed | stated | home
    zone: str  # IANA zone of the place of care; the visit's local date is taken there
    zone_assumed: bool  # True when the jurisdiction spans zones and nothing told which
    uncertain: bool = False
    conditions: tuple[DecisionNote, ...] = ()
    status: str = "ok"  # ok | needs_review
    review_reasons: tuple[DecisionNote, ...] = ()
    # The ledger a day-limited privilege (PSYPACT TAP) counts this visit's day in, "COMPACT#KIND#JUR",
    # and that privilege's limit of distinct days per calendar year.
    temporary_practice: str | None = None
    temporary_practice_limit: int | None = None


@dataclass(frozen=True)
class ConfirmedLocation:
    """Where the patient said they are at visit time (check-in or video join): safety data, PHI."""

    jurisdiction: str
    confirmed_at: datetime
    confirmed_by: str  # role
    callback_phone: str | None = None
    address_line1: str | None = None
    address_city: str | None = None
    address_postal_code: str | None = None


@dataclass(frozen=True)
class Interval:
    """Half-open [start, end) in UTC."""

    start: datetime
    end: datetime

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Appointment:
    tenant_id: str
    appointment_id: str
    patient_id: str
    clinician_id: str
    service: str
    start: datetime
    end: datetime
    modality: Modality
    site_id: str | None
    room: str | None
    patient_jurisdiction: str
    patient_location_type: str  # "home" | "other" | "clinic"
    timezone: str  # IANA zone of the place the visit belongs to
    status: Status
    billing: Billing
    licensure_basis: LicensureBasis | None
    eligibility_status: str = "unknown"
    buffer_minutes: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    cancel_reason: str | None = None
    history: tuple[dict[str, str], ...] = ()
    video: dict[str, object] | None = None
    version: int = 0
    licensure: LicensureRecord | None = None
    confirmed_location: ConfirmedLocation | None = None

    @property
    def care_jurisdiction(self) -> str:
        if self.licensure is not None:
            return self.licensure.jurisdiction
        return self.patient_jurisdiction

    @property
    def needs_review(self) -> bool:
        return self.licensure is not None and self.licensure.status == "needs_review"

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)
