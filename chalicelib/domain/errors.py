"""Domain errors carry the public error code and HTTP status of API.md; never PHI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    code = "DOMAIN_ERROR"
    status = 400
    title = "Request refused"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None,
                 extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra or {}
        self.headers = headers or {}


def _error(name: str, code: str, status: int, title: str) -> type[DomainError]:
    return type(name, (DomainError,), {"code": code, "status": status, "title": title})


ValidationFailed = _error("ValidationFailed", "VALIDATION_ERROR", 400, "The request is not valid")
Unauthenticated = _error("Unauthenticated", "UNAUTHENTICATED", 401, "Authentication required")
Forbidden = _error("Forbidden", "FORBIDDEN", 403, "This role may not use this route")
NotFound = _error("NotFound", "NOT_FOUND", 404, "Not found")
SlotTaken = _error("SlotTaken", "SLOT_TAKEN", 409, "The clinician is already booked at that time")
PatientBusy = _error("PatientBusy", "PATIENT_BUSY", 409, "The patient already has an overlapping visit")
RoomUnavailable = _error("RoomUnavailable", "ROOM_UNAVAILABLE", 409, "No room is free at that site and time")
InvalidTransition = _error("InvalidTransition", "INVALID_TRANSITION", 409, "Not allowed in the current status")
Conflict = _error("Conflict", "CONFLICT", 409, "The resource changed; retry")
IdempotencyKeyReused = _error("IdempotencyKeyReused", "IDEMPOTENCY_KEY_REUSED", 409,
                              "Idempotency-Key was already used with a different request")
IdempotencyInProgress = _error("IdempotencyInProgress", "IDEMPOTENCY_IN_PROGRESS", 409,
                               "A request with this Idempotency-Key is still in progress")
JurisdictionMismatch = _error("JurisdictionMismatch", "JURISDICTION_MISMATCH", 409,
                              "The clinician may not practise where the patient is")
NotLicensed = _error("NotLicensed", "NOT_LICENSED_IN_JURISDICTION", 422,
                     "The clinician may not practise in the patient's jurisdiction")
ModalityNotOffered = _error("ModalityNotOffered", "MODALITY_NOT_OFFERED", 422,
                            "The modality is not offered for this clinician, site or service")
OutsideAvailability = _error("OutsideAvailability", "OUTSIDE_AVAILABILITY", 422,
                             "The requested time is outside the clinician's availability")
ServiceNotOffered = _error("ServiceNotOffered", "SERVICE_NOT_OFFERED", 422,
                           "The clinician's discipline may not deliver this service")
Unprocessable = _error("Unprocessable", "UNPROCESSABLE", 422, "The request cannot be carried out")
LocationNotConfirmed = _error("LocationNotConfirmed", "LOCATION_NOT_CONFIRMED", 409,
                              "The patient's location at visit time is not confirmed")
LicensureNeedsReview = _error("LicensureNeedsReview", "LICENSURE_NEEDS_REVIEW", 409,
                              "A licence this visit rested on changed; the visit must be re-decided")
VersionMismatch = _error("VersionMismatch", "VERSION_MISMATCH", 412, "The record changed since the version given")
# The day-limit ledger changed between our read and the write: re-decide with fresh counts.
PracticeDaysChanged = _error("PracticeDaysChanged", "CONFLICT", 409, "Temporary-practice days changed; retry")
# A cached directory record a booking was decided on is no longer the stored one: read again, decide again.
StaleRecords = _error("StaleRecords", "CONFLICT", 409, "A directory record changed while this request ran; retry")
TooManyRequests = _error("TooManyRequests", "RATE_LIMITED", 429, "Too many requests")
DependencyUnavailable = _error("DependencyUnavailable", "DEPENDENCY_UNAVAILABLE", 503,
                               "A service we depend on is unavailable; retry later")
# Chime throttled, failed or timed out past our retries, or a quota was hit: offer phone instead.
VideoUnavailable = _error("VideoUnavailable", "VIDEO_UNAVAILABLE", 503,
                          "Video cannot start right now; the visit can switch to phone")


@dataclass
class FieldErrors:
    """Collects every bad field so one 400 names them all."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, name: str, message: str) -> None:
        self.errors.append(FieldError(name, message))

    def raise_if_any(self) -> None:
        if self.errors:
            names = ", ".join(e.field for e in self.errors)
            raise ValidationFailed(f"Invalid fields: {names}", errors=self.errors)
