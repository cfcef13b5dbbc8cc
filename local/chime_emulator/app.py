"""The WSGI app: rest-json requests in, rest-json responses (or model errors) out.

API requests are routed by the model's ``requestUri`` templates. They must carry a SigV4
``Authorization`` header whose credential scope names the model's signing name (``chime``);
its region is the *control region*: meetings and idempotency tokens are scoped to it, as in
the real service. Signatures themselves are not checked.

Admin routes under ``/_emulator`` (JSON in and out), for tests and ops:

- ``GET /_emulator/health`` -> ``{"status": "ok"}``
- ``GET /_emulator/state`` -> live and ended meetings (attendees without join tokens), faults
- ``POST /_emulator/reset`` -> forget every meeting and fault
- ``GET|POST|DELETE /_emulator/faults`` -> list / add / drop faults; add takes
  ``{"operation": "CreateMeeting" | "*", "error": "ThrottlingException", "count": 2,
  "message": ..., "delay_seconds": 0.5, "status": ..., "retry_after": ...}``
- ``POST /_emulator/meetings/{MeetingId}/attendees/{AttendeeId}/connect`` (or ``/disconnect``,
  ``/drop``) -> marks the attendee connected (or gone); a meeting with a connected attendee does
  not auto-end. Each change emits AttendeeJoined / AttendeeLeft / AttendeeDropped.
- ``GET /_emulator/events`` -> the recent meeting events, as EventBridge delivers them
- ``POST /_emulator/clock`` ``{"advance_seconds": n}`` -> moves a ManualClock (400 otherwise)
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from local.chime_emulator.backend import ChimeBackend, Fault
from local.chime_emulator.service_model import ChimeServiceError, bad_request

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/([^/]+)/aws4_request")

_ADMIN = Map(
    [
        Rule("/_emulator/health", endpoint="health", methods=["GET"]),
        Rule("/_emulator/state", endpoint="state", methods=["GET"]),
        Rule("/_emulator/reset", endpoint="reset", methods=["POST"]),
        Rule("/_emulator/faults", endpoint="faults", methods=["GET", "POST", "DELETE"]),
        Rule(
            "/_emulator/meetings/<meeting_id>/attendees/<attendee_id>/<any(connect, disconnect, drop):action>",
            endpoint="presence",
            methods=["POST"],
        ),
        Rule("/_emulator/clock", endpoint="clock", methods=["POST"]),
        Rule("/_emulator/events", endpoint="events", methods=["GET"]),
    ]
)


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=dict(headers or {}), content_type="application/json")


class ChimeEmulatorApp:
    def __init__(self, backend: ChimeBackend) -> None:
        self.backend = backend
        self.spec = backend.spec

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        response = self._admin(request) if request.path.startswith("/_emulator/") else self._api(request)
        return response(environ, start_response)

    # ---- the Chime SDK Meetings API --------------------------------------------------------
    def _api(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        try:
            return self._call(request, request_id)
        except ChimeServiceError as error:
            return self._error(error, request_id)
        except Exception as error:
            # An emulator bug: answer as the model's 500 so botocore parses it, and say so.
            log.exception("chime emulator failed on %s %s", request.method, request.path)
            return self._error(ChimeServiceError("ServiceFailureException", f"emulator bug: {error!r}"), request_id)

    def _call(self, request: Request, request_id: str) -> Response:
        args = {k: v for k, v in request.args.items()}
        found = self.spec.match(request.method, request.path, args)
        if found is None:
            raise ChimeServiceError(
                "UnknownOperationException", f"No operation for {request.method} {request.path}", status=404
            )
        route, labels = found
        control_region = self._control_region(request)
        self._apply_fault(self.backend.take_fault(route.operation))
        params = self.spec.parse_request(route.operation, labels, args, request.headers, self._body(request))
        output = self.backend.handle(route.operation, control_region, params)
        headers = {"x-amzn-RequestId": request_id}
        if route.status == 204:
            return Response(status=204, headers=headers)
        return _json(self.spec.shape_output(route.operation, output), route.status, headers)

    def _control_region(self, request: Request) -> str:
        scope = _CREDENTIAL_SCOPE.search(request.headers.get("Authorization", ""))
        if scope is None:
            raise ChimeServiceError("ForbiddenException", "Missing or malformed SigV4 Authorization header")
        region, service = scope.groups()
        signing_name = self.spec.metadata.get("signingName", self.spec.metadata["endpointPrefix"])
        if service != signing_name:
            raise ChimeServiceError(
                "ForbiddenException", f"Credential should be scoped to correct service: '{signing_name}'"
            )
        return region

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        raw = request.get_data()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise bad_request("The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object")
        return body

    @staticmethod
    def _apply_fault(fault: Fault | None) -> None:
        if fault is None:
            return
        if fault.delay_seconds:
            time.sleep(fault.delay_seconds)
        if fault.error is not None:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            raise ChimeServiceError(fault.error, fault.message, status=fault.status, headers=headers)

    def _error(self, error: ChimeServiceError, request_id: str) -> Response:
        status = error.status or self.spec.error_status.get(error.code, 500)
        headers = {"x-amzn-ErrorType": error.code, "x-amzn-RequestId": request_id, **error.headers}
        return _json(self.spec.error_body(error.code, error.message, request_id), status, headers)

    # ---- admin -------------------------------------------------------------------------------
    def _admin(self, request: Request) -> Response:
        try:
            endpoint, values = _ADMIN.bind_to_environ(request.environ).match()
            return self._admin_action(str(endpoint), request, values)
        except HTTPException as error:
            return _json({"error": error.description}, error.code or 500)
        except (ValueError, TypeError) as error:
            return _json({"error": str(error)}, 400)
        except LookupError as error:
            return _json({"error": str(error)}, 404)

    def _admin_action(self, endpoint: str, request: Request, values: Mapping[str, str]) -> Response:
        backend = self.backend
        if endpoint == "health":
            return _json({"status": "ok"})
        if endpoint == "state":
            return _json(backend.snapshot())
        if endpoint == "reset":
            backend.reset()
            return _json({"reset": True})
        if endpoint == "faults":
            return self._faults(request)
        if endpoint == "events":
            return _json({"events": list(backend.events)})
        if endpoint == "presence":
            change = {"connect": backend.connect_attendee, "disconnect": backend.disconnect_attendee,
                      "drop": backend.drop_attendee}[values["action"]]
            change(values["meeting_id"], values["attendee_id"])
            return _json({"connected": values["action"] == "connect"})
        now = backend.advance_clock(float(self._admin_body(request).get("advance_seconds", 0)))
        return _json({"now": now.isoformat()})

    def _faults(self, request: Request) -> Response:
        if request.method == "POST":
            body = self._admin_body(request)
            if "operation" not in body:
                raise ValueError("missing 'operation' (an operation name, or '*')")
            self.backend.inject_fault(
                str(body["operation"]),
                body.get("error", "ThrottlingException"),
                count=int(body.get("count", 1)),
                message=body.get("message"),
                delay_seconds=float(body.get("delay_seconds", 0.0)),
                status=body.get("status"),
                retry_after=body.get("retry_after"),
            )
            return _json({"faults": self.backend.faults()}, 201)
        if request.method == "DELETE":
            self.backend.clear_faults()
        return _json({"faults": self.backend.faults()})

    @staticmethod
    def _admin_body(request: Request) -> dict[str, Any]:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ValueError("expected a JSON object body")
        return body
