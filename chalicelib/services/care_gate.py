"""The one licensure decision every door takes: booking, reschedule, switch, check-in, video join and
admit, and the start and completion of a visit. Availability and the check endpoint use it too.

It decides for where care happens at that moment (domain/care.py), counts day-limited privileges
(PSYPACT TAP) from the ledger the booking transaction keeps, and applies the tenant's policy on
uncertain rules. A door that re-decides uses `require` and gets the same errors as booking.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from ..domain.care import CareDecision, CarePlace, PatientWhereabouts, care_place, decide_care
from ..domain.errors import JurisdictionMismatch, NotLicensed
from ..domain.keyed_reads import KeyedRead, known
from ..domain.model import Appointment, Clinician, Modality, Site
from ..domain.ports import PracticeDayCounts
from ..domain.practice_days import practice_day
from ..domain.rulebook import RuleBook
from ..domain.ruleref import reason_json
from ..domain.tenant_policy import TenantSettings


class SettingsSource(Protocol):
    def get(self, tenant: str) -> TenantSettings: ...

    def read(self, tenant: str) -> KeyedRead[None]:
        """The settings as part of a batched read that keeps them for `get` (nothing when kept already)."""
        ...


class DefaultSettings:
    """Settings for a gate built without a store (unit wiring): every tenant on the defaults."""

    def get(self, tenant: str) -> TenantSettings:
        return TenantSettings(tenant)

    def read(self, tenant: str) -> KeyedRead[None]:
        return known(None)


class CareGate:
    def __init__(self, ledger: PracticeDayCounts, rules: Callable[[], RuleBook], settings: SettingsSource) -> None:
        self.ledger = ledger
        self.rules = rules
        self.settings = settings

    def settings_read(self, tenant: str) -> KeyedRead[None]:
        """The tenant's settings (the policy on uncertain rules) read with a booking's other keyed reads."""
        return self.settings.read(tenant)

    def policy(self, tenant: str) -> str:
        return self.settings.get(tenant).licensure.uncertain_rules

    def place(self, modality: Modality, site: Site | None, whereabouts: PatientWhereabouts,
              clinician: Clinician) -> CarePlace:
        return care_place(modality, site, whereabouts, self.rules(), clinician.timezone)

    def decide(self, tenant: str, clinician: Clinician, modality: Modality, start: datetime, place: CarePlace, *,
               service: str | None, own: Appointment | None = None, policy: str | None = None) -> CareDecision:
        """`own`: the visit being re-decided; its own day in a ledger does not count against it."""
        rules = self.rules()
        uncertain_rules = policy if policy is not None else self.policy(tenant)
        first = decide_care(clinician, modality, start, place, rules, service=service, uncertain_rules=uncertain_rules)
        temporary = first.decision.temporary_practice
        if not first.decision.allowed or temporary is None:
            return first
        counts = dict(self.ledger.practice_day_counts(tenant, clinician.clinician_id, temporary.ledger, first.on.year))
        mine = practice_day(own)
        if mine is not None and mine.ledger == temporary.ledger and counts.get(mine.day, 0) > 0:
            counts[mine.day] -= 1
        used = len({d for d, n in counts.items() if n > 0} - {first.on})
        return decide_care(clinician, modality, start, place, rules, service=service, uncertain_rules=uncertain_rules,
                           temporary_days_used=used)

    def require(self, decided: CareDecision, *, mismatch: bool = False,
                alternatives: list[dict[str, Any]] | None = None) -> CareDecision:
        """Refuse as booking does (422), or as a door at visit time does (409 JURISDICTION_MISMATCH)."""
        d = decided.decision
        if d.allowed:
            return decided
        extra: dict[str, Any] = {"reasons": [reason_json(r) for r in d.reasons], "rules_version": d.rules_version,
                                 "care_jurisdiction": decided.place.jurisdiction}
        if mismatch:
            raise JurisdictionMismatch(
                f"The visit cannot go ahead as booked with care in {decided.place.jurisdiction}.",
                extra={**extra, "patient_jurisdiction": decided.place.jurisdiction,
                       "alternatives": alternatives or []})
        raise NotLicensed(f"The clinician may not practise in {decided.place.jurisdiction}, where this care "
                          "would happen.", extra=extra)
