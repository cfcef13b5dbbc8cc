"""Composition root: the services, built once per process on first use. install() is the test seam."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from .adapters.chime import ChimeVideoRooms
    from .adapters.dynamo.rate_limit import RateLimiter
    from .domain.ports import AuditTrail, Clock
    from .services.audit import AuditService
    from .services.availability import AvailabilityService
    from .services.booking import BookingService
    from .services.directory import DirectoryService
    from .services.eligibility import EligibilityService
    from .services.licensure import LicensureService
    from .services.video import VideoService


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


_services: Services | None = None


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def build(settings: Settings, clock: Clock = utc_now) -> Services:
    from .adapters.dynamo.appointments import AppointmentRepository
    from .adapters.dynamo.audit import DynamoAuditTrail
    from .adapters.dynamo.binding import bind_models
    from .adapters.dynamo.directory import DirectoryRepository
    from .adapters.dynamo.rate_limit import RateLimiter
    from .rules.bundle import rulebook
    from .services.audit import AuditService
    from .services.availability import AvailabilityService
    from .services.booking import BookingService
    from .services.directory import DirectoryService
    from .services.eligibility_lazy import wire_eligibility
    from .services.licensure import LicensureService
    from .services.video import VideoService

    connection = bind_models(settings)
    directory_repo = DirectoryRepository()
    appointments = AppointmentRepository(connection)
    audit = DynamoAuditTrail(clock, connection)
    eligibility, recorder = wire_eligibility(settings, clock, new_id, directory_repo, audit, rulebook, appointments)
    return Services(
        video=VideoService(appointments, _video_rooms(settings), settings, clock, new_id, audit),
        settings=settings,
        directory=DirectoryService(directory_repo, audit, new_id),
        availability=AvailabilityService(directory_repo, appointments, rulebook, clock, audit),
        booking=BookingService(directory_repo, appointments, rulebook, clock, new_id, audit, eligibility=recorder),
        audit=audit,
        audit_log=AuditService(audit),
        rate_limiter=RateLimiter(clock, settings.rate_limits),
        licensure=LicensureService(directory_repo, rulebook),
        eligibility=eligibility,
        clock=clock,
    )


def _video_rooms(settings: Settings) -> Callable[[], ChimeVideoRooms]:
    """The Chime client is made on the first video call, once per process, not on every cold start."""
    rooms: list[ChimeVideoRooms] = []

    def get() -> ChimeVideoRooms:
        if not rooms:
            from .adapters.chime import create_video_rooms

            rooms.append(create_video_rooms(settings.region, settings.chime_endpoint,
                                            control_region=settings.chime_control_region))
        return rooms[0]

    return get


def get_services() -> Services:
    global _services
    if _services is None:
        _services = build(Settings.from_env())
    return _services


def install(services: Services | None) -> None:
    """Tests and the local runtime put their own composition here; None rebuilds on next use."""
    global _services
    _services = services
