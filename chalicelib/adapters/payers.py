"""Talking to payers: the X12 HTTP connector (with its DNS-checked, pinned connection) and the roster.

One attempt per call; the service (services/eligibility.py) owns the time budget, the retries and
the backoff. Every failure is a ``PayerCallFailed`` with a short code (no PHI, no payer text):

| code        | when                                                     | retryable |
|-------------|----------------------------------------------------------|-----------|
| timeout     | connect or read took longer than the attempt's timeout   | yes       |
| network     | connection refused / reset, TLS failure                  | yes       |
| http_5xx    | the payer answered 500-599 (e.g. http_503)               | yes       |
| http_429    | the payer throttled us                                   | yes       |
| http_4xx    | any other non-200 (e.g. http_400, http_415); 3xx too     | no        |
| too_large   | the 271 is larger than MAX_271_BYTES                     | no        |

Redirects are never followed. The connection goes to the address that was resolved and checked
(``address_refusal``), with the host name kept for the Host header, SNI and certificate checks.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Protocol

from ..domain.connector_url import (
    REASON_MESSAGES,
    ConnectorTarget,
    ConnectorUrlNotAllowed,
    address_refusal,
    check_connector_url,
    own_service_refusal,
)
from ..domain.eligibility import RosterMember

if TYPE_CHECKING:
    from ..x12.envelope import Envelope, EnvelopeInfo
    from ..x12.inquiry import EligibilityInquiry
    from ..x12.response import EligibilityResponse

EDI_CONTENT_TYPE = "application/edi-x12"
MAX_271_BYTES = 256 * 1024
USER_AGENT = "hybrid-care-orchestrator/1 (X12 005010X279A1)"


class PayerCallFailed(Exception):
    def __init__(self, code: str, retryable: bool) -> None:
        super().__init__(code)
        self.code = code
        self.retryable = retryable


# --- DNS and the URL policy ------------------------------------------------------------------------

class Resolver(Protocol):
    def resolve(self, host: str, port: int) -> list[str]:
        """Every address the host resolves to; an empty list when it does not resolve."""
        ...


class DnsResolver:
    def resolve(self, host: str, port: int) -> list[str]:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            return []
        return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True)
class VettedTarget:
    target: ConnectorTarget
    addresses: tuple[str, ...]  # every one checked; the connection uses the first


@dataclass(frozen=True)
class UrlPolicy:
    """The literal checks (domain) plus a check of every resolved address (here)."""

    local_stage: bool
    resolver: Resolver
    own_endpoints: tuple[str, ...] = ()  # the runtime's own services (local stage): never a payer

    def vet(self, url: str) -> VettedTarget:
        target = check_connector_url(url, local_stage=self.local_stage)
        addresses = [target.host] if target.is_ip_literal else self.resolver.resolve(target.host, target.port)
        if not addresses:
            raise ConnectorUrlNotAllowed("unresolvable", REASON_MESSAGES["unresolvable"])
        if own_service_refusal(target, addresses, self.own_endpoints) is not None:
            raise ConnectorUrlNotAllowed("own_service", REASON_MESSAGES["own_service"])
        for address in addresses:
            reason = address_refusal(address, local_stage=self.local_stage)
            if reason is not None:
                raise ConnectorUrlNotAllowed(reason, REASON_MESSAGES[reason] + " (after DNS resolution)")
        return VettedTarget(target, tuple(addresses))


# --- the X12 HTTP connector --------------------------------------------------------------------------

class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class X12HttpConnector:
    """POST a 270 (Content-Type: application/edi-x12) and read the 271 from the response body."""

    def __init__(self, policy: UrlPolicy, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.monotonic = monotonic

    def exchange(self, url: str, x12_270: str, timeout: float) -> str:
        """One attempt, at most ``timeout`` seconds from connect to the last byte of the 271."""
        vetted = self.policy.vet(url)  # again before every call: DNS may have changed since the PUT
        target = vetted.target
        deadline = self.monotonic() + timeout
        cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        connection = cls(target.host, target.port, vetted.addresses[0], timeout)
        payload = x12_270.encode("utf-8")
        try:
            connection.request("POST", target.path, body=payload, headers={
                "Content-Type": EDI_CONTENT_TYPE, "Accept": EDI_CONTENT_TYPE, "User-Agent": USER_AGENT,
                "Content-Length": str(len(payload))})
            if connection.sock is not None:
                connection.sock.settimeout(max(deadline - self.monotonic(), 0.001))
            response = connection.getresponse()
            status = response.status
            if status != 200:
                raise _status_failure(status)
            body = self._read(connection, response, deadline)
        except PayerCallFailed:
            raise
        except TimeoutError as exc:
            raise PayerCallFailed("timeout", True) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise PayerCallFailed("network", True) from exc
        finally:
            connection.close()
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PayerCallFailed("not_utf8", False) from exc

    def _read(self, connection: http.client.HTTPConnection, response: http.client.HTTPResponse,
              deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            remaining = deadline - self.monotonic()
            if remaining <= 0:
                raise PayerCallFailed("timeout", True)
            if connection.sock is not None:
                connection.sock.settimeout(remaining)  # a payer that drips bytes is still cut off
            chunk = response.read(64 * 1024) if not response.isclosed() else b""
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_271_BYTES:
                raise PayerCallFailed("too_large", False)
            chunks.append(chunk)


def _status_failure(status: int) -> PayerCallFailed:
    if 500 <= status <= 599:
        return PayerCallFailed(f"http_{status}", True)
    if status in (408, 429):
        return PayerCallFailed(f"http_{status}", True)
    return PayerCallFailed(f"http_{status}", False)


# --- the roster connector ---------------------------------------------------------------------------

GENERIC_SERVICE_TYPE = "30"


class RosterLookup(Protocol):
    def get_member(self, payer_id: str, member_id: str) -> RosterMember | None: ...


class RosterConnector:
    """Answers a 270 from the members a payer uploaded, as a real 271 (so one reader serves both).

    The same matching as a clearinghouse: provider NPI check digit (AAA 43), subscriber birth
    date present (58), member id (75), last name (73), birth date (71); a dependent is not on a
    roster (67). Inactive on the date of service: EB*6. Active: EB*1 for 30 and the asked types,
    then per asked type copay (B/27), coinsurance (A/27), deductible and out-of-pocket remaining
    (C/29, G/29), all in-network rows (EB12 = Y).
    """

    def __init__(self, roster: RosterLookup) -> None:
        self.roster = roster

    def respond(self, payer_id: str, inquiry: EligibilityInquiry) -> EligibilityResponse:
        from ..x12.inquiry import is_valid_npi
        from ..x12.response import AaaError, BenefitRow, DateInfo, EligibilityResponse

        if not is_valid_npi(inquiry.provider_npi):
            return EligibilityResponse(inquiry, information_receiver_errors=(
                AaaError("43", "C", valid_request=False, level="information_receiver"),))
        if inquiry.dependent is None and inquiry.birth_date is None:
            return EligibilityResponse(inquiry, subscriber_errors=(AaaError("58", "C", valid_request=False),))
        member = self.roster.get_member(payer_id, inquiry.member_id)
        if member is None:
            return EligibilityResponse(inquiry, subscriber_errors=(AaaError("75", "C"),))
        if member.last_name.upper() != inquiry.last_name.upper():
            return EligibilityResponse(inquiry, subscriber_errors=(AaaError("73", "C", valid_request=False),))
        if inquiry.dependent is not None:
            return EligibilityResponse(inquiry, dependent_errors=(AaaError("67", "C", level="dependent"),))
        if inquiry.birth_date != member.birth_date:
            return EligibilityResponse(inquiry, subscriber_errors=(AaaError("71", "C"),))
        dates = (DateInfo("346", member.active_from),
                 *((DateInfo("347", member.active_to),) if member.active_to else ()))
        plan = (member.plan_name or "")[:50] or None
        if not member.active_on(inquiry.date_of_service):
            return EligibilityResponse(inquiry, dates=dates, benefits=(
                BenefitRow("6", "IND", (GENERIC_SERVICE_TYPE,), plan_coverage=plan),))
        asked = tuple(dict.fromkeys(inquiry.service_type_codes))
        rows = [BenefitRow("1", "IND", tuple(dict.fromkeys((GENERIC_SERVICE_TYPE, *asked))), plan_coverage=plan)]
        b = member.benefits
        for code in asked:
            for eb, period, attr, value in (("B", "27", "amount", b.copay), ("A", "27", "percent", b.coinsurance),
                                            ("C", "29", "amount", b.deductible_remaining),
                                            ("G", "29", "amount", b.out_of_pocket_remaining)):
                number = _decimal(value)
                if number is not None:
                    rows.append(replace(BenefitRow(eb, "IND", (code,), time_period=period, in_plan_network="Y"),
                                        **{attr: number}))
        return EligibilityResponse(inquiry, dates=dates, benefits=tuple(rows))

    def exchange(self, payer_id: str, x12_270: str, envelope_for: Callable[[EnvelopeInfo], Envelope],
                 today: date) -> str:
        """A 270 in, a 271 out; ``envelope_for(the 270's envelope)`` gives the reply envelope."""
        from ..x12.read_270 import parse_270
        from ..x12.write_271 import write_271

        parsed = parse_270(x12_270, default_date_of_service=today)
        return write_271(self.respond(payer_id, parsed.inquiry), envelope_for(parsed.envelope))


def _decimal(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None
