"""Routing recommendations and crisis escalations.

recommend(): screening -> risk -> the routing plan (domain/routing.py) -> real options from the
availability search (so licensure, rooms, buffers and zones hold) -> ranked and explained. An
`escalate` decision stores an escalation, audits it and publishes an event, and shows no options.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from ..domain.access import Caller, require_patient_access
from ..domain.care import PatientWhereabouts
from ..domain.errors import DomainError, InvalidTransition, NotFound, Unprocessable
from ..domain.escalation import Escalation
from ..domain.licensure import LicensureDecision, licensure_decision
from ..domain.model import Appointment, Interval, Modality, Patient, Status
from ..domain.ports import AuditTrail, Clock, EscalationStore, Events, IdFactory, PatientHistory, ScreeningStore
from ..domain.routing import Candidate, Recommendation, RoutingFacts, plan, rank
from ..domain.routing_policy import ROUTING_POLICY, RoutingPolicy
from ..domain.rulebook import RuleBook
from ..domain.screening import ScreeningResult, combined_risk, score
from ..domain.tenant_policy import TenantSettings
from .availability import AvailabilitySearch, AvailabilityService
from .care_gate import CareGate

HISTORY = timedelta(days=730)


class RoutingRefused(DomainError):
    code = "ROUTING_RULE_REFUSED"
    status = 422
    title = "A routing rule does not allow this visit"


class Directory(Protocol):
    def get_patient(self, tenant: str, patient_id: str) -> Patient | None: ...
    def get_clinician(self, tenant: str, clinician_id: str) -> Any: ...
    def get_site(self, tenant: str, site_id: str) -> Any: ...


@dataclass(frozen=True)
class ScreeningAnswers:
    instrument: str  # PHQ-9 | GAD-7 | C-SSRS
    answers: tuple[int, ...]


@dataclass(frozen=True)
class Preferences:
    modality: Modality | None = None
    language: str | None = None
    accessibility_needs: bool = False


@dataclass(frozen=True)
class PrescribingIntent:
    """An initial evaluation that may lead to controlled-substance prescribing."""

    controlled_substance_schedule: str


@dataclass(frozen=True)
class RoutingRequest:
    patient_id: str
    service: str
    window: Interval
    patient_jurisdiction: str | None = None
    risk_level: str = "none"
    screening: ScreeningAnswers | None = None
    preferences: Preferences = Preferences()
    prescribing: PrescribingIntent | None = None
    postal_code: str | None = None
    limit: int = 10


# payer id, date -> {modality: covered (None = unknown)}
PayerCoverage = Callable[[str, date], dict[Modality, bool | None]]


@dataclass(frozen=True)
class RoutingAnswer:
    recommendation: Recommendation
    risk: str
    screening: ScreeningResult | None
    escalation: Escalation | None
    rules_version: str


class RoutingService:
    def __init__(self, directory: Directory, history: PatientHistory, availability: AvailabilityService,
                 rules: Callable[[], RuleBook], clock: Clock, new_id: IdFactory, audit: AuditTrail,
                 escalations: EscalationStore, screenings: ScreeningStore, events: Callable[[], Events],
                 settings: Callable[[str], TenantSettings], coverage: PayerCoverage, gate: CareGate) -> None:
        self.directory = directory
        self.history = history
        self.availability = availability
        self.rules = rules
        self.clock = clock
        self.new_id = new_id
        self.audit = audit
        self.escalations = escalations
        self.screenings = screenings
        self.events = events
        self.settings = settings
        self.coverage = coverage
        self.gate = gate

    # Whether the tenant's no-show policy puts a patient on video first (wired to services/confirmations.py).
    video_first: Callable[[str, str], bool] = staticmethod(lambda tenant, patient_id: False)

    def policy(self) -> RoutingPolicy:
        policy = self.rules().tables.get(ROUTING_POLICY)
        if not isinstance(policy, RoutingPolicy):
            raise Unprocessable("No routing policy is loaded.")
        return policy

    # --- recommendations ---------------------------------------------------------------------
    def recommend(self, caller: Caller, body: RoutingRequest) -> RoutingAnswer:
        require_patient_access(caller, body.patient_id)
        patient = self.directory.get_patient(caller.tenant_id, body.patient_id)
        if patient is None:
            raise NotFound("No such patient.")
        policy, now = self.policy(), self.clock()
        screening = None
        if body.screening is not None:
            screening = replace(score(policy, body.screening.instrument, list(body.screening.answers)), at=now)
            self.screenings.add(caller.tenant_id, patient.patient_id, screening)
            self.audit.record(caller, "screening.record", f"patient/{patient.patient_id}", patient.patient_id,
                              "success")
        risk = combined_risk(body.risk_level, screening)
        where = body.patient_jurisdiction or patient.home_jurisdiction
        overrides = self.settings(caller.tenant_id).routing
        visits = self._history(caller.tenant_id, patient.patient_id, now)
        coverage = self.coverage(patient.coverages[0].payer_id, now.date()) if patient.coverages else {}
        facts = RoutingFacts(
            now=now, risk=risk, video_capable=patient.video_capable, country=where[:2],
            accessibility_needs=body.preferences.accessibility_needs,
            language=body.preferences.language or patient.preferred_language,
            preferred_modality=body.preferences.modality, coverage=coverage,
            payer_ids=tuple(c.payer_id for c in patient.coverages),
            recent_clinicians=tuple(dict.fromkeys(a.clinician_id for a in visits)),
            last_in_person=max((a.start for a in visits if a.modality is Modality.IN_PERSON
                                and a.status is Status.COMPLETED), default=None),
            postal_prefix=body.postal_code.replace(" ", "")[:3].upper() if body.postal_code else None,
            prescribing=body.prescribing is not None, disabled_rules=frozenset(overrides.disabled_rules),
            high_risk_max_wait_days=overrides.high_risk_max_wait_days,
            no_show_video_first=self.video_first(caller.tenant_id, patient.patient_id))
        planned = plan(policy, facts)
        if planned.decision == "escalate":
            escalation = self._escalate(caller, patient, risk, planned, screening)
            return RoutingAnswer(planned, risk, screening, escalation, self.rules().version)
        candidates = self._candidates(caller, body, patient, where, planned.max_start)
        ranked = rank(policy, facts, planned, candidates, body.limit)
        self.audit.record(caller, "routing.recommend", f"patient/{patient.patient_id}", patient.patient_id,
                          "success")
        return RoutingAnswer(ranked, risk, screening, None, self.rules().version)

    def _history(self, tenant: str, patient_id: str, now: datetime) -> list[Appointment]:
        """The patient's visits of the last two years that happened or will, most recent first."""
        items, _ = self.history.list_for_patient(tenant, patient_id, Interval(now - HISTORY, now + HISTORY), 200,
                                                 None)
        kept = [a for a in items if a.status not in (Status.CANCELLED, Status.NO_SHOW)]
        return sorted(kept, key=lambda a: a.start, reverse=True)

    def _candidates(self, caller: Caller, body: RoutingRequest, patient: Patient, where: str,
                    max_start: datetime | None) -> list[Candidate]:
        end = body.window.end if max_start is None else min(body.window.end, max_start)
        if end <= body.window.start:
            return []
        options, _ = self.availability.search(caller, AvailabilitySearch(
            service=body.service, window=Interval(body.window.start, end), patient_id=patient.patient_id,
            patient_jurisdiction=where, limit=200))
        languages: dict[str, tuple[str, ...]] = {}
        postal: dict[str, str | None] = {}
        prescribing: dict[tuple[str, Modality, str | None, date], LicensureDecision] = {}
        out = []
        for o in options:
            slot = o.slot
            if slot.clinician_id not in languages:
                clinician = self.directory.get_clinician(caller.tenant_id, slot.clinician_id)
                languages[slot.clinician_id] = tuple(clinician.languages) if clinician else ()
            if slot.site_id and slot.site_id not in postal:
                site = self.directory.get_site(caller.tenant_id, slot.site_id)
                postal[slot.site_id] = site.address.postal_code.replace(" ", "")[:3].upper() if site else None
            decision = None
            if body.prescribing is not None:
                decision = self._prescribing(caller.tenant_id, slot, patient, where, body, prescribing)
            out.append(Candidate(slot, o.licensure, languages[slot.clinician_id],
                                 postal.get(slot.site_id) if slot.site_id else None, decision))
        return out

    def _prescribing(self, tenant: str, slot: Any, patient: Patient, where: str, body: RoutingRequest,
                     cache: dict[tuple[str, Modality, str | None, date], LicensureDecision]) -> LicensureDecision:
        """The licensure decision with the controlled-substance schedule: the prescribing rules in force on
        the visit's date decide which modalities an initial evaluation may use."""
        clinician = self.directory.get_clinician(tenant, slot.clinician_id)
        site = self.directory.get_site(tenant, slot.site_id) if slot.site_id else None
        place = self.gate.place(slot.modality, site, PatientWhereabouts(patient.home_jurisdiction, where), clinician)
        on = place.local_date(slot.start)
        key = (slot.clinician_id, slot.modality, slot.site_id, on)
        if key not in cache:
            assert body.prescribing is not None
            cache[key] = licensure_decision(clinician, place.jurisdiction, slot.modality, on, self.rules(),
                                            service=body.service,
                                            controlled_substance_schedule=body.prescribing.controlled_substance_schedule)
        return cache[key]

    def screenings_of(self, caller: Caller, patient_id: str, limit: int) -> list[ScreeningResult]:
        """The patient's screening trend: schedulers and admins, the patient, and a clinician who has a visit
        with the patient; anyone else gets 404. Every read is audited."""
        if caller.has("clinician") and not caller.tenant_wide:
            visits = self._history(caller.tenant_id, patient_id, self.clock())
            if not any(a.clinician_id == caller.clinician_id for a in visits):
                raise NotFound("No such patient.")
        else:
            require_patient_access(caller, patient_id)
        if self.directory.get_patient(caller.tenant_id, patient_id) is None:
            raise NotFound("No such patient.")
        found = self.screenings.latest(caller.tenant_id, patient_id, limit)
        self.audit.record(caller, "screening.read", f"patient/{patient_id}", patient_id, "success")
        return found

    # --- the booking doors ---------------------------------------------------------------------
    def check_visit(self, tenant: str, patient: Patient, modality: Modality, *, fallback: bool = False,
                    screenings: Sequence[ScreeningResult] | None = None) -> None:
        """Booking, reschedule and switch re-run the routing rules that restrict modalities (risk from the
        patient's latest screening, no reliable video, payer coverage): a change a rule forbids is refused
        with that rule's reason, as the recommendation would never have offered it. `fallback`: the switch
        to phone the video service offers when video cannot start; continuing care wins over a billing
        rule there (eligibility records `not_covered`). `screenings`: the patient's latest, when the door read
        it with the patient (BookingRecords.screenings); read here otherwise."""
        policy, now = self.policy(), self.clock()
        latest = list(screenings) if screenings is not None else self.screenings.latest(tenant, patient.patient_id,
                                                                                        limit=1)
        overrides = self.settings(tenant).routing
        coverage = self.coverage(patient.coverages[0].payer_id, now.date()) \
            if patient.coverages and not fallback else {}
        facts = RoutingFacts(now=now, risk=latest[0].implied_risk if latest else "none",
                             video_capable=patient.video_capable, country=patient.home_jurisdiction[:2],
                             coverage=coverage, disabled_rules=frozenset(overrides.disabled_rules))
        planned = plan(policy, facts)
        if planned.decision == "escalate" or modality in planned.allowed_modalities:
            return
        fired = [e for e in planned.explanation if e.effect in ("restrict", "exclude")]
        raise RoutingRefused(f"A routing rule does not allow a {modality.value} visit for this patient now.",
                             extra={"reasons": [{"rule_id": e.rule_id, "effect": e.effect, "detail": e.detail}
                                                for e in fired], "rules_version": self.rules().version})

    # --- escalations -------------------------------------------------------------------------
    def _escalate(self, caller: Caller, patient: Patient, risk: str, planned: Recommendation,
                  screening: ScreeningResult | None) -> Escalation:
        crisis = planned.crisis
        escalation = self.escalations.add(Escalation(
            tenant_id=caller.tenant_id, escalation_id=self.new_id("esc"), patient_id=patient.patient_id, risk=risk,
            reasons=tuple([e.rule_id for e in planned.explanation] + list(screening.reasons if screening else ())),
            resources=tuple(r.name for r in crisis.resources) if crisis else (),
            emergency_number=crisis.emergency_number if crisis else "911",
            opened_at=self.clock(), opened_by=caller.primary_role))
        self.audit.record(caller, "escalation.open", f"escalation/{escalation.escalation_id}", patient.patient_id,
                          "success")
        self._publish("escalation.opened", escalation)
        return escalation

    def _publish(self, event_type: str, e: Escalation) -> None:
        # The record is stored and audited before this: a failed publish is retried by the overdue job,
        # never a lost crisis. No PHI in the message: ids, risk and times only.
        try:
            self.events().publish(event_type, {"tenant_id": e.tenant_id, "escalation_id": e.escalation_id,
                                               "patient_id": e.patient_id, "risk": e.risk,
                                               "opened_at": e.opened_at.isoformat()})
        except Exception:
            return

    def list_escalations(self, caller: Caller, status: str | None, limit: int) -> list[Escalation]:
        found = self.escalations.list(caller.tenant_id, status, limit)
        visible = [e for e in found if self._may_see(caller, e)]
        self.audit.record_many(caller, "escalation.read",
                               [(f"escalation/{e.escalation_id}", e.patient_id) for e in visible], "success")
        return visible

    def acknowledge(self, caller: Caller, escalation_id: str, note: str | None) -> Escalation:
        current = self._get(caller, escalation_id)
        if current.status != "open":
            raise InvalidTransition(f"An escalation that is {current.status} cannot be acknowledged.",
                                    extra={"current_status": current.status})
        now = self.clock()
        done = self.escalations.save(current, replace(current, status="acknowledged", acknowledged_at=now,
                                                      acknowledged_by=caller.primary_role, note=note))
        self.audit.record(caller, "escalation.acknowledge", f"escalation/{escalation_id}", done.patient_id, "success")
        return done

    def resolve(self, caller: Caller, escalation_id: str, outcome: str) -> Escalation:
        current = self._get(caller, escalation_id)
        if current.status == "resolved":
            raise InvalidTransition("The escalation is already resolved.", extra={"current_status": "resolved"})
        now = self.clock()
        done = self.escalations.save(current, replace(
            current, status="resolved", resolved_at=now, resolved_by=caller.primary_role, outcome=outcome,
            acknowledged_at=current.acknowledged_at or now, acknowledged_by=current.acknowledged_by
            or caller.primary_role))
        self.audit.record(caller, "escalation.resolve", f"escalation/{escalation_id}", done.patient_id, "success")
        return done

    def report_overdue(self) -> list[str]:
        """The scheduled job: escalations nobody acknowledged within the bound are published again as
        `escalation.overdue` (once each). Returns their ids."""
        policy, now = self.policy(), self.clock()
        reported = []
        for tenant, escalation_id in self.escalations.open_before(now - timedelta(minutes=1)):
            e = self.escalations.get(tenant, escalation_id)
            if e is None or e.status != "open" or e.overdue_reported_at is not None:
                continue
            bound = self.settings(tenant).routing.escalation_open_bound_minutes or policy.escalation_open_bound_minutes
            if e.opened_at > now - timedelta(minutes=bound):
                continue
            try:
                saved = self.escalations.save(e, replace(e, overdue_reported_at=now))
            except DomainError:
                continue  # someone acknowledged it meanwhile
            self._publish("escalation.overdue", saved)
            reported.append(escalation_id)
        return reported

    def _get(self, caller: Caller, escalation_id: str) -> Escalation:
        found = self.escalations.get(caller.tenant_id, escalation_id)
        if found is None or not self._may_see(caller, found):
            raise NotFound("No such escalation.")
        return found

    @staticmethod
    def _may_see(caller: Caller, e: Escalation) -> bool:
        return caller.tenant_id == e.tenant_id and caller.has("admin", "scheduler", "clinician")
