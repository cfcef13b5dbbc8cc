"""Availability search and the appointment lifecycle."""

from __future__ import annotations

from datetime import timedelta

from chalice import Blueprint, Response

from ..bootstrap import get_services
from ..domain.model import Interval
from ..schemas.appointments import BookingIn, CancelIn, CheckInIn, RescheduleIn, SwitchModalityIn
from ..schemas.queries import AppointmentListQuery, AvailabilityQuery
from . import appointment_inputs as inputs
from .endpoint import Call, endpoint, ok
from .idempotency import idempotent
from .presenters import appointment_json, slot_json

appointments = Blueprint(__name__)


@endpoint(appointments, "GET", "/v1/availability", query=AvailabilityQuery, response="SlotList", errors=(404, 429),
          summary="Bookable slots the clinician may lawfully deliver where the patient will be")
def search_availability(call: Call) -> Response:
    from ..services.availability import AvailabilitySearch  # the DynamoDB layer loads on first use

    get_services().rate_limiter.hit(call.caller, "availability")
    q = call.params(AvailabilityQuery)
    search = AvailabilitySearch(
        service=q.service, window=Interval(q.from_, q.to), patient_id=q.patient_id,
        patient_jurisdiction=q.patient_jurisdiction, modality=q.modality, clinician_id=q.clinician_id,
        limit=q.limit, cursor=q.cursor)
    options, next_cursor = get_services().availability.search(call.caller, search)
    return ok({"items": [slot_json(o.slot, o.licensure) for o in options], "next_cursor": next_cursor})


@endpoint(appointments, "POST", "/v1/appointments", body=BookingIn, response="AppointmentOut", status=201,
          idempotency_key=True, errors=(404, 409, 422, 429), summary="Book an appointment")
def book(call: Call) -> Response:
    get_services().rate_limiter.hit(call.caller, "booking")
    body = inputs.booking_request(call.body(BookingIn))
    return idempotent(call, "POST /v1/appointments",
                      lambda: (201, appointment_json(get_services().booking.book(call.caller, body))))


@endpoint(appointments, "GET", "/v1/appointments", query=AppointmentListQuery, response="AppointmentList",
          summary="List appointments of a clinician or a patient")
def list_appointments(call: Call) -> Response:
    q = call.params(AppointmentListQuery)
    start = q.from_ or get_services().clock() - timedelta(days=365)
    end = q.to or start + timedelta(days=3 * 365)
    items, next_cursor = get_services().booking.list(call.caller, q.clinician_id, q.patient_id, Interval(start, end),
                                                     q.limit, q.cursor, needs_review=q.needs_review)
    return ok({"items": [appointment_json(a) for a in items], "next_cursor": next_cursor})


@endpoint(appointments, "GET", "/v1/appointments/{appointment_id}", response="AppointmentOut",
          summary="Get an appointment")
def get_appointment(call: Call, appointment_id: str) -> Response:
    return ok(appointment_json(get_services().booking.get(call.caller, appointment_id)))


@endpoint(appointments, "POST", "/v1/appointments/{appointment_id}/cancel", body=CancelIn, response="AppointmentOut",
          errors=(409,), summary="Cancel an appointment")
def cancel(call: Call, appointment_id: str) -> Response:
    body = call.body(CancelIn)
    return ok(appointment_json(get_services().booking.cancel(call.caller, appointment_id, body.reason)))


@endpoint(appointments, "POST", "/v1/appointments/{appointment_id}/reschedule", body=RescheduleIn,
          response="AppointmentOut", errors=(409, 422, 429),
          summary="Move an appointment (the new time is held before the old is released)")
def reschedule(call: Call, appointment_id: str) -> Response:
    get_services().rate_limiter.hit(call.caller, "booking")
    body = inputs.reschedule(call.body(RescheduleIn))
    return ok(appointment_json(get_services().booking.reschedule(call.caller, appointment_id, body)))


@endpoint(appointments, "POST", "/v1/appointments/{appointment_id}/check-in", body=CheckInIn,
          response="AppointmentOut", errors=(409, 422), summary="Check in, stating where the patient is")
def check_in(call: Call, appointment_id: str) -> Response:
    body = inputs.stated_location(call.body(CheckInIn))
    return ok(appointment_json(get_services().booking.check_in(call.caller, appointment_id, body)))


@endpoint(appointments, "POST", "/v1/appointments/{appointment_id}/complete", response="AppointmentOut",
          errors=(409,), summary="Mark an appointment completed")
def complete(call: Call, appointment_id: str) -> Response:
    return ok(appointment_json(get_services().booking.complete(call.caller, appointment_id)))


@endpoint(appointments, "POST", "/v1/appointments/{appointment_id}/no-show", response="AppointmentOut",
          errors=(409,), summary="Mark an appointment as a no-show")
def no_show(call: Call, appointment_id: str) -> Response:
    return ok(appointment_json(get_services().booking.no_show(call.caller, appointment_id)))


@endpoint(appointments, "POST", "/v1/appointments/{appointment_id}/licensure/redecide", response="AppointmentOut",
          errors=(409,), summary="Decide a visit's licensure again on today's records (clears or keeps needs_review)")
def redecide(call: Call, appointment_id: str) -> Response:
    return ok(appointment_json(get_services().booking.redecide(call.caller, appointment_id)))


@endpoint(appointments, "POST", "/v1/appointments/{appointment_id}/switch-modality", body=SwitchModalityIn,
          response="AppointmentOut", errors=(409, 422), summary="Switch between in_person, video and phone")
def switch_modality(call: Call, appointment_id: str) -> Response:
    body = inputs.modality_switch(call.body(SwitchModalityIn))
    return ok(appointment_json(get_services().booking.switch_modality(call.caller, appointment_id, body)))
