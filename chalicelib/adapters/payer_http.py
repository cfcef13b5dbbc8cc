"""Talking to a payer over HTTP: the X12 connector (with its DNS-checked, pinned connection) and its URL policy.

One attempt per call; the service (services/eligibility/payer_calls.py) owns the time budget, the retries and
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
from dataclasses import dataclass
from typing import Protocol

from ..domain.connector_url import (
    REASON_MESSAGES,
    ConnectorTarget,
    ConnectorUrlNotAllowed,
    address_refusal,
    check_connector_url,
    own_service_refusal,
)
from ..domain.eligibility import PayerCallFailed

EDI_CONTENT_TYPE = "application/edi-x12"
MAX_271_BYTES = 256 * 1024
USER_AGENT = "hybrid-care-orchestrator/1 (X12 005010X279A1)"


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
