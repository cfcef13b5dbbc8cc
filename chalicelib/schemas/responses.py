"""Response bodies, as presenters.py emits them (field names of API.md), and RFC 9457 problems.

These models document the answers in GET /v1/openapi.json; presenters still build the JSON (a
contract test validates real answers against the schemas generated from these models). Every field
a presenter always emits is required here, nullable where the presenter may emit null. Unknown
extra fields are allowed, so adding a field never breaks a client.

`defer_build`: nothing is compiled when `import app` runs (a Lambda cold start); the models are
only built when the OpenAPI document is generated on its first request.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..domain.model import Discipline, Modality, Status

Hhmm = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$", examples=["09:00"])]
UtcTime = Annotated[datetime, Field(description="RFC 3339, UTC", examples=["2026-03-09T14:00:00Z"])]


CredentialStatus = Annotated[Literal["active", "inactive", "suspended", "revoked", "probation"],
                            Field(description="Only active and probation grant authority")]


class Out(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow")


# --- problems ---------------------------------------------------------------------------------

class FieldErrorOut(Out):
    field: str = Field(description="Path of the bad field, e.g. `licenses[0].expires_on`, or a header name.")
    message: str


class Problem(Out):
    """RFC 9457 problem details (`application/problem+json`). `detail` never contains PHI."""

    type: str = Field(description="URI naming the problem type",
                      examples=["https://hybrid-care.example/problems/slot-taken"])
    title: str
    status: Annotated[int, Field(ge=400, le=599)]
    code: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$", examples=["SLOT_TAKEN"])]
    detail: str
    errors: list[FieldErrorOut] = Field(description="One entry per bad field (400 VALIDATION_ERROR); else empty.")


class GatewayError(Out):
    """What the Chalice/API Gateway layer answers before our code runs (e.g. 415 wrong Content-Type)."""

    Code: str = Field(examples=["UnsupportedMediaType"])
    Message: str


# --- health -----------------------------------------------------------------------------------

class HealthOut(Out):
    status: Literal["ok"]


# --- directory --------------------------------------------------------------------------------

class AddressOut(Out):
    line1: str
    city: str
    postal_code: str


class SiteOut(Out):
    site_id: str
    name: str
    timezone: str = Field(description="IANA time zone")
    jurisdiction: str = Field(examples=["US-NY"])
    address: AddressOut
    rooms: list[str]


class LicenseOut(Out):
    jurisdiction: str
    type: str
    number: str | None = Field(default=None, description="Absent from the public profile (patients, payers)")
    expires_on: date
    status: CredentialStatus = "active"
    effective_from: date | None = None


class CompactPrivilegeOut(Out):
    compact: str
    kind: str | None
    home_jurisdiction: str
    expires_on: date
    jurisdictions: list[str]
    status: CredentialStatus = "active"
    effective_from: date | None = None


class DeaRegistrationOut(Out):
    jurisdiction: str
    number: str
    schedules: list[Literal["II", "III", "IV", "V"]]
    expires_on: date
    status: CredentialStatus = "active"
    effective_from: date | None = None


class WeeklyRuleOut(Out):
    weekday: Annotated[int, Field(ge=0, le=6, description="0 = Monday")]
    start: Hhmm
    end: Hhmm
    modalities: list[Modality]
    site_id: str | None


class ClosedDateOut(Out):
    date: date
    closed: Literal[True]


class UnavailableOut(Out):
    start: UtcTime
    end: UtcTime
    available: Literal[False]


class AvailabilityOut(Out):
    rules: list[WeeklyRuleOut]
    exceptions: list[ClosedDateOut | UnavailableOut]
    buffer_minutes: int


class ClinicianOut(Out):
    clinician_id: str
    name: str
    npi: str
    discipline: Discipline
    timezone: str
    licenses: list[LicenseOut]
    compact_privileges: list[CompactPrivilegeOut]
    dea_registrations: list[DeaRegistrationOut] | None = Field(
        default=None, description="Absent from the public profile that patients and payers get")
    profile: Literal["full", "public"] = "full"
    modalities: list[Modality]
    site_ids: list[str]
    languages: list[str]
    payer_networks: list[str]
    availability: AvailabilityOut
    version: int


class TechAccessOut(Out):
    video: bool


class SubscriberOut(Out):
    given_name: str
    family_name: str
    birth_date: date | None


class CoverageOut(Out):
    payer_id: str
    member_id: str
    relationship: Literal["01", "19", "34"] | None = None
    subscriber: SubscriberOut | None = None


class ContactOut(Out):
    name: str
    phone: str


class PatientOut(Out):
    patient_id: str
    name: str
    given_name: str | None = None
    family_name: str | None = None
    birth_date: date
    home_jurisdiction: str
    phone: str | None
    email: str | None
    preferred_language: str | None
    tech_access: TechAccessOut
    coverages: list[CoverageOut]
    emergency_contact: ContactOut | None


class TenantLicensureSettingsOut(Out):
    uncertain_rules: Literal["warn", "refuse"]


class TenantRoutingSettingsOut(Out):
    disabled_rules: list[str]
    high_risk_max_wait_days: int | None
    escalation_open_bound_minutes: int | None


class TenantNoShowSettingsOut(Out):
    require_confirmation_after: int | None
    video_first_after: int | None
    release_unconfirmed_minutes_before: int | None


class TenantReminderSettingsOut(Out):
    offsets_minutes: list[int]
    channels: list[Literal["sms", "email"]]
    quiet_start: str
    quiet_end: str
    link_ttl_hours: int
    offer_hold_minutes: int
    no_shows: TenantNoShowSettingsOut


class TenantSettingsOut(Out):
    licensure: TenantLicensureSettingsOut
    routing: TenantRoutingSettingsOut
    reminders: TenantReminderSettingsOut
    version: int


class SiteList(Out):
    items: list[SiteOut]
    next_cursor: str | None


class ClinicianList(Out):
    items: list[ClinicianOut]
    next_cursor: str | None


# --- licensure, availability, appointments ----------------------------------------------------

class LicensureBasisOut(Out):
    kind: Literal["license", "compact_privilege", "exception"]
    jurisdiction: str
    compact: str | None
    ref: str | None


class ReasonOut(Out):
    code: str
    rule_id: str
    source: str | None = None
    detail: str
    uncertain: Annotated[bool, Field(description="The rule rests on facts marked uncertain: worth a human look")] \
        = False


class LicensureOut(Out):
    allowed: bool
    basis: LicensureBasisOut | None
    uncertain: bool = Field(description="Some rule the decision rests on is marked uncertain in the rules data")
    conditions: list[ReasonOut] = Field(description="What the basis requires, e.g. probation or a day limit")


class AppointmentLicensureOut(LicensureOut):
    status: Literal["ok", "needs_review"] = Field(
        description="needs_review: a licence change removed the authority this visit rested on")
    review_reasons: list[ReasonOut]
    care_jurisdiction: str = Field(description="Where care happens: the site, or the patient's location")
    location_source: Literal["site", "confirmed", "stated", "home"]
    zone: str
    zone_assumed: bool = Field(description="The jurisdiction spans zones and nothing said which; default used")


class ConfirmedLocationOut(Out):
    patient_jurisdiction: str
    confirmed_at: UtcTime
    confirmed_by: str
    callback_phone: str | None
    address: dict[str, str | None] | None


class LicensureCheckOut(Out):
    allowed: bool
    basis: LicensureBasisOut | None
    reasons: list[ReasonOut]
    rules_version: str
    uncertain: bool
    conditions: list[ReasonOut]


class SlotOut(Out):
    clinician_id: str
    start: UtcTime
    end: UtcTime
    modality: Modality
    site_id: str | None
    licensure: LicensureOut


class SlotList(Out):
    items: list[SlotOut]
    next_cursor: str | None


class EligibilitySummaryOut(Out):
    status: str = Field(examples=["unknown", "active", "inactive", "not_found", "error", "pending"])


class InvitationJoinOut(Out):
    method: str
    path: str
    body: dict[str, str]


class VideoInvitationOut(Out):
    invitation_id: str
    role: str = Field(examples=["interpreter", "guardian", "supervisor"])
    token: str = Field(description="Single-use; works until the visit's end")
    expires_at: datetime
    join: InvitationJoinOut


class TimeBandOut(Out):
    min_minutes: int
    max_minutes: int | None


class TimeCheckOut(Out):
    status: str = Field(description="ok | mismatch | no_attendance | not_timed; a mismatch is held for review",
                        examples=["ok", "mismatch"])
    service: str
    connected_minutes: float = Field(description="Minutes the patient and the clinician were both connected")
    band: TimeBandOut | None
    supported_service: str | None = Field(description="The timed code the connected minutes support, if any")


class BillingOut(Out):
    place_of_service: str = Field(examples=["02", "10", "11"])
    modifiers: list[str]
    time_check: TimeCheckOut | None = Field(
        default=None, description="Video visits, on completion: connected minutes against the code's time band")


class HistoryEventOut(Out):
    at: datetime
    action: str
    role: str


class AppointmentOut(Out):
    appointment_id: str
    status: Status
    patient_id: str
    clinician_id: str
    service: str = Field(examples=["90834"])
    start: UtcTime
    end: UtcTime
    timezone: str
    modality: Modality
    site_id: str | None
    room: str | None
    patient_jurisdiction: str
    patient_location_type: Literal["home", "other", "clinic"]
    licensure: AppointmentLicensureOut
    confirmed_location: ConfirmedLocationOut | None = Field(
        description="Where the patient confirmed they are at visit time (PHI: reads are audited)")
    eligibility: EligibilitySummaryOut
    billing: BillingOut
    cancel_reason: str | None
    created_at: UtcTime | None
    updated_at: UtcTime | None
    history: list[HistoryEventOut]
    version: int


class ExplanationOut(Out):
    rule_id: str
    effect: str
    detail: str


class RoutingOptionOut(SlotOut):
    score: int
    reasons: list[ExplanationOut]


class CrisisResourceOut(Out):
    name: str
    phone: str | None
    text: str | None
    url: str | None


class CrisisOut(Out):
    escalation_id: str | None
    resources: list[CrisisResourceOut]
    emergency_number: str


class ScreeningOut(Out):
    instrument: Literal["PHQ-9", "GAD-7", "C-SSRS"]
    score: int
    band: str | None
    implied_risk: str
    rule_id: str
    findings: list[str]


class ScreeningRecordOut(ScreeningOut):
    at: UtcTime


class ScreeningList(Out):
    items: list[ScreeningRecordOut]
    next_cursor: str | None


class RoutingRecommendationOut(Out):
    decision: Literal["schedule", "escalate"]
    recommended_modality: Modality | None
    risk_level: Literal["none", "low", "moderate", "high", "imminent"]
    screening: ScreeningOut | None
    options: list[RoutingOptionOut]
    explanation: list[ExplanationOut]
    crisis: CrisisOut | None
    rules_version: str


class EscalationOut(Out):
    escalation_id: str
    status: Literal["open", "acknowledged", "resolved"]
    patient_id: str
    risk: str
    reasons: list[str]
    resources: list[str]
    emergency_number: str
    opened_at: UtcTime
    opened_by: str
    acknowledged_at: UtcTime | None
    acknowledged_by: str | None
    note: str | None
    resolved_at: UtcTime | None
    resolved_by: str | None
    outcome: str | None
    overdue_reported_at: UtcTime | None


class EscalationList(Out):
    items: list[EscalationOut]
    next_cursor: str | None


class AppointmentList(Out):
    items: list[AppointmentOut]
    next_cursor: str | None


# --- video ------------------------------------------------------------------------------------

class MeetingOut(Out):
    MeetingId: str
    MediaRegion: str
    MediaPlacement: dict[str, str]
    ExternalMeetingId: str | None
    MeetingArn: str | None


class AttendeeOut(Out):
    AttendeeId: str
    ExternalUserId: str
    JoinToken: str


class VideoJoinOut(Out):
    meeting: MeetingOut
    attendee: AttendeeOut
    waiting_room: bool


class VideoGuestJoinOut(VideoJoinOut):
    role: str = Field(examples=["interpreter", "guardian", "supervisor"])


class AttendanceEventOut(Out):
    at: datetime
    event: str = Field(examples=["joined", "left", "dropped", "meeting_ended"])
    role: str | None = Field(examples=["patient", "clinician"])
    attendee_id: str | None
    meeting_id: str


class VideoAttendanceOut(Out):
    appointment_id: str
    items: list[AttendanceEventOut]
    connected_minutes: float
    time_check: TimeCheckOut | None


# --- audit ------------------------------------------------------------------------------------

class ActorOut(Out):
    sub: str
    role: str


class AuditEntryOut(Out):
    seq: int | None = Field(description="Place in the chain; null until the stream consumer has chained it")
    chained: bool = Field(description="Whether the entry has its place in the hash chain yet")
    at: datetime
    actor: ActorOut
    action: str
    resource: str
    patient_id: str | None
    outcome: str
    request_id: str | None
    prev_hash: str | None
    hash: str | None
    member: str | None = Field(default=None, description="Member lookups: HMAC pseudonym of the member id")
    asking_tenant: str | None = Field(default=None, description="Member lookups: the tenant that asked")


class AuditList(Out):
    items: list[AuditEntryOut]
    next_cursor: str | None


class AuditVerifyOut(Out):
    ok: bool
    entries: int
    first_bad_seq: int | None
    problem: str | None
    waiting: int = Field(description="Entries written and not chained yet")
    oldest_waiting_seconds: int | None = Field(description="How long the oldest waiting entry has waited")
    max_wait_seconds: int | None = Field(description="The bound: an entry waiting longer fails the check")
    checked_at: UtcTime


# --- documentation ----------------------------------------------------------------------------

class OpenApiDocument(Out):
    """This document."""

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


# --- reminders, confirmations, no-shows, waitlist ---------------------------------------------

class ReminderOut(Out):
    reminder_id: str
    channel: Literal["sms", "email"]
    send_at: datetime
    status: Literal["scheduled", "sent", "cancelled", "failed"]
    sent_at: datetime | None = None


class ConfirmationOut(Out):
    required: bool
    status: Literal["pending", "confirmed", "declined", "released"] | None
    release_at: datetime | None = Field(default=None, description="When a required confirmation that has not "
                                        "come releases the visit (tenant no-show policy); null: never")


class ReminderList(Out):
    items: list[ReminderOut]
    confirmation: ConfirmationOut


class LinkActionOut(Out):
    appointment_id: str
    status: str
    confirmation: Literal["confirmed", "declined"]


class NoShowPolicyFlagsOut(Out):
    confirmation_required: bool
    video_first: bool


class NoShowsOut(Out):
    patient_id: str
    no_shows: int
    last_no_show_at: str | None
    policy: NoShowPolicyFlagsOut


class WaitlistOfferOut(Out):
    start: datetime
    end: datetime
    clinician_id: str
    modality: Literal["in_person", "video", "phone"]
    site_id: str | None
    expires_at: datetime


class WaitlistOut(Out):
    waitlist_id: str
    status: Literal["waiting", "offered", "booked", "cancelled"]
    patient_id: str
    service: str
    modalities: list[Literal["in_person", "video", "phone"]]
    patient_jurisdiction: str
    window: dict[str, datetime]
    clinician_id: str | None
    offer: WaitlistOfferOut | None
    appointment_id: str | None
