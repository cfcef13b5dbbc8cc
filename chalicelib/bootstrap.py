"""Composition root: everything a process holds, built once per process on first use.

Two parts: `Process` (the clients and sinks shared by every request: idempotency records, the
Cognito JWKS, metrics; each made on first use) and the services over them. `build()` only
constructs; binding the PynamoDB models to the settings' table (a process-wide mutation) happens
when a composition becomes the process's own: `get_services()`'s first build, or `install()`, the
one test seam.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .settings import Settings

if TYPE_CHECKING:
    from .adapters.chime import ChimeVideoRooms, VideoRoomsByRegion
    from .adapters.dynamo.rate_limit import RateLimiter
    from .adapters.events import SnsEvents
    from .adapters.notify import Notifier
    from .domain.model import Modality
    from .domain.ports import AuditTrail, Clock
    from .services.attendance import AttendanceService
    from .services.audit import AuditService
    from .services.availability import AvailabilityService
    from .services.booking import BookingService
    from .services.confirmations import ConfirmationService
    from .services.directory import DirectoryService
    from .services.eligibility.booking_hook import VisitEligibility
    from .services.eligibility.service import EligibilityService
    from .services.licensure import LicensureService
    from .services.reminders import ReminderService
    from .services.routing import RoutingService
    from .services.tenant_settings import TenantSettingsService
    from .services.video import VideoService
    from .services.video_guests import VideoGuests
    from .services.waitlist import WaitlistService

from .services.streams import StreamDispatcher

T = TypeVar("T")


class Lazy(Generic[T]):
    """A process-wide value made on its first use, once (the local server answers on many threads)."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._made: list[T] = []
        self._lock = threading.Lock()

    def __call__(self) -> T:
        if not self._made:
            with self._lock:
                if not self._made:
                    self._made.append(self._make())
        return self._made[0]


@dataclass
class Process:
    """The process-wide clients and sinks. Nothing here is made before a request needs it: cold start
    pays for none of them, and a stage without Idempotency-Key traffic never makes that client."""

    idempotency_store: Lazy[Any]  # Powertools DynamoDBPersistenceLayer on its own boto3 client
    jwks: Lazy[Any]               # PyJWKClient of the Cognito pool (None on the local stage)
    metrics: Lazy[Any]            # Powertools Metrics (CloudWatch EMF on stdout)


def process_for(settings: Settings) -> Process:
    return Process(idempotency_store=Lazy(lambda: _idempotency_store(settings)),
                   jwks=Lazy(lambda: _jwks_client(settings)), metrics=Lazy(_metrics))


def _idempotency_store(settings: Settings) -> Any:
    import boto3
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    client = boto3.client("dynamodb", region_name=settings.region, endpoint_url=settings.dynamodb_endpoint)
    return DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=client)


def _jwks_client(settings: Settings) -> Any:
    if not settings.cognito_jwks_url:
        return None
    import jwt

    return jwt.PyJWKClient(settings.cognito_jwks_url, cache_keys=True, lifespan=3600)


def _metrics() -> Any:
    from aws_lambda_powertools import Metrics

    from .observability import METRICS_NAMESPACE, SERVICE

    return Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)


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
    routing: RoutingService
    reminders: ReminderService
    confirmations: ConfirmationService
    waitlist: WaitlistService
    # Eligibility after commit: the stream consumer's follower and the worker that finishes pending checks.
    visit_eligibility: VisitEligibility | None = None
    attendance: AttendanceService | None = None
    video_guests: VideoGuests | None = None
    process: Process = None  # type: ignore[assignment]  # made from the settings unless given

    def __post_init__(self) -> None:
        if self.process is None:
            self.process = process_for(self.settings)
    stream: StreamDispatcher = field(default_factory=StreamDispatcher)  # the table stream's consumers, by kind


_services: Services | None = None
_bound: Services | None = None  # the composition the PynamoDB models are bound to
_lock = threading.Lock()


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def build(settings: Settings, clock: Clock = utc_now) -> Services:
    from .adapters.chime_regions import choose_media_region
    from .adapters.dynamo.appointments import AppointmentRepository, appointment_from_image
    from .adapters.dynamo.attendance import AttendanceRepository
    from .adapters.dynamo.audit import DynamoAuditTrail
    from .adapters.dynamo.binding import connect
    from .adapters.dynamo.directory import DirectoryRepository
    from .adapters.dynamo.escalations import EscalationRepository, ScreeningRepository
    from .adapters.dynamo.keyed_reads import MainTableReads
    from .adapters.dynamo.rate_limit import RateLimiter
    from .adapters.dynamo.search_reads import SearchReads
    from .adapters.dynamo.tenant_settings import TenantSettingsRepository
    from .rules.bundle import rulebook
    from .services.attendance import AttendanceService
    from .services.audit import AuditChainer, AuditService
    from .services.availability import AvailabilityService
    from .services.booking import BookingService
    from .services.care_gate import CareGate
    from .services.directory import DirectoryService
    from .services.licensure import LicensureService
    from .services.routing import RoutingService
    from .services.tenant_settings import TenantSettingsService
    from .services.ttl_cache import TtlCache
    from .services.video import VideoService
    from .services.video_guests import VideoGuests
    from .services.visit_followers import VisitFollowers

    connection = connect(settings)
    directory_repo = DirectoryRepository()
    audit = DynamoAuditTrail(clock, connection)
    appointments = AppointmentRepository(connection, audit)  # a visit's change and its entry: one transaction
    eligibility, recorder = _eligibility(settings, clock, directory_repo, audit, appointments)
    tenant_settings = TenantSettingsRepository()
    # Settings change a few times a year: read once a minute per process, invalidated here on a write.
    settings_cache = TtlCache(tenant_settings.get, timedelta(seconds=60), clock, keyed=tenant_settings.settings_read)
    # One licensure decision for every door: booking, reschedule, switch, check-in, video, start, completion.
    gate = CareGate(appointments, rulebook, settings_cache)
    # A search's directory, patient and busy time in one batched read (the cached directory proven current in it).
    availability = AvailabilityService(SearchReads(connection, directory_repo.remember), rulebook, clock, gate, audit)
    routing = RoutingService(directory_repo, appointments, availability, rulebook, clock, new_id, audit,
                             EscalationRepository(connection), ScreeningRepository(), _events(settings),
                             settings_cache.get, _payer_coverage(eligibility, clock), gate)
    booking = BookingService(directory_repo, appointments, rulebook, clock, new_id, audit, eligibility=recorder,
                             gate=gate, routing_guard=routing.check_visit, reads=MainTableReads(connection))
    reminders, confirmations, waitlist = _visit_followers(settings, clock, connection, directory_repo, appointments,
                                                          booking, gate, settings_cache.get, audit)
    # After commit, from the table stream (never inside the request): each follower on its own.
    followers = VisitFollowers({"confirmations": confirmations.on_change, "reminders": reminders.on_change,
                                "waitlist": waitlist.on_change, "eligibility": recorder.on_change},
                               appointment_from_image)
    routing.video_first = confirmations.video_first  # type: ignore[method-assign]
    attendance = AttendanceService(appointments, AttendanceRepository(), audit)
    video = VideoService(appointments, _video_rooms(settings), settings, clock, new_id, audit, booking,
                         media_region=choose_media_region, attendance=attendance)
    # The meeting ends with the visit: complete, cancel, no-show and a switch away from video close it.
    booking.on_visit_ended = video.visit_ended
    return Services(
        video=video,
        attendance=attendance,
        video_guests=VideoGuests(video, directory_repo),
        settings=settings,
        directory=DirectoryService(directory_repo, audit, new_id, redecide=booking.redecide_for_clinician),
        availability=availability,
        booking=booking,
        audit=audit,
        audit_log=AuditService(audit, settings.audit_chain_max_wait_seconds),
        stream=StreamDispatcher({"audit": [AuditChainer(audit).consume], "appointment": [followers.consume]}),
        rate_limiter=RateLimiter(clock, settings.rate_limits),
        licensure=LicensureService(directory_repo, rulebook, gate),
        eligibility=eligibility,
        clock=clock,
        tenant_settings=TenantSettingsService(tenant_settings, audit, rulebook, on_change=settings_cache.invalidate),
        routing=routing,
        reminders=reminders,
        confirmations=confirmations,
        waitlist=waitlist,
        visit_eligibility=recorder,
    )


def _visit_followers(settings: Settings, clock: Clock, connection: Any, directory: Any, appointments: Any,
                     booking: BookingService, gate: Any, settings_of: Any, audit: AuditTrail,
                     ) -> tuple[ReminderService, ConfirmationService, WaitlistService]:
    """Reminders, no-show tallies and the waitlist follow every committed visit change (the table stream's
    consumer, services/visit_followers.py, hands them each change)."""
    from .adapters.dynamo.reminders import ReminderRepository
    from .adapters.dynamo.waitlist import WaitlistRepository
    from .rules.bundle import rulebook
    from .services.confirmations import ConfirmationService
    from .services.reminders import ReminderService
    from .services.waitlist import WaitlistService

    sender = _notifier(settings)
    repo = ReminderRepository(connection)
    reminders = ReminderService(repo, appointments, directory, settings_of, rulebook, clock, sender, audit,
                                settings.link_signing_key, settings.link_base_url)
    confirmations = ConfirmationService(repo, appointments, booking, directory, settings_of, clock, audit,
                                        settings.link_signing_key, tell=reminders.tell)
    waitlist = WaitlistService(WaitlistRepository(connection), directory, appointments, booking, gate, rulebook,
                               settings_of, clock, new_id, audit, sender)
    return reminders, confirmations, waitlist


def _notifier(settings: Settings) -> Callable[[], Notifier]:
    """SNS and SES clients are made on the first message, not on every cold start."""
    made: list[Notifier] = []

    def get() -> Notifier:
        if not made:
            from .adapters.notify import Notifier

            made.append(Notifier(settings))
        return made[0]

    return get


def _events(settings: Settings) -> Callable[[], SnsEvents]:
    """The SNS client is made on the first escalation, not on every cold start."""
    made: list[SnsEvents] = []

    def get() -> SnsEvents:
        if not made:
            from .adapters.events import SnsEvents

            made.append(SnsEvents(settings))
        return made[0]

    return get


def _eligibility(settings: Settings, clock: Clock, directory: Any, audit: AuditTrail,
                 appointments: Any) -> tuple[EligibilityService, VisitEligibility]:
    """Eligibility is composed on first use, not in build(): most requests never ask a payer, and its
    modules (X12 codec, payer HTTP with ssl, repositories) would add ~60 ms to every cold start.
    The visit's eligibility (light: booking's billing terms, the stream consumer's follower, the pending
    worker) is made now and reaches the service through `get`, built once under a lock; the routes get a
    stand-in that forwards to the same service."""
    import threading
    from typing import cast

    from .adapters.dynamo.pending_checks import PendingCheckPointers
    from .services.eligibility.booking_hook import VisitEligibility

    lock = threading.Lock()
    made: list[EligibilityService] = []

    def get() -> EligibilityService:
        if not made:
            with lock:
                if not made:
                    from .adapters.dynamo.payers import EligibilityRepository, PayerRepository, Pseudonyms
                    from .adapters.dynamo.x12_control import ControlNumbers
                    from .adapters.payer_http import DnsResolver, UrlPolicy, X12HttpConnector
                    from .rules.bundle import rulebook
                    from .services.eligibility.service import EligibilityService

                    pseudonym = Pseudonyms(settings.eligibility.pseudonym_key)
                    url_policy = UrlPolicy(settings.is_local, DnsResolver(), settings.own_endpoints)
                    made.append(EligibilityService(
                        PayerRepository(pseudonym), EligibilityRepository(), directory, rulebook, clock, new_id,
                        audit, settings.eligibility, url_policy, pseudonym, http=X12HttpConnector(url_policy),
                        control_numbers=ControlNumbers(), on_settled=hook.settle))
        return made[0]

    hook = VisitEligibility(get, appointments, directory, PendingCheckPointers(), clock)

    class Deferred:
        def __getattr__(self, name: str) -> Any:
            return getattr(get(), name)

        def __setattr__(self, name: str, value: Any) -> None:
            setattr(get(), name, value)

    return cast("EligibilityService", Deferred()), hook


def _payer_coverage(eligibility: EligibilityService,
                    clock: Clock) -> Callable[[str, date], dict[Modality, bool | None]]:
    """A payer's telehealth coverage (its API configuration over the rules default), cached a minute."""
    from .services.ttl_cache import TtlCache

    def load(key: tuple[str, date]) -> dict[Modality, bool | None]:
        from .domain.model import Modality

        resolved = eligibility.resolve_payer(*key)
        if resolved is None:
            return {}
        terms = resolved.policy.terms
        return {Modality.VIDEO: terms.covered(Modality.VIDEO), Modality.PHONE: terms.covered(Modality.PHONE)}

    cache: TtlCache[tuple[str, date], dict[Modality, bool | None]] = TtlCache(load, timedelta(seconds=60), clock)
    return lambda payer_id, on: cache.get((payer_id, on))


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
        with _lock:
            if _services is None:
                built = build(Settings.from_env())
                _bind(built)
                _services = built
    return _services


def install(services: Services | None) -> None:
    """Tests and the local runtime put their own composition here (its process-wide clients with it);
    None drops everything, rebuilt from the environment on next use."""
    global _services
    if services is not None:
        _bind(services)
    _services = services


def _bind(services: Services) -> None:
    """PynamoDB keeps the table and endpoint on each model class: one binding per process, the active
    composition's. Installing the same composition again (a fixture per test) keeps the models' clients."""
    global _bound
    if _bound is not services:
        from .adapters.dynamo.binding import bind_models

        bind_models(services.settings)
        _bound = services
