"""Which payer connector URLs the app may call (SSRF guard): the checks that need no DNS and no I/O.

A payer configures the URL its 270s are POSTed to, so the URL is attacker-controlled input that
makes our Lambda open a connection. Two layers refuse anything that is not a public payer endpoint:

1. ``check_connector_url`` (here, pure): the literal URL. Scheme ``https`` on deployed stages
   (``http`` or ``https`` on the local stage), no userinfo (``user:pass@``), a canonical host (a DNS
   name whose last label starts with a letter, or an IP literal: ``127.1``, ``2130706433`` and
   ``0x7f.0.0.1`` are refused because resolvers read them as loopback), no IPv6 zone id, a valid
   port. The local stage calls loopback only (``127.0.0.0/8``, ``::1``, ``localhost``).
2. ``address_refusal`` (here, pure) applied by the adapter to **every** address the host resolves
   to, at configuration time and again before each call (the connection is then pinned to the
   checked address, so DNS rebinding cannot swap it). Deployed stages refuse loopback, private
   (RFC 1918, IPv6 ULA ``fc00::/7``), link-local (``169.254.0.0/16`` with the instance metadata
   address, ``fe80::/10``), shared/CGNAT, multicast, reserved, unspecified, and anything else that
   is not globally routable, including IPv4 addresses embedded in IPv4-mapped, 6to4 and Teredo
   IPv6 addresses.

Redirects are never followed (adapters/payer_http.py), so a 3xx cannot lead anywhere unchecked.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import DomainError, FieldError

MAX_URL_LENGTH = 2048
METADATA_ADDRESSES = frozenset({"169.254.169.254", "fd00:ec2::254", "169.254.170.2"})
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_TLD = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")
FIELD = "connector.url"


class ConnectorUrlNotAllowed(DomainError):
    code = "CONNECTOR_URL_NOT_ALLOWED"
    status = 422
    title = "The connector URL is not allowed"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"The connector URL is refused: {message}.",
                         errors=[FieldError(FIELD, message)], extra={"reason": reason})
        self.reason = reason


@dataclass(frozen=True)
class ConnectorTarget:
    """A URL that passed the literal checks; ``host`` is lower case, without IPv6 brackets."""

    url: str
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    is_ip_literal: bool


def check_connector_url(url: str, *, local_stage: bool) -> ConnectorTarget:
    """The literal checks. Raises ConnectorUrlNotAllowed with a machine-readable ``reason``."""
    if not url or len(url) > MAX_URL_LENGTH or not url.isascii() or any(c.isspace() or ord(c) < 32 for c in url):
        raise ConnectorUrlNotAllowed("malformed", "must be an ASCII URL of at most 2048 characters, no spaces")
    try:
        parts = urlsplit(url)
        port_value = parts.port
    except ValueError as exc:
        raise ConnectorUrlNotAllowed("malformed", "is not a valid URL (host or port)") from exc
    scheme = parts.scheme.lower()
    allowed = ("http", "https") if local_stage else ("https",)
    if scheme not in allowed:
        raise ConnectorUrlNotAllowed("scheme", "must use https" if not local_stage
                                     else "must use http or https (local stage)")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise ConnectorUrlNotAllowed("userinfo", "must not carry a user name or password")
    host = (parts.hostname or "").lower()
    if not host:
        raise ConnectorUrlNotAllowed("malformed", "has no host")
    if "%" in host:
        raise ConnectorUrlNotAllowed("malformed", "must not carry an IPv6 zone id")
    if parts.fragment:
        raise ConnectorUrlNotAllowed("malformed", "must not carry a fragment")
    port = port_value or (443 if scheme == "https" else 80)
    if not 1 <= port <= 65535:
        raise ConnectorUrlNotAllowed("malformed", "has a port out of range")
    literal = _ip_literal(host)
    if literal is None:
        _check_dns_name(host, local_stage)
    else:
        reason = address_refusal(str(literal), local_stage=local_stage)
        if reason is not None:
            raise ConnectorUrlNotAllowed(reason, REASON_MESSAGES[reason])
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return ConnectorTarget(url=url, scheme=scheme, host=host, port=port, path=path, is_ip_literal=literal is not None)


REASON_MESSAGES = {
    "not_loopback": "the local stage calls loopback payers only (http://127.0.0.1:PORT or localhost)",
    "loopback": "points at a loopback address",
    "metadata": "points at a cloud instance metadata address",
    "link_local": "points at a link-local address",
    "private": "points at a private network address",
    "not_public": "points at an address that is not publicly routable",
    "internal_name": "names an internal or local-only host",
    "non_canonical_host": "names a host in a non-canonical numeric form",
    "unresolvable": "names a host that does not resolve",
    "own_service": "points at one of this runtime's own services (API, DynamoDB stand-in, Chime emulator)",
}


def own_service_refusal(target: ConnectorTarget, addresses: tuple[str, ...] | list[str],
                        own_endpoints: tuple[str, ...]) -> str | None:
    """The local stage runs its stand-ins on loopback ports: a payer URL may not reach any of them
    (moto's reset endpoint would wipe the whole local database, audit included)."""
    own_ports = set()
    for endpoint in own_endpoints:
        try:
            parts = urlsplit(endpoint)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            continue
        own_ports.add(port)
    if target.port not in own_ports:
        return None
    loopback = []
    for address in addresses:
        try:
            loopback.append(ipaddress.ip_address(address.split("%", 1)[0]).is_loopback)
        except ValueError:
            loopback.append(False)
    return "own_service" if any(loopback) else None


def address_refusal(address: str, *, local_stage: bool) -> str | None:
    """Why one resolved address may not be called, or None when it may."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not_public"
    candidates = [*_embedded_ipv4(ip), ip]  # the embedded IPv4 first: it names the real target
    if local_stage:
        return None if all(c.is_loopback for c in candidates) else "not_loopback"
    for candidate in candidates:
        reason = _deployed_refusal(candidate)
        if reason is not None:
            return reason
    return None


def _deployed_refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if str(ip) in METADATA_ADDRESSES:
        return "metadata"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link_local"
    if ip.is_private and not ip.is_unspecified and not ip.is_reserved:
        return "private"
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return "not_public"
    return None


def _embedded_ipv4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    found = [ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None]
    return [a for a in found if a is not None]


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _check_dns_name(host: str, local_stage: bool) -> None:
    name = host.rstrip(".")
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels) or not _TLD.match(labels[-1]):
        # "127.1", "2130706433", "0x7f000001": resolvers read these as IPv4 addresses.
        raise ConnectorUrlNotAllowed("non_canonical_host", REASON_MESSAGES["non_canonical_host"])
    is_localhost = name == "localhost" or name.endswith(".localhost")
    if local_stage:
        if not is_localhost:
            raise ConnectorUrlNotAllowed("not_loopback", REASON_MESSAGES["not_loopback"])
        return
    if is_localhost or name.endswith(_INTERNAL_SUFFIXES) or len(labels) < 2:
        raise ConnectorUrlNotAllowed("internal_name", REASON_MESSAGES["internal_name"])
