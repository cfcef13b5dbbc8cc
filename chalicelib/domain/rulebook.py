"""Rules as pure data, built from the validated files in scheduling_rules/."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .errors import FieldError, ValidationFailed
from .model import Discipline, Modality


@dataclass(frozen=True)
class ServiceDefinition:
    rule_id: str
    code: str
    name: str
    duration_minutes: int
    disciplines: frozenset[Discipline]
    modalities: frozenset[Modality]
    # X12 service type codes to ask a payer about, by discipline ("default" for the rest).
    service_type_codes: Mapping[str, tuple[str, ...]]
    source: str
    effective_from: date
    effective_to: date | None
    slot_step_minutes: int = 15

    def in_effect(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)

    def service_types_for(self, discipline: Discipline) -> tuple[str, ...]:
        return self.service_type_codes.get(discipline.value) or self.service_type_codes["default"]


@dataclass(frozen=True)
class RuleBook:
    version: str
    services: Mapping[str, ServiceDefinition]
    # Other rule kinds (jurisdictions, compacts, prescribing, payers, ...) keyed by kind.
    tables: Mapping[str, Any] = field(default_factory=dict)

    def service(self, code: str) -> ServiceDefinition | None:
        return self.services.get(code)

    def require_service(self, code: str) -> ServiceDefinition:
        """The one check of a requested service code (booking, availability, the waitlist, eligibility)."""
        service = self.services.get(code)
        if service is None:
            raise ValidationFailed("Unknown service", errors=[FieldError("service", "is not in the service catalog")])
        return service
