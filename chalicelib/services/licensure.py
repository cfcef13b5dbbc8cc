"""Licensure checks on demand: may this clinician see a patient there, that way, that day?"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from ..domain.access import Caller
from ..domain.errors import NotFound
from ..domain.licensure import LicensureDecision, apply_uncertainty_policy, licensure_decision
from ..domain.model import Modality
from ..domain.ports import DirectoryReader
from ..domain.rulebook import RuleBook
from .care_gate import CareGate


@dataclass(frozen=True)
class Prescribing:
    controlled_substance_schedule: str | None = None
    oud_medication: bool = False
    prior_in_person_evaluation: bool = False


@dataclass(frozen=True)
class LicensureQuestion:
    """May this clinician deliver this care to a patient in that jurisdiction on that date?"""

    clinician_id: str
    patient_jurisdiction: str
    modality: Modality
    date: date
    service: str | None = None
    prescribing: Prescribing | None = None
    temporary_days_used: int | None = None


class LicensureService:
    def __init__(self, directory: DirectoryReader, rules: Callable[[], RuleBook],
                 gate: CareGate | None = None) -> None:
        self.directory = directory
        self.rules = rules
        self.gate = gate

    def check(self, caller: Caller, body: LicensureQuestion) -> LicensureDecision:
        if not caller.tenant_wide and caller.clinician_id != body.clinician_id:
            raise NotFound("No such clinician.")  # a clinician checks only themself
        clinician = self.directory.get_clinician(caller.tenant_id, body.clinician_id)
        if clinician is None:
            raise NotFound("No such clinician.")
        p = body.prescribing
        # The tenant's policy on uncertain rules applies here as at every door, so the check never
        # allows what booking would refuse.
        policy = self.gate.policy(caller.tenant_id) if self.gate is not None else "warn"
        return apply_uncertainty_policy(licensure_decision(
            clinician, body.patient_jurisdiction, body.modality, body.date, self.rules(), service=body.service,
            controlled_substance_schedule=p.controlled_substance_schedule if p else None,
            oud_medication=p.oud_medication if p else False,
            prior_in_person_evaluation=p.prior_in_person_evaluation if p else False,
            temporary_days_used=body.temporary_days_used), policy)
