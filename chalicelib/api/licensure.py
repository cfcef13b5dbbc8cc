"""POST /v1/licensure/checks."""

from __future__ import annotations

from chalice import Blueprint, Response

from ..bootstrap import get_services
from ..schemas.licensure import LicensureCheckIn
from .appointment_inputs import licensure_question
from .endpoint import Call, endpoint, ok
from .presenters import licensure_check_json

licensure = Blueprint(__name__)


@endpoint(licensure, "POST", "/v1/licensure/checks", body=LicensureCheckIn, response="LicensureCheckOut", errors=(404,),
          summary="May this clinician deliver this care to a patient in that jurisdiction on that date?")
def check_licensure(call: Call) -> Response:
    body = licensure_question(call.body(LicensureCheckIn))
    return ok(licensure_check_json(get_services().licensure.check(call.caller, body)))
