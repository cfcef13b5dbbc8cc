"""What the services need from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from .access import Caller

Clock = Callable[[], datetime]
IdFactory = Callable[[str], str]


class AuditTrail(Protocol):
    def record(self, caller: Caller, action: str, resource: str, patient_id: str | None, outcome: str) -> None:
        """Append one entry; never raises for the caller's request to fail silently."""
