"""What booking needs from eligibility, and nothing more (booking imports this on every cold start).

Booking only asks for the payer's telehealth billing; the payer itself is asked after commit, by the
table stream's consumer (services/eligibility/booking_hook.VisitEligibility). The default does nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Protocol

from .billing import TelehealthPolicy
from .keyed_reads import KeyedRead, known
from .model import Appointment, Clinician, Patient

HISTORY_ACTION = "eligibility_checked"


class EligibilityRecorder(Protocol):
    """What booking asks of eligibility inside the request. It never raises and never calls a payer."""

    def status_read(self, appointment: Appointment, patient: Patient, clinician: Clinician) -> KeyedRead[str]:
        """What the booking answers before the payer is asked (after commit): a fresh cached answer's status,
        else `pending` with a coverage to check, `unknown` without one. A KeyedRead: the booking reads the
        cache entry together with its other keyed reads; answering it never raises."""
        ...

    def billing_policy(self, patient: Patient, on: date) -> TelehealthPolicy | None:
        """The telehealth billing (POS, modifiers) of the payer of the patient's first coverage, if configured."""
        ...

    def payer_read(self, patient: Patient) -> KeyedRead[None]:
        """The configuration of the patient's payer read into the process (no key when it is there already),
        so that billing, routing's coverage and a cached answer then use it without a call of their own.
        Answering it never raises (a payer not read is read later, by whoever needs it)."""
        ...


class NoEligibilityRecorder:
    """The default: booking works without any payer."""

    def status_read(self, appointment: Appointment, patient: Patient, clinician: Clinician) -> KeyedRead[str]:
        return known(status_before_asking(patient))

    def billing_policy(self, patient: Patient, on: date) -> TelehealthPolicy | None:
        return None

    def payer_read(self, patient: Patient) -> KeyedRead[None]:
        return known(None)


def status_before_asking(patient: Patient) -> str:
    """What a new visit answers before its payer is asked: pending when there is a coverage to check."""
    return "pending" if patient.coverages else "unknown"


def last_eligibility_event(history: tuple[Mapping[str, str], ...]) -> Mapping[str, str] | None:
    return next((e for e in reversed(history) if e.get("action") == HISTORY_ACTION), None)
