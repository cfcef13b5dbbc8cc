"""Reminders, the confirm/decline links in them, no-show counts, and the waitlist."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from ..bootstrap import get_services
from ..domain.model import Interval
from ..schemas.reminders import LinkActionIn, WaitlistIn
from .endpoint import Call, endpoint, ok
from .idempotency import idempotent
from .presenters import appointment_json, confirmation_json, reminder_json, waitlist_json

if TYPE_CHECKING:
    from ..services.waitlist import WaitlistRequest

reminders = Blueprint(__name__)
LINK_NOTE = ("No login: the signed, expiring, single-use token from the reminder's link authorizes this one action "
             "on this one appointment. A used, expired, forged or foreign token is 404.")


@endpoint(reminders, "GET", "/v1/appointments/{appointment_id}/reminders", response="ReminderList",
          summary="The appointment's reminders and their status, and whether the patient confirmed")
def list_reminders(call: Call, appointment_id: str) -> Response:
    items, confirmation = get_services().reminders.list(call.caller, appointment_id)
    return ok({"items": [reminder_json(r) for r in items],
               "confirmation": confirmation_json(confirmation)})


@endpoint(reminders, "POST", "/v1/appointments/{appointment_id}/confirm", body=LinkActionIn, response="LinkActionOut",
          errors=(409,), summary="Confirm from a reminder's link", description=LINK_NOTE)
def confirm(call: Call, appointment_id: str) -> Response:
    body = call.body(LinkActionIn)
    return ok(get_services().confirmations.act(appointment_id, body.token, "confirm"))


@endpoint(reminders, "POST", "/v1/appointments/{appointment_id}/decline", body=LinkActionIn, response="LinkActionOut",
          errors=(409,), summary="Decline from a reminder's link: cancels the visit and frees the slot",
          description=LINK_NOTE)
def decline(call: Call, appointment_id: str) -> Response:
    body = call.body(LinkActionIn)
    return ok(get_services().confirmations.act(appointment_id, body.token, "decline"))


@endpoint(reminders, "GET", "/v1/patients/{patient_id}/no-shows", response="NoShowsOut",
          summary="How often the patient missed a visit, and what the tenant's policy makes of it")
def no_shows(call: Call, patient_id: str) -> Response:
    return ok(get_services().confirmations.no_shows(call.caller, patient_id))


@endpoint(reminders, "POST", "/v1/waitlist", body=WaitlistIn, response="WaitlistOut", status=201, idempotency_key=True,
          errors=(404,), summary="Wait for an earlier slot: offered when a matching one frees up")
def create_entry(call: Call) -> Response:
    body = _waitlist_request(call.body(WaitlistIn))
    return idempotent(call, "POST /v1/waitlist",
                      lambda: (201, waitlist_json(get_services().waitlist.create(call.caller, body))))


@endpoint(reminders, "GET", "/v1/waitlist/{waitlist_id}", response="WaitlistOut", summary="A waitlist entry")
def get_entry(call: Call, waitlist_id: str) -> Response:
    return ok(waitlist_json(get_services().waitlist.get(call.caller, waitlist_id)))


@endpoint(reminders, "POST", "/v1/waitlist/{waitlist_id}/accept", response="WaitlistOut", errors=(409, 422),
          summary="Accept the offer: books the held slot through the normal booking path")
def accept_offer(call: Call, waitlist_id: str) -> Response:
    entry, booked = get_services().waitlist.accept(call.caller, waitlist_id)
    return ok({**waitlist_json(entry), "appointment": appointment_json(booked)})


@endpoint(reminders, "POST", "/v1/waitlist/{waitlist_id}/decline", response="WaitlistOut", errors=(409,),
          summary="Let the offer go: the slot passes to the next entry; this entry keeps waiting")
def decline_offer(call: Call, waitlist_id: str) -> Response:
    return ok(waitlist_json(get_services().waitlist.decline(call.caller, waitlist_id)))


@endpoint(reminders, "POST", "/v1/waitlist/{waitlist_id}/cancel", response="WaitlistOut", errors=(409,),
          summary="Leave the waitlist (an open offer passes to the next entry)")
def cancel_entry(call: Call, waitlist_id: str) -> Response:
    return ok(waitlist_json(get_services().waitlist.cancel(call.caller, waitlist_id)))


def _waitlist_request(body: WaitlistIn) -> WaitlistRequest:
    from ..services.waitlist import WaitlistRequest

    return WaitlistRequest(body.patient_id, body.service, tuple(body.modalities), Interval(body.window.from_,
                           body.window.to), body.patient_jurisdiction, body.clinician_id)
