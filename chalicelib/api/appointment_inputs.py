"""Request models of the appointment, video and licensure routes -> the services' plain inputs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..schemas.appointments import BookingIn, CheckInAddressIn, CheckInIn, RescheduleIn, SwitchModalityIn, VideoJoinIn
from ..schemas.licensure import LicensureCheckIn

# The services load on the first request that needs them, not at `import app` (the cold start).
if TYPE_CHECKING:
    from ..services.booking import BookingRequest, ModalitySwitch, Reschedule, StatedAddress, StatedLocation
    from ..services.licensure import LicensureQuestion


def booking_request(body: BookingIn) -> BookingRequest:
    from ..services.booking import BookingRequest

    return BookingRequest(body.patient_id, body.clinician_id, body.service, body.start, body.modality, body.site_id,
                          body.patient_jurisdiction, body.patient_location_type)


def reschedule(body: RescheduleIn) -> Reschedule:
    from ..services.booking import Reschedule

    return Reschedule(body.start, body.modality, body.site_id)


def modality_switch(body: SwitchModalityIn) -> ModalitySwitch:
    from ..services.booking import ModalitySwitch

    return ModalitySwitch(body.modality, body.reason, body.site_id)


def stated_location(body: CheckInIn) -> StatedLocation:
    from ..services.booking import StatedLocation

    return StatedLocation(body.patient_jurisdiction, _address(body.address), body.callback_phone,
                          body.patient_location_type)


def join_location(body: VideoJoinIn | None) -> StatedLocation | None:
    """A patient's join states where they are (as check-in does); a clinician's join sends nothing."""
    from ..services.booking import StatedLocation

    if body is None or body.patient_jurisdiction is None:
        return None
    return StatedLocation(body.patient_jurisdiction, _address(body.address), body.callback_phone,
                          body.patient_location_type)


def licensure_question(body: LicensureCheckIn) -> LicensureQuestion:
    from ..services.licensure import LicensureQuestion, Prescribing

    p = body.prescribing
    return LicensureQuestion(
        body.clinician_id, body.patient_jurisdiction, body.modality, body.date, body.service,
        Prescribing(p.controlled_substance_schedule, p.oud_medication, p.prior_in_person_evaluation) if p else None,
        body.temporary_days_used)


def _address(a: CheckInAddressIn | None) -> StatedAddress | None:
    from ..services.booking import StatedAddress

    return StatedAddress(a.line1, a.city, a.postal_code, a.timezone) if a is not None else None
