"""Sealed list cursors: the one place where every list's `next_cursor` is made and read back.

A cursor is the position after the last item of a page (a DynamoDB key, a slot key), encrypted and
authenticated with AES-GCM under the stage's cursor key. The associated data binds it to the
caller (tenant, sub, roles and id claims), the route template and the query's filters, and the
payload carries an expiry: a cursor is opaque (no key, no patient id readable), cannot be forged
or edited, and is refused (400, field `cursor`) when another caller, route or filter brings it
back or when it is stale.

The API layer opens a `CursorScope` for each request (api/endpoint.py); services keep calling
`encode_cursor` / `decode_cursor` without knowing who is asking.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..domain.errors import FieldError, ValidationFailed

_VERSION = b"\x01"
_NONCE = 12


@dataclass(frozen=True)
class CursorScope:
    key: str
    now: int  # epoch seconds, from the services' clock
    ttl_seconds: int
    binding: dict[str, Any] = field(default_factory=dict)

    def aad(self) -> bytes:
        return json.dumps(self.binding, sort_keys=True, separators=(",", ":")).encode()

    def cipher(self) -> Any:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if not self.key:
            raise RuntimeError("HCO_CURSOR_KEY is not set for this stage (HCO_CURSOR_KEY_SECRET_ARN names its secret)")

        return AESGCM(hashlib.sha256(b"hco-cursor\x00" + self.key.encode()).digest())


_scope: contextvars.ContextVar[CursorScope | None] = contextvars.ContextVar("cursor_scope", default=None)


@contextmanager
def cursor_scope(scope: CursorScope) -> Iterator[None]:
    token = _scope.set(scope)
    try:
        yield
    finally:
        _scope.reset(token)


def _current() -> CursorScope:
    scope = _scope.get()
    if scope is None:
        raise RuntimeError("cursors are sealed inside a request's cursor_scope")
    return scope


def encode_cursor(position: Any) -> str | None:
    if position is None:
        return None
    scope = _current()
    payload = json.dumps({"p": position, "exp": scope.now + scope.ttl_seconds}, separators=(",", ":"),
                         sort_keys=True).encode()
    nonce = os.urandom(_NONCE)
    sealed = _VERSION + nonce + scope.cipher().encrypt(nonce, payload, scope.aad())
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    """The position sealed in `cursor`, or a 400 naming `cursor` when it is not this caller's, fresh one."""
    if not cursor:
        return None
    scope = _current()
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise _refused() from None
    if len(raw) < 1 + _NONCE + 16 or raw[:1] != _VERSION:
        raise _refused()
    from cryptography.exceptions import InvalidTag

    try:
        payload = json.loads(scope.cipher().decrypt(raw[1:1 + _NONCE], raw[1 + _NONCE:], scope.aad()))
    except (InvalidTag, ValueError):
        raise _refused() from None
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int) or payload["exp"] < scope.now:
        raise _refused("has expired; start again from the first page")
    return payload.get("p")


def _refused(message: str = "is not a cursor issued to this caller for this list") -> Exception:
    return ValidationFailed("cursor is not valid", errors=[FieldError("cursor", message)])
