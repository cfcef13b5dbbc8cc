"""Eligibility checks and their lifecycle: created (from the cache or by asking the payer), stored with
the raw 271 beside the answer, read (a pending check asks again from ``next_attempt_at``, gives up
after ``give_up_at``), settled (a visit's check that becomes final updates the visit). All audited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ...domain.access import Caller
from ...domain.eligibility import (
    CACHEABLE_STATUSES,
    CheckRequest,
    DependentPatient,
    EligibilityCheck,
    Owner,
    TelehealthCoverage,
    repoll_delay_seconds,
    split_person_name,
    telehealth_coverage,
)
from ...domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from ...domain.keyed_reads import KeyedRead, known
from ...domain.model import Appointment, Clinician, Coverage, Patient
from ...domain.ports import (
    AuditTrail,
    Clock,
    EligibilityCheckStore,
    EligibilityDirectory,
    IdFactory,
    Pseudonym,
    payer_log,
)
from ...domain.rulebook import RuleBook
from . import x12_mapping
from .inputs import CheckInput
from .payer_calls import Outcome, PayerCalls
from .payers import PayerConfiguration, PayerNotConfigured, ResolvedPayer

if TYPE_CHECKING:
    from ...settings import EligibilitySettings

Settled = Callable[[Caller, EligibilityCheck], None]


class EligibilityChecks:
    def __init__(self, payers: PayerConfiguration, calls: PayerCalls, checks: EligibilityCheckStore,
                 directory: EligibilityDirectory, rules: Callable[[], RuleBook], clock: Clock, new_id: IdFactory,
                 audit: AuditTrail, settings: EligibilitySettings, pseudonym: Pseudonym,
                 on_settled: Settled | None = None) -> None:
        self.payers, self.calls, self.checks, self.directory = payers, calls, checks, directory
        self.rules, self.clock, self.new_id, self.audit = rules, clock, new_id, audit
        self.settings, self.pseudonym = settings, pseudonym
        # A pending check of a visit that became final (the worker, or a read): the visit records it.
        self.on_settled = on_settled

    def create_check(self, caller: Caller, body: CheckInput) -> EligibilityCheck:
        owner = owner_of(caller)
        if owner.kind == "payer" and body.payer_id != caller.payer_id:
            raise NotFound("No such payer.")
        if owner.kind == "payer" and (body.clinician_id or body.patient_id):
            raise ValidationFailed("clinician_id and patient_id name a tenant's objects", errors=[
                FieldError(name, "is for a tenant's scheduler only")
                for name in ("clinician_id", "patient_id") if getattr(body, name)])
        if body.patient_id and self.directory.get_patient(caller.tenant_id, body.patient_id) is None:
            raise NotFound("No such patient.")
        service = self.rules().service(body.service)
        if service is None:
            raise ValidationFailed("Unknown service", errors=[FieldError("service", "is not in the service catalog")])
        clinician = None
        if body.clinician_id:
            clinician = self.directory.get_clinician(caller.tenant_id, body.clinician_id)
            if clinician is None:
                raise NotFound("No such clinician.")
        npi = clinician.npi if clinician else body.provider_npi
        if not npi:
            raise ValidationFailed("A provider is required", errors=[
                FieldError("provider_npi", "provider_npi or clinician_id is required")])
        discipline = clinician.discipline if clinician else body.discipline
        codes = service.service_types_for(discipline) if discipline else service.service_type_codes["default"]
        m = body.member
        provider_first, provider_last = (split_person_name(clinician.name) if clinician
                                         else (None, body.provider_name or "PROVIDER"))
        request = CheckRequest(
            member_id=_clean_member_id(m.member_id), first_name=m.first_name, last_name=m.last_name,
            birth_date=m.birth_date, provider_npi=npi, provider_name=provider_last, provider_first_name=provider_first,
            service=service.code, modality=body.modality, date_of_service=body.date_of_service,
            service_type_codes=tuple(codes), patient_jurisdiction=body.patient_jurisdiction,
            patient_location_type=body.patient_location_type,
            clinician_id=clinician.clinician_id if clinician else None,
            provider_in_network=_in_network(clinician, body.payer_id), dependent=body.dependent)
        return self.run_check(caller, owner, body.payer_id, request, self.settings.budget_seconds,
                              patient_id=body.patient_id, refuse_unsendable=True)

    def check_for_visit(self, caller: Caller, appointment: Appointment, patient: Patient, clinician: Clinician,
                        coverage: Coverage, day: date) -> EligibilityCheck | None:
        """The check of a visit after commit (short budget); None when the payer is not configured."""
        request = self._visit_request(appointment, patient, clinician, coverage, day)
        if request is None:
            return None
        try:
            return self.run_check(caller, Owner("tenant", appointment.tenant_id), coverage.payer_id, request,
                                  self.settings.booking_budget_seconds, patient_id=patient.patient_id,
                                  appointment_id=appointment.appointment_id)
        except PayerNotConfigured:
            return None

    def cached_visit_status(self, appointment: Appointment, patient: Patient, clinician: Clinician,
                            coverage: Coverage, day: date) -> KeyedRead[str | None]:
        """What a fresh cached answer says of this visit, for booking to answer at once (None without one):
        a read of the cache entry that booking makes together with its other keyed reads, then the payer's
        configuration on a hit (cached in the process); never a payer call."""
        from ...domain.eligibility import appointment_status

        request = self._visit_request(appointment, patient, clinician, coverage, day)
        if request is None:
            return known(None)
        owner, now = Owner("tenant", appointment.tenant_id), self.clock()

        def status(cached: dict[str, Any] | None) -> str | None:
            if cached is None:
                return None
            payer = self.payers.resolve_payer(coverage.payer_id, day)
            if payer is None or payer.connector is None:
                return None
            answer = x12_mapping.answer_from_271(cached["raw_271"], request, trace=None, payer=payer)
            check = EligibilityCheck(check_id="", owner=owner, tenant_id=appointment.tenant_id,
                                     payer_id=coverage.payer_id, request=request, status=answer.status,
                                     source=cached.get("source", payer.connector.kind), requested_at=now,
                                     answer=answer)
            return appointment_status(answer.status, _telehealth(payer, check), appointment.modality, answer)

        return self.checks.cached_read(owner, coverage.payer_id, self._cache_digest(coverage.payer_id, request),
                                       now).then(status)

    def _visit_request(self, appointment: Appointment, patient: Patient, clinician: Clinician, coverage: Coverage,
                       day: date) -> CheckRequest | None:
        service = self.rules().service(appointment.service)
        if service is None:
            return None
        first, last = _patient_names(patient)
        dependent = None
        subscriber = coverage.subscriber
        if subscriber is not None:
            # The patient is covered as someone else's dependent: the member id and the subscriber's
            # own name go in 2100C, the patient in 2100D (HL 23).
            dependent = DependentPatient(first, last, patient.birth_date, coverage.relationship)
            first, last = subscriber.given_name, subscriber.family_name
        provider_first, provider_last = split_person_name(clinician.name)
        request = CheckRequest(
            member_id=_clean_member_id(coverage.member_id), first_name=first, last_name=last,
            birth_date=subscriber.birth_date if subscriber and subscriber.birth_date else patient.birth_date,
            dependent=dependent, provider_npi=clinician.npi, provider_name=provider_last,
            provider_first_name=provider_first, service=service.code,
            modality=appointment.modality, date_of_service=day,
            service_type_codes=service.service_types_for(clinician.discipline),
            patient_jurisdiction=appointment.patient_jurisdiction,
            patient_location_type=appointment.patient_location_type, clinician_id=clinician.clinician_id,
            provider_in_network=_in_network(clinician, coverage.payer_id))
        return request

    def run_check(self, caller: Caller, owner: Owner, payer_id: str, request: CheckRequest, budget: float, *,
                  patient_id: str | None = None, appointment_id: str | None = None,
                  refuse_unsendable: bool = False) -> EligibilityCheck:
        payer = self.payers.resolve_payer(payer_id, request.date_of_service)
        if payer is None or payer.connector is None:
            raise PayerNotConfigured("The payer has no connector: it configures one with PUT /v1/payers/{payer_id}.",
                                     errors=[FieldError("payer_id", "has no connector configured")])
        if refuse_unsendable:
            x12_mapping.vet_sendable(payer, request)
        now = self.clock()
        check_id = self.new_id("elg")
        check = EligibilityCheck(
            check_id=check_id, owner=owner, tenant_id=caller.tenant_id, payer_id=payer_id, request=request,
            status="pending", source=payer.connector.kind, requested_at=now, patient_id=patient_id,
            appointment_id=appointment_id, give_up_at=now + timedelta(seconds=self.settings.give_up_after_seconds))
        # Only answers that cost a call out are cached: a roster answer is one read, like the cache itself.
        digest = self._cache_digest(payer_id, request) if payer.connector.kind == "x12_http" else None
        cached = self.checks.get_cached(owner, payer_id, digest, now) if digest else None
        if cached is not None:
            answer = x12_mapping.answer_from_271(cached["raw_271"], request, trace=None, payer=payer)
            check = replace(check, status=answer.status, answer=answer, raw_271=cached["raw_271"], cached=True,
                            source=cached.get("source", check.source),
                            checked_at=datetime.fromisoformat(cached["checked_at"]), give_up_at=None)
        else:
            check = self._apply(check, self.calls.ask(payer, check_id, request, budget, first_attempt=1), now)
            if digest:
                self._remember(owner, payer_id, digest, check)
        check = replace(check, telehealth=_telehealth(payer, check))
        stored = self.checks.add_check(check)
        self.audit_lookup(caller, owner, payer_id, request.member_id, "eligibility.check.create",
                          _resource(stored), patient_id, stored.status)
        return stored

    def audit_lookup(self, caller: Caller, owner: Owner, payer_id: str, member_id: str, action: str,
                     resource: str, patient_id: str | None, outcome: str) -> None:
        """A member lookup goes into the asker's log and into the payer's own, with the member's
        pseudonym (never the id) and the asking tenant, so the payer sees who looked up whom."""
        extra = {"member": self.pseudonym("audit-member", payer_id, member_id.upper()),
                 "asking_tenant": caller.tenant_id if owner.kind == "tenant" else None}
        self.audit.record(caller, action, resource, patient_id, outcome, extra=extra)
        if owner.kind == "tenant":
            self.audit.record(caller, action, resource, None, outcome, log=payer_log(payer_id), extra=extra)

    def get_check(self, caller: Caller, check_id: str, *, include_raw: bool = False) -> EligibilityCheck:
        owner = owner_of(caller)
        check = self.checks.get_check(owner, check_id)
        if check is None:
            raise NotFound("No such eligibility check.")
        if check.status == "pending":
            check = self._repoll(caller, check)
        self.audit.record(caller, "eligibility.check.read", _resource(check), check.patient_id, "success")
        if include_raw:
            self.audit.record(caller, "eligibility.raw271.read", _resource(check), check.patient_id,
                              "success" if check.raw_271 else "empty")
        return check

    def finish_pending(self, caller: Caller, check: EligibilityCheck) -> EligibilityCheck:
        """The worker's turn at a pending check, as a read would take it: asked again once due, given up
        after ``give_up_at``; a final answer lands on its visit (``on_settled``)."""
        return self._repoll(caller, check)

    def _repoll(self, caller: Caller, check: EligibilityCheck) -> EligibilityCheck:
        """A pending check: ask the payer again once ``next_attempt_at`` has come; give up after ``give_up_at``."""
        now = self.clock()
        if check.next_attempt_at is not None and now < check.next_attempt_at:
            return check
        if check.give_up_at is not None and now >= check.give_up_at:
            new = replace(check, status="error", checked_at=now, next_attempt_at=None)
        else:
            payer = self.payers.resolve_payer(check.payer_id, check.request.date_of_service)
            if payer is None or payer.connector is None:
                new = replace(check, status="error", failure="payer_not_configured", checked_at=now,
                              next_attempt_at=None)
            else:
                outcome = self.calls.ask(payer, check.check_id, check.request, self.settings.budget_seconds,
                                         first_attempt=check.attempts + 1)
                new = self._apply(replace(check, polls=check.polls + 1), outcome, now)
                new = replace(new, telehealth=_telehealth(payer, new))
                if new.is_final and payer.connector.kind == "x12_http":
                    self._remember(check.owner, check.payer_id, self._cache_digest(check.payer_id, check.request), new)
        try:
            stored = self.checks.update_check(new)
        except Conflict:
            return self.checks.get_check(check.owner, check.check_id) or check  # a concurrent read settled it
        if stored.is_final and stored.appointment_id and self.on_settled is not None:
            self.on_settled(caller, stored)
        return stored

    def _apply(self, check: EligibilityCheck, outcome: Outcome, now: datetime) -> EligibilityCheck:
        attempts = check.attempts + outcome.attempts
        if outcome.status == "pending":
            delay = repoll_delay_seconds(check.polls, self.settings.repoll_base_seconds,
                                         self.settings.repoll_cap_seconds)
            return replace(check, status="pending", answer=outcome.answer or check.answer, attempts=attempts,
                           raw_271=outcome.raw_271 or check.raw_271, failure=outcome.failure, checked_at=now,
                           next_attempt_at=now + timedelta(seconds=delay))
        return replace(check, status=outcome.status, answer=outcome.answer, raw_271=outcome.raw_271,
                       attempts=attempts, failure=outcome.failure, checked_at=now, next_attempt_at=None,
                       give_up_at=None)

    def _remember(self, owner: Owner, payer_id: str, digest: str, check: EligibilityCheck) -> None:
        if check.status not in CACHEABLE_STATUSES or not check.raw_271 or check.checked_at is None:
            return
        expires = check.checked_at + timedelta(seconds=self.settings.cache_ttl_seconds)
        self.checks.put_cached(owner, payer_id, digest, {"raw_271": check.raw_271, "source": check.source,
                                                         "checked_at": check.checked_at.isoformat()}, expires)

    def _cache_digest(self, payer_id: str, r: CheckRequest) -> str:
        d = r.dependent
        patient = (d.last_name.upper(), d.first_name.upper(), d.birth_date.isoformat()) if d else ()
        return self.pseudonym("eligibility-cache", payer_id, r.member_id.upper(), r.last_name.upper(),
                              r.first_name.upper(), r.birth_date.isoformat(), r.provider_npi,
                              ",".join(r.service_type_codes), r.date_of_service.isoformat(), r.service, *patient)


def owner_of(caller: Caller) -> Owner:
    """A tenant's scheduler owns the checks it asks for; a payer token owns its own."""
    if caller.has("scheduler", "admin"):
        return Owner("tenant", caller.tenant_id)
    if caller.has("payer") and caller.payer_id:
        return Owner("payer", caller.payer_id)
    raise NotFound("No such eligibility check.")


def _telehealth(payer: ResolvedPayer, check: EligibilityCheck) -> TelehealthCoverage:
    r = check.request
    answer = check.answer
    return telehealth_coverage(payer.policy.terms, r.modality, r.patient_location_type, check.status,
                               answer.service_covered if answer else None, bool(answer and answer.carve_out))


def _in_network(clinician: Clinician | None, payer_id: str) -> bool | None:
    """From our directory, never from EB12: listed -> True; other networks listed -> False; none -> unknown."""
    if clinician is None or not clinician.payer_networks:
        return None
    return payer_id in clinician.payer_networks


def _clean_member_id(member_id: str) -> str:
    """As printed on cards ("W123 456 789"): spaces are layout, not part of the id."""
    return "".join(member_id.split()).upper()


def _patient_names(patient: Patient) -> tuple[str, str]:
    """(given, family) from the record's own fields; a split of ``name`` only for older records."""
    if patient.given_name and patient.family_name:
        return patient.given_name, patient.family_name
    given, family = split_person_name(patient.name)
    return patient.given_name or given, patient.family_name or family


def _resource(check: EligibilityCheck) -> str:
    return f"eligibility_check/{check.check_id}"
