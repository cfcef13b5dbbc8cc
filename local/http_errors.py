"""The local server's own answers (no route, no such method, a bad request line) as problem+json.

Chalice's dev server answers an unknown route with a 403 that echoes the Authorization header
(bearer token included), an unsupported method on a known route with its own JSON, and a method
that http.server has no handler for (TRACE, CONNECT, anything else) with a 501 HTML page that
repeats the method. Here every one of them is a problem+json 404 or 405 that echoes nothing the
client sent. The access log line carries the route template, never the raw path (ids in a path,
such as a member id, are PHI).

Like API Gateway, every request gets an id: the event's `requestContext.requestId` (audit entries and
request metrics carry it, as deployed) and the `x-amzn-RequestId` response header a caller can quote.
Chalice's dev server sets neither.
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

from chalice.local import ForbiddenError, LocalGatewayException

from chalicelib.api.problems import PROBLEM_JSON, framework_problem


def problem_body(status: int) -> bytes:
    """The same body the deployed app gives for the framework's own refusals (api/problems.py)."""
    return str(framework_problem(status).body).encode()


def problem_handler(base: type, *, quiet: bool = False) -> type:
    """A subclass of Chalice's request handler class (a partial of it) with problem+json errors."""
    handler_class = base.func if hasattr(base, "func") else base
    args, keywords = (base.args, base.keywords) if hasattr(base, "func") else ((), {})

    class ProblemHandler(handler_class):  # type: ignore[misc, valid-type]
        _request_id = ""

        def _generic_handle(self) -> None:
            self._request_id = str(uuid.uuid4())
            gateway = self.local_gateway  # this connection's own: wrap it once, for every request it carries
            if "_generate_lambda_event" not in vars(gateway):
                generate = gateway._generate_lambda_event

                def with_request_id(*args: Any, **kwargs: Any) -> Any:
                    event = generate(*args, **kwargs)
                    event["requestContext"]["requestId"] = self._request_id
                    return event

                gateway._generate_lambda_event = with_request_id
            try:
                super()._generic_handle()
            finally:
                self._request_id = ""  # the next request on this connection gets its own

        # Chalice binds these to its own _generic_handle when it defines the class.
        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

        def send_response(self, code: int, message: str | None = None) -> None:
            super().send_response(code, message)
            self.send_header("x-amzn-RequestId", self._request_id or str(uuid.uuid4()))

        def _send_error_response(self, error: LocalGatewayException) -> None:
            # Route not found is a ForbiddenError in Chalice's gateway (it mimics API Gateway's 403).
            status = 404 if isinstance(error, ForbiddenError) else error.CODE
            self._send_problem(status)

        def _send_http_response(self, code: int, headers: dict[str, Any], body: Any) -> None:
            if code == 405:
                self._send_problem(405, allow=headers.get("Allow"))
                return
            super()._send_http_response(code, headers, body)

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            # http.server's own errors: 501 for a method it has no do_* for is a 405 here.
            self._send_problem(405 if code == 501 else code)

        def _send_problem(self, status: int, allow: str | None = None) -> None:
            body = problem_body(status)
            self.send_response(status)
            self.send_header("Content-Type", PROBLEM_JSON)
            self.send_header("Content-Length", str(len(body)))
            if allow:
                self.send_header("Allow", allow)
            # A refused request's body may be unread: the connection cannot carry another request.
            self.send_header("Connection", "close")
            self.close_connection = True
            self.end_headers()
            if getattr(self, "command", None) != "HEAD":
                self.wfile.write(body)

        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            if not quiet:
                sys.stderr.write(f"{self.log_date_time_string()} {getattr(self, 'command', '-')} "
                                 f"{self._template()} {code}\n")

        def log_message(self, format: str, *args: Any) -> None:
            # http.server's messages quote the request line (the raw path): only the route template is logged.
            if not quiet:
                sys.stderr.write(f"{self.log_date_time_string()} {self._template()} refused\n")

        def _template(self) -> str:
            path = (getattr(self, "path", "") or "").split("?", 1)[0]
            try:
                return str(self.local_gateway.event_converter._route_matcher.match_route(path).route)
            except Exception:
                return "<no route>"

        def do_TRACE(self) -> None:
            self._send_problem(405)

        do_CONNECT = do_TRACE

    if hasattr(base, "func"):
        import functools

        return functools.partial(ProblemHandler, *args, **keywords)  # type: ignore[return-value]
    return ProblemHandler
