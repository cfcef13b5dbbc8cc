"""What booking needs from eligibility, and nothing more (booking imports this on every cold start).

The implementation is services/eligibility.AppointmentEligibility; the default does nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Protocol

from .access import Caller
from .billing import TelehealthPolicy
from .model import Appointment, Clinician, Patient

HISTORY_ACTION = "eligibility_checked"


class EligibilityRecorder(Protocol):
    """What booking calls after a visit is booked or changed. It never raises and never takes long."""

    def record(self, caller: Caller, appointment: Appointment, patient: Patient, clinician: Clinician,
               previous: Appointment | None = None) -> Appointment:
        """The appointment with its eligibility status (and the check id in its history) recorded."""
        ...

    def billing_policy(self, patient: Patient, on: date) -> TelehealthPolicy | None:
        """The telehealth billing (POS, modifiers) of the payer of the patient's first coverage, if configured."""
        ...


class NoEligibilityRecorder:
    """The default: booking works without any payer."""

    def record(self, caller: Caller, appointment: Appointment, patient: Patient, clinician: Clinician,
               previous: Appointment | None = None) -> Appointment:
        return appointment

    def billing_policy(self, patient: Patient, on: date) -> TelehealthPolicy | None:
        return None


def last_eligibility_event(history: tuple[Mapping[str, str], ...]) -> Mapping[str, str] | None:
    return next((e for e in reversed(history) if e.get("action") == HISTORY_ACTION), None)
