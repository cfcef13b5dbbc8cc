"""Availability search and the appointment lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalice import Blueprint, Response

from ..bootstrap import get_services
from ..domain.model import Interval
from ..schemas.appointments import BookingIn, CancelIn, CheckInIn, RescheduleIn, SwitchModalityIn
from ..services.availability import AvailabilitySearch
from .idempotency import idempotent
from .presenters import appointment_json, slot_json
from .query import Query
from .routing import Call, endpoint, ok

appointments = Blueprint(__name__)
ID = r"[A-Za-z0-9_-]{1,64}"
SERVICE = r"[0-9A-Z]{5}"
JURISDICTION = r"(US|CA)-[A-Z]{2}"


@endpoint(appointments, "GET", "/v1/availability")
def search_availability(call: Call) -> Response:
    q = Query(call.query)
    search = AvailabilitySearch(
        service=q.text("service", required=True, pattern=SERVICE) or "",
        window=Interval(q.moment("from", required=True) or datetime.min.replace(tzinfo=UTC),
                        q.moment("to", required=True) or datetime.min.replace(tzinfo=UTC)),
        patient_id=q.text("patient_id", pattern=ID),
        patient_jurisdiction=q.text("patient_jurisdiction", pattern=JURISDICTION),
        modality=q.modality("modality"),
        clinician_id=q.text("clinician_id", pattern=ID),
        limit=q.limit(), cursor=q.text("cursor"))
    q.done()
    options, next_cursor = get_services().availability.search(call.caller, search)
    return ok({"items": [slot_json(o.slot, o.licensure) for o in options], "next_cursor": next_cursor})


@endpoint(appointments, "POST", "/v1/appointments")
def book(call: Call) -> Response:
    body = call.body(BookingIn)
    return idempotent(call, "POST /v1/appointments",
                      lambda: (201, appointment_json(get_services().booking.book(call.caller, body))))


@endpoint(appointments, "GET", "/v1/appointments")
def list_appointments(call: Call) -> Response:
    q = Query(call.query)
    start = q.moment("from") or get_services().clock() - timedelta(days=365)
    end = q.moment("to") or start + timedelta(days=3 * 365)
    clinician_id = q.text("clinician_id", pattern=ID)
    patient_id = q.text("patient_id", pattern=ID)
    limit = q.limit()
    cursor = q.text("cursor")
    q.done()
    items, next_cursor = get_services().booking.list(call.caller, clinician_id, patient_id, Interval(start, end),
                                                     limit, cursor)
    return ok({"items": [appointment_json(a) for a in items], "next_cursor": next_cursor})


@endpoint(appointments, "GET", "/v1/appointments/{appointment_id}")
def get_appointment(call: Call, appointment_id: str) -> Response:
    return ok(appointment_json(get_services().booking.get(call.caller, appointment_id)))


@endpoint(appointments, "POST", "/v1/appointments/{appointment_id}/cancel")
def cancel(call: Call, appointment_id: str) -> Response:
    body = call.body(CancelIn)
    return ok(appointment_json(get_services().booking.cancel(call.caller, appointment_id, body.reason)))


@endpoint(appointments, "POST", "/v1/appointments/{appointment_id}/reschedule")
def reschedule(call: Call, appointment_id: str) -> Response:
    body = call.body(RescheduleIn)
    return ok(appointment_json(get_services().booking.reschedule(call.caller, appointment_id, body)))


@endpoint(appointments, "POST", "/v1/appointments/{appointment_id}/check-in")
def check_in(call: Call, appointment_id: str) -> Response:
    body = call.body(CheckInIn)
    return ok(appointment_json(get_services().booking.check_in(call.caller, appointment_id, body)))


@endpoint(appointments, "POST", "/v1/appointments/{appointment_id}/complete")
def complete(call: Call, appointment_id: str) -> Response:
    return ok(appointment_json(get_services().booking.complete(call.caller, appointment_id)))


@endpoint(appointments, "POST", "/v1/appointments/{appointment_id}/no-show")
def no_show(call: Call, appointment_id: str) -> Response:
    return ok(appointment_json(get_services().booking.no_show(call.caller, appointment_id)))


@endpoint(appointments, "POST", "/v1/appointments/{appointment_id}/switch-modality")
def switch_modality(call: Call, appointment_id: str) -> Response:
    body = call.body(SwitchModalityIn)
    return ok(appointment_json(get_services().booking.switch_modality(call.caller, appointment_id, body)))
