"""Eligibility is built on first use, not when a process starts: most requests never ask a payer.

bootstrap.build() takes two stand-ins from here, the service (for the routes) and booking's
recorder. The first use of either imports services/eligibility.py, the X12 and HTTP adapters and
their domain types, and builds the EligibilityService together with its AppointmentEligibility
(which must exist before a pending check can settle an appointment). ~60 ms a cold start without
eligibility does not pay.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from datetime import date

    from ..adapters.dynamo.appointments import AppointmentRepository
    from ..adapters.dynamo.directory import DirectoryRepository
    from ..domain.access import Caller
    from ..domain.billing import TelehealthPolicy
    from ..domain.eligibility_hook import EligibilityRecorder
    from ..domain.model import Appointment, Clinician, Patient
    from ..domain.ports import AuditTrail, Clock, IdFactory
    from ..domain.rulebook import RuleBook
    from ..settings import Settings
    from .eligibility import AppointmentEligibility, EligibilityService


class _Composition:
    def __init__(self, build: Callable[[], tuple[EligibilityService, AppointmentEligibility]]) -> None:
        self._build = build
        self._built: tuple[EligibilityService, AppointmentEligibility] | None = None
        self._lock = threading.Lock()

    def get(self) -> tuple[EligibilityService, AppointmentEligibility]:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = self._build()
        return self._built


class LazyEligibilityService:
    """Stands in for EligibilityService: attribute reads and writes go to the real one, built on first use."""

    def __init__(self, composition: _Composition) -> None:
        object.__setattr__(self, "_composition", composition)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._composition.get()[0], name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._composition.get()[0], name, value)


class LazyRecorder:
    def __init__(self, composition: _Composition) -> None:
        self._composition = composition

    def record(self, caller: Caller, appointment: Appointment, patient: Patient, clinician: Clinician,
               previous: Appointment | None = None) -> Appointment:
        return self._composition.get()[1].record(caller, appointment, patient, clinician, previous)

    def billing_policy(self, patient: Patient, on: date) -> TelehealthPolicy | None:
        if not patient.coverages:
            return None  # no payer: nothing to build
        return self._composition.get()[1].billing_policy(patient, on)


def wire_eligibility(settings: Settings, clock: Clock, new_id: IdFactory, directory: DirectoryRepository,
                     audit: AuditTrail, rules: Callable[[], RuleBook], appointments: AppointmentRepository
                     ) -> tuple[EligibilityService, EligibilityRecorder]:
    def build() -> tuple[EligibilityService, AppointmentEligibility]:
        from .eligibility import AppointmentEligibility, build_eligibility

        service = build_eligibility(settings, clock, new_id, directory, audit, rules)
        return service, AppointmentEligibility(service, appointments, clock, new_id)

    composition = _Composition(build)
    return cast("EligibilityService", LazyEligibilityService(composition)), LazyRecorder(composition)
