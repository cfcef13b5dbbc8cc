"""Prescribing controlled substances to the patient where they are, by telemedicine or in person.

All dates live in scheduling_rules/prescribing.yaml. When DEA extends the telemedicine
flexibilities again, ops extend `effective_to` (or add a rule) there; nothing here changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .model import Clinician, Modality
from .ruleref import Condition, Reason, RuleRef, condition_reasons, reason
from .standing import grants, refusal_code

PRESCRIBING = "prescribing"  # RuleBook.tables key
SCHEDULES = ("II", "III", "IV", "V")  # Schedule I has no accepted medical use: never prescribed


class Effect(StrEnum):
    PERMIT_TELEMEDICINE = "permit_telemedicine"
    REQUIRE_PRIOR_IN_PERSON_EVALUATION = "require_prior_in_person_evaluation"
    REQUIRE_DEA_REGISTRATION_IN_PATIENT_STATE = "require_dea_registration_in_patient_state"


@dataclass(frozen=True)
class PrescribingRule:
    effect: Effect
    in_force: bool  # False: a proposal, cited to explain a denial, never applied
    schedules: frozenset[str]
    modalities: frozenset[Modality]  # empty: every modality
    medication: str  # "any", or "oud" (FDA-approved opioid-use-disorder medications only)
    conditions: tuple[Condition, ...]
    rule: RuleRef

    def covers(self, schedule: str, modality: Modality, on: date, *, oud_medication: bool) -> bool:
        return (self.rule.in_effect(on) and schedule in self.schedules
                and (not self.modalities or modality in self.modalities)
                and (self.medication == "any" or oud_medication))


@dataclass(frozen=True)
class PrescribingTable:
    rules: tuple[PrescribingRule, ...]

    def applicable(self, effect: Effect, schedule: str, modality: Modality, on: date, *,
                   oud_medication: bool, in_force: bool = True) -> tuple[PrescribingRule, ...]:
        return tuple(r for r in self.rules if r.effect is effect and r.in_force is in_force
                     and r.covers(schedule, modality, on, oud_medication=oud_medication))


@dataclass(frozen=True)
class PrescribingOutcome:
    allowed: bool
    reasons: tuple[Reason, ...]


def prescribing_outcome(clinician: Clinician, where: str, modality: Modality, on: date, schedule: str,
                        table: PrescribingTable, baseline: RuleRef, *, oud_medication: bool = False,
                        prior_in_person_evaluation: bool = False) -> PrescribingOutcome:
    """May this clinician prescribe a `schedule` drug to a patient in `where` by `modality` on `on`?

    Called only once the clinician may practise in `where` at all; this adds the DEA layer.
    """
    if schedule not in SCHEDULES:
        return PrescribingOutcome(False, (reason("CONTROLLED_SUBSTANCE_SCHEDULE_INVALID", baseline,
                                                 f"schedule {schedule!r} is not one of {', '.join(SCHEDULES)}"),))
    failing: list[Reason] = []
    passing: list[Reason] = []
    for rule in table.applicable(Effect.REQUIRE_DEA_REGISTRATION_IN_PATIENT_STATE, schedule, modality, on,
                                 oud_medication=oud_medication):
        ok, why = _registration(clinician, where, on, schedule, rule.rule)
        (passing if ok else failing).append(why)
    if modality.is_telehealth:
        ok, why_tele = _telemedicine(where, modality, on, schedule, table, baseline,
                                     oud_medication=oud_medication,
                                     prior_in_person_evaluation=prior_in_person_evaluation)
        (passing if ok else failing).extend(why_tele)
    if not failing and not passing:
        # No rule speaks to this case (a gap in the data): refuse rather than guess.
        return PrescribingOutcome(False, (reason("NO_PRESCRIBING_RULE", baseline,
                                                 f"no prescribing rule covers schedule {schedule} on {on}"),))
    # Causes first, so reasons[0] of a refusal is always a cause, never a satisfied condition.
    return PrescribingOutcome(not failing, tuple(failing + passing))


def _registration(clinician: Clinician, where: str, on: date, schedule: str,
                  rule: RuleRef) -> tuple[bool, Reason]:
    in_state = [r for r in clinician.dea_registrations if r.jurisdiction == where]
    if not in_state:
        return False, reason("DEA_REGISTRATION_MISSING_IN_STATE", rule, f"no DEA registration in {where}")
    unexpired = [r for r in in_state if on <= r.expires_on]
    if not unexpired:
        last = max(r.expires_on for r in in_state)
        return False, reason("DEA_REGISTRATION_EXPIRED", rule, f"DEA registration in {where} expired {last}")
    current = [r for r in unexpired if grants(r.status, r.effective_from, on)]
    if not current:
        code = refusal_code("DEA_REGISTRATION", unexpired[0].status, unexpired[0].effective_from, on)
        return False, reason(code or "DEA_REGISTRATION_NOT_ACTIVE", rule,
                             f"DEA registration in {where} is not active on {on}")
    if not any(schedule in r.schedules for r in current):
        return False, reason("DEA_SCHEDULE_NOT_REGISTERED", rule,
                             f"DEA registration in {where} does not cover schedule {schedule}")
    # Doubt is about whether the registration is required; holding one settles it either way.
    return True, reason("DEA_REGISTERED_IN_STATE", rule, f"schedule {schedule} registered in {where}",
                        uncertain=False)


def _telemedicine(where: str, modality: Modality, on: date, schedule: str, table: PrescribingTable,
                  baseline: RuleRef, *, oud_medication: bool,
                  prior_in_person_evaluation: bool) -> tuple[bool, list[Reason]]:
    permits = table.applicable(Effect.PERMIT_TELEMEDICINE, schedule, modality, on, oud_medication=oud_medication)
    if permits:
        # Several rules may permit at once (flexibilities and the buprenorphine rule): cite all.
        out: list[Reason] = []
        for p in permits:
            out.append(reason("TELEMEDICINE_PRESCRIBING_PERMITTED", p.rule,
                              f"schedule {schedule} by {modality.value} to a patient in {where}"))
            out.extend(condition_reasons(p.conditions, p.rule))
        return True, out
    in_person = table.applicable(Effect.REQUIRE_PRIOR_IN_PERSON_EVALUATION, schedule, modality, on,
                                 oud_medication=oud_medication)
    if in_person and prior_in_person_evaluation:
        return True, [reason("PRIOR_IN_PERSON_EVALUATION", r.rule,
                             "an in-person medical evaluation took place before this prescription")
                      for r in in_person]
    refusals = [reason("TELEMEDICINE_PRESCRIBING_NOT_PERMITTED", r.rule,
                       f"schedule {schedule} by {modality.value} needs a prior in-person evaluation on {on}")
                for r in in_person]
    if not refusals:
        refusals = [reason("TELEMEDICINE_PRESCRIBING_NOT_PERMITTED", baseline,
                           f"no rule permits schedule {schedule} by {modality.value} on {on}")]
    # Proposals (special registration) explain what might change; they never permit anything.
    refusals.extend(reason("PROPOSED_RULE_NOT_IN_FORCE", r.rule, "proposed only; not in force", uncertain=True)
                    for r in table.applicable(Effect.PERMIT_TELEMEDICINE, schedule, modality, on,
                                              oud_medication=oud_medication, in_force=False))
    return False, refusals
