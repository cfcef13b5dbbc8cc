"""Signed links in reminders: one action (confirm or decline) on one appointment, until an expiry.

The token is `payload.signature`, both base64url; the payload names the tenant, the appointment, the
action, a random nonce and the expiry (epoch seconds); the signature is HMAC-SHA256 over the payload
with the stage's link key. Single use is not the token's business: the nonce is stored when the link
is issued and consumed by a conditional delete (services/confirmations.py). No PHI in a token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

ACTIONS = ("confirm", "decline")
MAX_TOKEN_CHARS = 512


@dataclass(frozen=True)
class LinkClaim:
    tenant_id: str
    appointment_id: str
    action: str
    nonce: str
    expires_at: datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(claim: LinkClaim, key: bytes) -> str:
    payload = _b64(json.dumps({"t": claim.tenant_id, "a": claim.appointment_id, "x": claim.action,
                               "n": claim.nonce, "e": int(claim.expires_at.timestamp())},
                              separators=(",", ":")).encode())
    return f"{payload}.{_b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())}"


def verify(token: object, key: bytes, now: datetime) -> LinkClaim | None:
    """The claim of a well-formed, authentic, unexpired token; None for anything else (no reason given)."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        return None
    payload, signature = token.split(".")
    try:
        expected = hmac.new(key, payload.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            return None
        data = json.loads(_unb64(payload))
        claim = LinkClaim(str(data["t"]), str(data["a"]), str(data["x"]), str(data["n"]),
                          datetime.fromtimestamp(int(data["e"]), UTC))
    except (ValueError, KeyError, TypeError):
        return None
    if claim.action not in ACTIONS or claim.expires_at <= now:
        return None
    return claim
