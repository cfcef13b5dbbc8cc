"""Request bodies of the appointment routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..domain.model import Modality
from .common import Body, Id, Jurisdiction, Phone, ShortText, TimeZoneName, UtcDatetime

LocationType = Literal["home", "other"]


class BookingIn(Body):
    patient_id: Id
    clinician_id: Id
    service: Annotated[str, Field(pattern=r"^[0-9A-Z]{5}$")]
    start: UtcDatetime
    modality: Modality
    site_id: Id | None = None
    patient_jurisdiction: Jurisdiction | None = None
    patient_location_type: LocationType | None = Field(
        default=None, description="Where the patient is for a telehealth visit: home (POS 10) or other (POS 02).")


class CancelIn(Body):
    reason: Annotated[ShortText, Field(min_length=0)] | None = None


class RescheduleIn(Body):
    start: UtcDatetime
    modality: Modality | None = None
    site_id: Id | None = None


class CheckInAddressIn(Body):
    line1: ShortText | None = None
    city: ShortText | None = None
    postal_code: ShortText | None = None
    timezone: TimeZoneName | None = Field(
        default=None, description="The patient's IANA zone when their device knows it; picks the zone of care in "
                                  "a jurisdiction that spans several")


class CheckInIn(Body):
    patient_jurisdiction: Jurisdiction
    address: CheckInAddressIn | None = None
    callback_phone: Phone | None = None
    patient_location_type: LocationType | None = None


class VideoJoinIn(Body):
    """The patient's join confirms where they are now (as check-in does); a clinician sends no body."""

    patient_jurisdiction: Jurisdiction | None = None
    callback_phone: Phone | None = None
    address: CheckInAddressIn | None = None
    patient_location_type: LocationType | None = None


class SwitchModalityIn(Body):
    modality: Modality
    reason: ShortText | None = None
    site_id: Id | None = None


class EmptyIn(Body):
    pass
