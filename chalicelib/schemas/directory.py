"""Request bodies of the directory routes (sites, clinicians, availability, patients)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, model_validator

from ..domain.model import Discipline, Modality
from .common import HHMM, Body, Email, Id, Jurisdiction, Name, Npi, Phone, RoomName, TimeZoneName, UtcDatetime


class AddressIn(Body):
    line1: Name
    city: Name
    postal_code: Annotated[str, Field(pattern=r"^[A-Za-z0-9 -]{3,10}$")]


class SiteIn(Body):
    name: Name
    timezone: TimeZoneName
    jurisdiction: Jurisdiction
    address: AddressIn
    rooms: Annotated[list[RoomName], Field(min_length=1, max_length=100)] | Annotated[int, Field(ge=1, le=100)]

    def room_names(self) -> tuple[str, ...]:
        if isinstance(self.rooms, int):
            return tuple(f"room-{i + 1}" for i in range(self.rooms))
        if len(set(self.rooms)) != len(self.rooms):
            raise ValueError("room names must be unique")
        return tuple(self.rooms)


CredentialStatus = Literal["active", "inactive", "suspended", "revoked", "probation"]


class Standing(Body):
    status: CredentialStatus = Field(default="active", description="Only active and probation grant authority")
    effective_from: date | None = Field(default=None, description="The date the status takes effect")


class LicenseIn(Standing):
    jurisdiction: Jurisdiction
    type: Annotated[str, Field(pattern=r"^[A-Za-z0-9 ._/-]{1,40}$")]
    number: Annotated[str, Field(pattern=r"^[A-Za-z0-9 ._/-]{1,40}$")]
    expires_on: date


class CompactPrivilegeIn(Standing):
    compact: Literal["PSYPACT", "IMLC", "COUNSELING", "SOCIAL_WORK", "NLC", "APRN"]
    kind: Literal["APIT", "TAP", "PRIVILEGE", "MULTISTATE", "LOI"] | None = None
    home_jurisdiction: Jurisdiction
    expires_on: date
    jurisdictions: Annotated[list[Jurisdiction], Field(max_length=70)] = []

    @model_validator(mode="after")
    def _kind_fits_compact(self) -> CompactPrivilegeIn:
        if self.compact == "PSYPACT" and self.kind not in ("APIT", "TAP"):
            raise ValueError("PSYPACT kind must be APIT or TAP")
        if self.compact == "COUNSELING" and self.kind != "PRIVILEGE":
            raise ValueError("COUNSELING kind must be PRIVILEGE")
        if self.compact == "COUNSELING" and not self.jurisdictions:
            raise ValueError("a COUNSELING privilege lists its remote jurisdictions")
        return self


class DeaRegistrationIn(Standing):
    jurisdiction: Jurisdiction
    number: Annotated[str, Field(pattern=r"^[A-Z]{2}[0-9]{7}$")]
    schedules: Annotated[list[Literal["II", "III", "IV", "V"]], Field(min_length=1, max_length=4)]
    expires_on: date


class ClinicianIn(Body):
    name: Name
    npi: Npi
    discipline: Discipline
    timezone: TimeZoneName
    licenses: Annotated[list[LicenseIn], Field(max_length=70)] = []
    compact_privileges: Annotated[list[CompactPrivilegeIn], Field(max_length=20)] = []
    dea_registrations: Annotated[list[DeaRegistrationIn], Field(max_length=70)] = []
    modalities: Annotated[list[Modality], Field(min_length=1, max_length=3)]
    site_ids: Annotated[list[Id], Field(max_length=50)] = []
    languages: Annotated[list[Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]],
                         Field(max_length=20)] = []
    payer_networks: Annotated[list[Id], Field(max_length=200)] = []


class ClinicianPatch(Body):
    """PATCH /v1/clinicians/{id}: any field of ClinicianIn; a list given replaces the stored list."""

    name: Name | None = None
    npi: Npi | None = None
    discipline: Discipline | None = None
    timezone: TimeZoneName | None = None
    licenses: Annotated[list[LicenseIn], Field(max_length=70)] | None = None
    compact_privileges: Annotated[list[CompactPrivilegeIn], Field(max_length=20)] | None = None
    dea_registrations: Annotated[list[DeaRegistrationIn], Field(max_length=70)] | None = None
    modalities: Annotated[list[Modality], Field(min_length=1, max_length=3)] | None = None
    site_ids: Annotated[list[Id], Field(max_length=50)] | None = None
    languages: Annotated[list[Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]],
                         Field(max_length=20)] | None = None
    payer_networks: Annotated[list[Id], Field(max_length=200)] | None = None


class SitePatch(Body):
    name: Name | None = None
    timezone: TimeZoneName | None = None
    jurisdiction: Jurisdiction | None = None
    address: AddressIn | None = None
    rooms: Annotated[list[RoomName], Field(min_length=1, max_length=100)] | None = None


class WeeklyRuleIn(Body):
    weekday: Annotated[int, Field(ge=0, le=6, description="0 = Monday")]
    start: HHMM
    end: HHMM
    modalities: Annotated[list[Modality], Field(min_length=1, max_length=3)]
    site_id: Id | None = None

    @model_validator(mode="after")
    def _ordered(self) -> WeeklyRuleIn:
        if self.end <= self.start:
            raise ValueError("end must be after start (split overnight hours into two rules)")
        if Modality.IN_PERSON in self.modalities and not self.site_id:
            raise ValueError("an in_person rule needs a site_id")
        return self


class ClosedDateIn(Body):
    date: date
    closed: Literal[True]


class UnavailableIn(Body):
    start: UtcDatetime
    end: UtcDatetime
    available: Literal[False]

    @model_validator(mode="after")
    def _ordered(self) -> UnavailableIn:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class AvailabilityIn(Body):
    rules: Annotated[list[WeeklyRuleIn], Field(max_length=100)]
    exceptions: Annotated[list[ClosedDateIn | UnavailableIn], Field(max_length=500)] = []
    buffer_minutes: Annotated[int, Field(ge=0, le=120)] = 0


class TechAccessIn(Body):
    video: bool = True


PersonName = Annotated[str, Field(min_length=1, max_length=60)]


class SubscriberIn(Body):
    """The policy holder when the patient is covered as their dependent."""

    given_name: PersonName
    family_name: PersonName
    birth_date: date | None = None


class CoverageIn(Body):
    payer_id: Id
    member_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,40}$")]
    relationship: Literal["01", "19", "34"] | None = Field(
        None, description="The patient is the subscriber's spouse (01), child (19) or other adult (34).")
    subscriber: SubscriberIn | None = Field(
        None, description="Set when the patient is a dependent: the eligibility check is sent as HL 23.")

    @model_validator(mode="after")
    def _dependent_fields_together(self) -> CoverageIn:
        if (self.relationship is None) != (self.subscriber is None):
            raise ValueError("relationship and subscriber are given together (the patient is a dependent)")
        return self


class ContactIn(Body):
    name: Name
    phone: Phone


class PatientPatch(Body):
    name: Name | None = None
    given_name: PersonName | None = None
    family_name: PersonName | None = None
    birth_date: date | None = None
    home_jurisdiction: Jurisdiction | None = None
    phone: Phone | None = None
    email: Email | None = None
    preferred_language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")] | None = None
    tech_access: TechAccessIn | None = None
    coverages: Annotated[list[CoverageIn], Field(max_length=5)] | None = None
    emergency_contact: ContactIn | None = None

    @model_validator(mode="after")
    def _born_in_the_past(self) -> PatientPatch:
        if self.birth_date is not None and self.birth_date < date(1900, 1, 1):
            raise ValueError("birth_date is before 1900")
        return self


class TenantLicensureSettingsIn(Body):
    uncertain_rules: Literal["warn", "refuse"] = "warn"


class TenantRoutingSettingsIn(Body):
    disabled_rules: Annotated[list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,80}$")]],
                              Field(max_length=50)] = []
    high_risk_max_wait_days: Annotated[int, Field(ge=0, le=90)] | None = None
    escalation_open_bound_minutes: Annotated[int, Field(ge=1, le=1440)] | None = None


class TenantPublicationSettingsIn(Body):
    public: bool = Field(default=False, description="Serve the SMART Scheduling Links feed without a token "
                                                     "(it carries no PHI: locations, schedules, open slots)")
    booking_url: Annotated[str, Field(pattern=r"^https://[^\s]{1,480}$")] | None = None
    booking_phone: Phone | None = None
    days: Annotated[int, Field(ge=1, le=31)] = 7
    services: Annotated[list[Annotated[str, Field(pattern=r"^[0-9A-Z]{5}$")]], Field(max_length=20)] = []


class TenantNoShowSettingsIn(Body):
    require_confirmation_after: Annotated[int, Field(ge=1, le=50)] | None = 2
    video_first_after: Annotated[int, Field(ge=1, le=50)] | None = None
    # How long before the start a still-unconfirmed visit (confirmation required) is released; null: never.
    release_unconfirmed_minutes_before: Annotated[int, Field(ge=30, le=10080)] | None = 240


WallClock = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class TenantReminderSettingsIn(Body):
    # Minutes before the visit; at least 15 minutes, at most 14 days, no duplicates.
    offsets_minutes: Annotated[list[Annotated[int, Field(ge=15, le=20160)]], Field(min_length=1, max_length=6)] \
        = [1440, 120]
    channels: Annotated[list[Literal["sms", "email"]], Field(min_length=1, max_length=2)] = ["sms", "email"]
    quiet_start: WallClock = "21:00"
    quiet_end: WallClock = "08:00"
    link_ttl_hours: Annotated[int, Field(ge=1, le=336)] = 72
    offer_hold_minutes: Annotated[int, Field(ge=5, le=1440)] = 30
    no_shows: TenantNoShowSettingsIn = TenantNoShowSettingsIn()

    @model_validator(mode="after")
    def _distinct(self) -> TenantReminderSettingsIn:
        if len(set(self.offsets_minutes)) != len(self.offsets_minutes):
            raise ValueError("offsets_minutes has duplicates")
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("channels has duplicates")
        return self


class TenantSettingsIn(Body):
    licensure: TenantLicensureSettingsIn = TenantLicensureSettingsIn()
    routing: TenantRoutingSettingsIn = TenantRoutingSettingsIn()
    publication: TenantPublicationSettingsIn = TenantPublicationSettingsIn()
    # Absent: the stored reminder policy stays as it is.
    reminders: TenantReminderSettingsIn | None = None


class PatientIn(Body):
    name: Name | None = Field(None, description="Required unless given_name and family_name are sent.")
    given_name: PersonName | None = Field(None, description="As on the insurance card; X12 and payer "
                                                            "matching use it, never a split of name.")
    family_name: PersonName | None = None
    birth_date: date
    home_jurisdiction: Jurisdiction
    phone: Phone | None = None
    email: Email | None = None
    preferred_language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")] | None = None
    tech_access: TechAccessIn = TechAccessIn()
    coverages: Annotated[list[CoverageIn], Field(max_length=5)] = []
    emergency_contact: ContactIn | None = None

    @model_validator(mode="after")
    def _born_in_the_past(self) -> PatientIn:
        if self.birth_date < date(1900, 1, 1):
            raise ValueError("birth_date is before 1900")
        if self.name is None and not (self.given_name and self.family_name):
            raise ValueError("name, or given_name and family_name, is required")
        return self

    @property
    def full_name(self) -> str:
        return self.name or f"{self.given_name} {self.family_name}"
