"""A credential's standing on a date: the board's status (active, probation, suspended, ...) in force then.

A licence, compact privilege or DEA registration carries one status and the date it took effect.
Before `effective_from` a suspension has not begun (the credential stood as active), while an
`active` or `probation` record not yet in force grants nothing.
"""

from __future__ import annotations

from datetime import date

from .model import GRANTING_STATUSES

NOT_YET_EFFECTIVE = "not_yet_effective"


def standing(status: str, effective_from: date | None, on: date) -> str:
    if effective_from is not None and on < effective_from:
        return NOT_YET_EFFECTIVE if status in GRANTING_STATUSES else "active"
    return status


def grants(status: str, effective_from: date | None, on: date) -> bool:
    return standing(status, effective_from, on) in GRANTING_STATUSES


def refusal_code(prefix: str, status: str, effective_from: date | None, on: date) -> str | None:
    """`LICENSE_SUSPENDED`, `PRIVILEGE_REVOKED`, `DEA_REGISTRATION_NOT_YET_EFFECTIVE`, ... or None when it grants."""
    now = standing(status, effective_from, on)
    return None if now in GRANTING_STATUSES else f"{prefix}_{now.upper()}"


def on_probation(status: str, effective_from: date | None, on: date) -> bool:
    return standing(status, effective_from, on) == "probation"
