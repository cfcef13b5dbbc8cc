"""Composition root: the services, built once per process on first use. install() is the test seam."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .settings import Settings

if TYPE_CHECKING:
    from .adapters.chime import ChimeVideoRooms, VideoRoomsByRegion
    from .adapters.dynamo.rate_limit import RateLimiter
    from .domain.ports import AuditTrail, Clock
    from .services.attendance import AttendanceService
    from .services.audit import AuditService
    from .services.availability import AvailabilityService
    from .services.booking import BookingService
    from .services.directory import DirectoryService
    from .services.eligibility import EligibilityService
    from .services.licensure import LicensureService
    from .services.tenant_settings import TenantSettingsService
    from .services.video import VideoService
    from .services.video_guests import VideoGuests


@dataclass
class Services:
    settings: Settings
    directory: DirectoryService
    availability: AvailabilityService
    booking: BookingService
    video: VideoService
    audit: AuditTrail
    audit_log: AuditService
    rate_limiter: RateLimiter
    licensure: LicensureService
    eligibility: EligibilityService
    clock: Clock
    tenant_settings: TenantSettingsService
    attendance: AttendanceService | None = None
    video_guests: VideoGuests | None = None


_services: Services | None = None


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def build(settings: Settings, clock: Clock = utc_now) -> Services:
    from .adapters.dynamo.appointments import AppointmentRepository
    from .adapters.dynamo.attendance import AttendanceRepository
    from .adapters.dynamo.audit import DynamoAuditTrail
    from .adapters.dynamo.binding import bind_models
    from .adapters.dynamo.directory import DirectoryRepository
    from .adapters.dynamo.rate_limit import RateLimiter
    from .adapters.dynamo.tenant_settings import TenantSettingsRepository
    from .rules.bundle import rulebook
    from .services.attendance import AttendanceService
    from .services.audit import AuditService
    from .services.availability import AvailabilityService
    from .services.booking import BookingService
    from .services.care_gate import CareGate
    from .services.directory import DirectoryService
    from .services.eligibility_lazy import wire_eligibility
    from .services.licensure import LicensureService
    from .services.tenant_settings import TenantSettingsService
    from .services.video import VideoService
    from .services.video_guests import VideoGuests

    connection = bind_models(settings)
    directory_repo = DirectoryRepository()
    appointments = AppointmentRepository(connection)
    audit = DynamoAuditTrail(clock, connection)
    eligibility, recorder = wire_eligibility(settings, clock, new_id, directory_repo, audit, rulebook, appointments)
    tenant_settings = TenantSettingsRepository()
    # One licensure decision for every door: booking, reschedule, switch, check-in, video, start, completion.
    gate = CareGate(appointments, rulebook, tenant_settings)
    booking = BookingService(directory_repo, appointments, rulebook, clock, new_id, audit, eligibility=recorder,
                             gate=gate)
    attendance = AttendanceService(appointments, AttendanceRepository(), audit)
    video = VideoService(appointments, _video_rooms(settings), settings, clock, new_id, audit, booking,
                         attendance=attendance)
    # The meeting ends with the visit: complete, cancel, no-show and a switch away from video close it.
    booking.on_visit_ended = video.visit_ended
    return Services(
        video=video,
        attendance=attendance,
        video_guests=VideoGuests(video, directory_repo),
        settings=settings,
        directory=DirectoryService(directory_repo, audit, new_id, redecide=booking.redecide_for_clinician),
        availability=AvailabilityService(directory_repo, appointments, rulebook, clock, gate),
        booking=booking,
        audit=audit,
        audit_log=AuditService(audit),
        rate_limiter=RateLimiter(clock, settings.rate_limits),
        licensure=LicensureService(directory_repo, rulebook, gate),
        eligibility=eligibility,
        clock=clock,
        tenant_settings=TenantSettingsService(tenant_settings, audit),
    )


def _video_rooms(settings: Settings) -> VideoRoomsByRegion:
    """Chime clients are made on the first video call, once per process and control region, not on every
    cold start; a meeting's calls go to the control region stored with it."""
    from .adapters.chime import RetryPolicy, VideoRoomsByRegion, control_region_for, create_video_rooms

    limits = settings.video

    def make(region: str) -> ChimeVideoRooms:
        return create_video_rooms(settings.region, settings.chime_endpoint, control_region=region,
                                  retry=RetryPolicy(max_attempts=limits.max_attempts),
                                  connect_timeout=limits.connect_timeout_seconds,
                                  read_timeout=limits.read_timeout_seconds)

    return VideoRoomsByRegion(make, settings.chime_control_region or control_region_for(settings.region))


def get_services() -> Services:
    global _services
    if _services is None:
        _services = build(Settings.from_env())
    return _services


def install(services: Services | None) -> None:
    """Tests and the local runtime put their own composition here; None rebuilds on next use."""
    global _services
    _services = services
