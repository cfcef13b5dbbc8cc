"""Opaque list cursors: base64url JSON, validated on the way back in."""

from __future__ import annotations

import base64
import json
from typing import Any

from ..domain.errors import FieldError, ValidationFailed


def encode_cursor(position: Any) -> str | None:
    if position is None:
        return None
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("cursor is not valid",
                               errors=[FieldError("cursor", "is not a cursor we issued")]) from exc

