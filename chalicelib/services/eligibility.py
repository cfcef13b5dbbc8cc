"""Eligibility: payers configure themselves, checks ask them (X12 270/271), booking records the answer.

A check, step by step:
1. The payer's effective configuration: what it PUT through the API, else its entry in
   scheduling_rules/payers/ (the API version wins field by field for the telehealth policy).
2. Service type codes from the service catalog for the service and the clinician's discipline
   (scheduling_rules/services.yaml), never a constant; DTP*291 is the visit's local date.
3. The cache (per owner, payer, member, provider, service types and date of service; TTL
   ``cache_ttl_seconds``, expiry checked in code): a hit sends no 270.
4. Otherwise the connector: ``x12_http`` POSTs the 270 to the payer's URL, ``roster`` answers from
   the members the payer uploaded; both give a raw 271, read by one reader.
5. Time budget and retries: each attempt gets at most ``attempt_timeout_seconds``; a timeout, a
   network error, 5xx/408/429 or AAA 42/80 is retried with capped exponential backoff and full
   jitter while the request's budget (``budget_seconds``, 8 s; booking ``booking_budget_seconds``)
   lasts. When it runs out the check is stored as ``pending`` (the degraded state, see
   domain/eligibility.py) and finished by a later GET of the check, from ``next_attempt_at`` on.
6. The check (parsed answer, telehealth block, and the raw 271 beside it) is stored; every read and
   write is audited (the check and the raw 271 are PHI). Logs carry ids and codes only.

The 270's envelope follows the connector's ``x12`` settings (domain/payer_policy.X12Partner): the
clearinghouse as ISA/GS receiver, ISA15 from the stage, control numbers from the sender's atomic
counter (adapters/dynamo/x12_control.py). Names go out in the connector's character set
(domain/x12_text.py), from the patient's given/family fields. A TA1 or 999 in place of a 271 is read
(adapters/x12_ack.py) and surfaced with its codes.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..domain.access import Caller
from ..domain.billing import TelehealthPolicy
from ..domain.eligibility import (
    CACHEABLE_STATUSES,
    AaaEntry,
    AckEntry,
    Benefits,
    CheckRequest,
    DependentPatient,
    EligibilityCheck,
    Owner,
    PayerAnswer,
    ReferTo,
    Rejection,
    RosterBenefits,
    RosterMember,
    appointment_status,
    needs_recheck,
    places_of_service,
    repoll_delay_seconds,
    split_person_name,
    telehealth_coverage,
)
from ..domain.eligibility_hook import HISTORY_ACTION, last_eligibility_event
from ..domain.errors import Conflict, DomainError, FieldError, NotFound, ValidationFailed
from ..domain.model import Appointment, Clinician, Coverage, Modality, Patient
from ..domain.payer_policy import (
    ANY_PAYER,
    PAYER_POLICY,
    Connector,
    EffectivePolicy,
    PayerConfig,
    PayerPolicyTable,
    PolicyOverride,
    X12Partner,
    effective_policy,
)
from ..domain.ports import AuditTrail, Clock, IdFactory, payer_log
from ..domain.retry import RetryPolicy
from ..domain.rulebook import RuleBook
from ..observability import logger
from ..x12.text import NotRepresentable, x12_text

if TYPE_CHECKING:
    from ..adapters.dynamo.appointments import AppointmentRepository
    from ..adapters.dynamo.directory import DirectoryRepository
    from ..adapters.dynamo.payers import EligibilityRepository, PayerRepository, Pseudonyms
    from ..adapters.dynamo.x12_control import ControlNumbers
    from ..adapters.payers import UrlPolicy, X12HttpConnector
    from ..schemas.eligibility import EligibilityCheckIn, MemberIn, PayerIn
    from ..settings import EligibilitySettings

MIN_ATTEMPT_SECONDS = 0.05  # never start an attempt with less time than this left in the budget


class PayerNotConfigured(DomainError):
    code = "PAYER_NOT_CONFIGURED"
    status = 422
    title = "The payer has no connector configured"


class NotSendable(DomainError):
    """A value that the payer's X12 connection cannot carry (a letter its character set lacks, a
    delimiter in a member id): refused and named, never silently mangled."""

    code = "X12_VALUE_NOT_SENDABLE"
    status = 422
    title = "A value cannot be sent to this payer"


@dataclass(frozen=True)
class ResolvedPayer:
    payer_id: str
    name: str
    connector: Connector | None
    policy: EffectivePolicy
    from_api: bool
    version: int = 0


@dataclass(frozen=True)
class Outcome:
    """What asking the payer (once or several times) gave."""

    status: str  # active | inactive | not_found | error | pending
    answer: PayerAnswer | None
    raw_271: str | None
    attempts: int
    failure: str | None


class EligibilityService:
    def __init__(self, payers: PayerRepository, checks: EligibilityRepository, directory: DirectoryRepository,
                 rules: Callable[[], RuleBook], clock: Clock, new_id: IdFactory, audit: AuditTrail,
                 settings: EligibilitySettings, url_policy: UrlPolicy, pseudonym: Pseudonyms, *,
                 http: X12HttpConnector | None = None, rng: Callable[[], float] = random.random,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic,
                 control_numbers: ControlNumbers | None = None) -> None:
        from ..adapters.dynamo.x12_control import ControlNumbers
        from ..adapters.payers import RosterConnector, X12HttpConnector

        self.payers, self.checks, self.directory = payers, checks, directory
        self.rules, self.clock, self.new_id, self.audit = rules, clock, new_id, audit
        self.settings, self.url_policy, self.pseudonym = settings, url_policy, pseudonym
        self.http = http or X12HttpConnector(url_policy, monotonic)
        self.roster = RosterConnector(payers)
        self.rng, self.sleep, self.monotonic = rng, sleep, monotonic
        self.control_numbers = control_numbers or ControlNumbers()
        self.retry = RetryPolicy(settings.max_attempts, settings.backoff_base_seconds, settings.backoff_cap_seconds)
        # Called when a pending check that belongs to an appointment becomes final (booking's recorder).
        self.on_settled: list[Callable[[Caller, EligibilityCheck], None]] = []

    # --- payers ------------------------------------------------------------------------------------
    def put_payer(self, caller: Caller, payer_id: str, body: PayerIn) -> ResolvedPayer:
        _require_own_payer(caller, payer_id)
        if body.connector.kind == "x12_http":
            self.url_policy.vet(body.connector.url or "")
        policy = body.telehealth_policy
        modifiers = policy.modifiers if policy else None
        override = PolicyOverride(
            video_covered=policy.video.covered if policy and policy.video else None,
            phone_covered=policy.phone.covered if policy and policy.phone else None,
            place_of_service_home=policy.place_of_service_home if policy else None,
            place_of_service_other=policy.place_of_service_other if policy else None,
            modifiers_video=tuple(modifiers.video) if modifiers and modifiers.video is not None else None,
            modifiers_phone=tuple(modifiers.phone) if modifiers and modifiers.phone is not None else None,
        )
        x12 = body.connector.x12
        partner = X12Partner(**x12.model_dump(exclude_none=True)) if x12 else X12Partner()
        config = PayerConfig(payer_id, body.name, Connector(body.connector.kind, body.connector.url, partner),
                             override, updated_at=self.clock())
        saved = self.payers.put_config(config)
        resolved = self.resolve_payer(payer_id, self.clock().date())
        assert resolved is not None
        return replace(resolved, version=saved.version)

    def get_payer(self, caller: Caller, payer_id: str) -> ResolvedPayer:
        _require_own_payer(caller, payer_id)
        resolved = self.resolve_payer(payer_id, self.clock().date())
        if resolved is None:
            raise NotFound("No such payer.")
        return resolved

    def resolve_payer(self, payer_id: str, on: date) -> ResolvedPayer | None:
        """The API configuration when there is one, else the payer's own rules entry; None = unknown."""
        table = self.rules().tables.get(PAYER_POLICY)
        defaults = table.for_payer(payer_id, on) if isinstance(table, PayerPolicyTable) else None
        own = defaults if defaults is not None and defaults.payer_id != ANY_PAYER else None
        config = self.payers.get_config(payer_id)
        if config is not None:
            return ResolvedPayer(payer_id, config.name, config.connector, effective_policy(config.policy, defaults),
                                 True, config.version)
        if own is None:
            return None
        return ResolvedPayer(payer_id, own.name, own.connector, effective_policy(None, own), False)

    def put_member(self, caller: Caller, payer_id: str, member_id: str, body: MemberIn) -> tuple[bool, RosterMember]:
        _require_own_payer(caller, payer_id)
        b = body.benefits
        member = RosterMember(
            member_id=member_id, first_name=body.first_name, last_name=body.last_name, birth_date=body.birth_date,
            plan_name=body.plan.name if body.plan else None, active_from=body.active_from, active_to=body.active_to,
            benefits=RosterBenefits(b.copay, b.coinsurance, b.deductible_remaining, b.out_of_pocket_remaining))
        created = self.payers.put_member(payer_id, member)
        self.audit.record(caller, "payer.roster.write", f"payer/{payer_id}/roster", None, "success")
        return created, member

    # --- checks ------------------------------------------------------------------------------------
    def create_check(self, caller: Caller, body: EligibilityCheckIn) -> EligibilityCheck:
        owner = _owner(caller)
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
        d = body.dependent
        provider_first, provider_last = (split_person_name(clinician.name) if clinician
                                         else (None, body.provider_name or "PROVIDER"))
        request = CheckRequest(
            member_id=_clean_member_id(m.member_id), first_name=m.first_name, last_name=m.last_name,
            birth_date=m.birth_date, provider_npi=npi, provider_name=provider_last, provider_first_name=provider_first,
            service=service.code, modality=body.modality, date_of_service=body.date_of_service,
            service_type_codes=tuple(codes), patient_jurisdiction=body.patient_jurisdiction,
            patient_location_type=body.patient_location_type,
            clinician_id=clinician.clinician_id if clinician else None,
            provider_in_network=_in_network(clinician, body.payer_id),
            dependent=DependentPatient(d.first_name, d.last_name, d.birth_date, d.relationship) if d else None)
        return self.run_check(caller, owner, body.payer_id, request, self.settings.budget_seconds,
                              patient_id=body.patient_id, refuse_unsendable=True)

    def check_for_visit(self, caller: Caller, appointment: Appointment, patient: Patient, clinician: Clinician,
                        coverage: Coverage, day: date) -> EligibilityCheck | None:
        """The check booking runs for a visit (short budget); None when the payer is not configured."""
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
        try:
            return self.run_check(caller, Owner("tenant", appointment.tenant_id), coverage.payer_id, request,
                                  self.settings.booking_budget_seconds, patient_id=patient.patient_id,
                                  appointment_id=appointment.appointment_id)
        except PayerNotConfigured:
            return None

    def run_check(self, caller: Caller, owner: Owner, payer_id: str, request: CheckRequest, budget: float, *,
                  patient_id: str | None = None, appointment_id: str | None = None,
                  refuse_unsendable: bool = False) -> EligibilityCheck:
        payer = self.resolve_payer(payer_id, request.date_of_service)
        if payer is None or payer.connector is None:
            raise PayerNotConfigured("The payer has no connector: it configures one with PUT /v1/payers/{payer_id}.",
                                     errors=[FieldError("payer_id", "has no connector configured")])
        if refuse_unsendable:
            self._vet_sendable(payer, request)
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
            answer = self._read_271(cached["raw_271"], request, trace=None, payer=payer)
            check = replace(check, status=answer.status, answer=answer, raw_271=cached["raw_271"], cached=True,
                            source=cached.get("source", check.source),
                            checked_at=datetime.fromisoformat(cached["checked_at"]), give_up_at=None)
        else:
            check = self._apply(check, self._ask(payer, check_id, request, budget, first_attempt=1), now)
            if digest:
                self._remember(owner, payer_id, digest, check)
        check = replace(check, telehealth=self._telehealth(payer, check))
        stored = self.checks.add_check(check)
        self._audit_lookup(caller, owner, payer_id, request.member_id, "eligibility.check.create",
                           _resource(stored), patient_id, stored.status)
        return stored

    def _audit_lookup(self, caller: Caller, owner: Owner, payer_id: str, member_id: str, action: str,
                      resource: str, patient_id: str | None, outcome: str) -> None:
        """A member lookup goes into the asker's log and into the payer's own, with the member's
        pseudonym (never the id) and the asking tenant, so the payer sees who looked up whom."""
        extra = {"member": self.pseudonym("audit-member", payer_id, member_id.upper()),
                 "asking_tenant": caller.tenant_id if owner.kind == "tenant" else None}
        self.audit.record(caller, action, resource, patient_id, outcome, extra=extra)
        if owner.kind == "tenant":
            self.audit.record(caller, action, resource, None, outcome, log=payer_log(payer_id), extra=extra)

    def get_check(self, caller: Caller, check_id: str, *, include_raw: bool = False) -> EligibilityCheck:
        owner = _owner(caller)
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

    def _repoll(self, caller: Caller, check: EligibilityCheck) -> EligibilityCheck:
        """A pending check: ask the payer again once ``next_attempt_at`` has come; give up after ``give_up_at``."""
        now = self.clock()
        if check.next_attempt_at is not None and now < check.next_attempt_at:
            return check
        if check.give_up_at is not None and now >= check.give_up_at:
            new = replace(check, status="error", checked_at=now, next_attempt_at=None)
        else:
            payer = self.resolve_payer(check.payer_id, check.request.date_of_service)
            if payer is None or payer.connector is None:
                new = replace(check, status="error", failure="payer_not_configured", checked_at=now,
                              next_attempt_at=None)
            else:
                outcome = self._ask(payer, check.check_id, check.request, self.settings.budget_seconds,
                                    first_attempt=check.attempts + 1)
                new = self._apply(replace(check, polls=check.polls + 1), outcome, now)
                new = replace(new, telehealth=self._telehealth(payer, new))
                if new.is_final and payer.connector.kind == "x12_http":
                    self._remember(check.owner, check.payer_id, self._cache_digest(check.payer_id, check.request), new)
        try:
            stored = self.checks.update_check(new)
        except Conflict:
            return self.checks.get_check(check.owner, check.check_id) or check  # a concurrent read settled it
        if stored.is_final and stored.appointment_id:
            for hook in self.on_settled:
                hook(caller, stored)
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

    def _telehealth(self, payer: ResolvedPayer, check: EligibilityCheck) -> Any:
        r = check.request
        answer = check.answer
        return telehealth_coverage(payer.policy.terms, r.modality, r.patient_location_type, check.status,
                                   answer.service_covered if answer else None, bool(answer and answer.carve_out))

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

    # --- asking the payer --------------------------------------------------------------------------
    def _ask(self, payer: ResolvedPayer, check_id: str, request: CheckRequest, budget: float, *,
             first_attempt: int) -> Outcome:
        """Attempts inside the budget, with backoff; a budget spent on retryable failures is `pending`."""
        deadline = self.monotonic() + budget
        trace = _trace_number(check_id)
        attempts, last = 0, Outcome("pending", None, None, 0, "timeout")
        while True:
            attempts += 1
            remaining = deadline - self.monotonic()
            timeout = min(self.settings.attempt_timeout_seconds, remaining)
            outcome = self._attempt(payer, check_id, first_attempt + attempts - 1, request, trace, timeout)
            if outcome.status != "pending":
                return replace(outcome, attempts=attempts)
            last = replace(outcome, attempts=attempts)
            if attempts >= self.retry.max_attempts:
                break
            delay = self.retry.delay(attempts, self.rng())
            if self.monotonic() + delay + MIN_ATTEMPT_SECONDS >= deadline:
                break
            self.sleep(delay)
        logger.info("payer did not answer in the budget", extra={"check_id": check_id, "payer_id": payer.payer_id,
                                                                 "attempts": attempts, "failure": last.failure})
        return last

    def _attempt(self, payer: ResolvedPayer, check_id: str, attempt: int, request: CheckRequest, trace: str,
                 timeout: float) -> Outcome:
        from ..adapters.payers import PayerCallFailed
        from ..x12.syntax import X12Error
        from ..x12.write_270 import write_270

        assert payer.connector is not None
        now = self.clock()
        try:
            inquiry = self._inquiry(payer, request, trace)
        except NotRepresentable:
            return Outcome("error", None, None, 1, "x12_name_not_representable")
        envelope = self._envelope(payer, now)
        try:
            x12_270 = write_270(inquiry, envelope)
        except X12Error as exc:
            return Outcome("error", None, None, 1, f"x12_request_invalid:{exc.code}")
        try:
            if payer.connector.kind == "x12_http":
                raw = self.http.exchange(payer.connector.url or "", x12_270, timeout)
            else:
                raw = self.roster.exchange(payer.payer_id, x12_270, lambda info: info.reply(
                    interchange_control_number=envelope.interchange_control_number,
                    group_control_number=envelope.group_control_number, created_at=now), now.date())
        except PayerCallFailed as exc:
            return Outcome("pending" if exc.retryable else "error", None, None, 1, exc.code)
        except DomainError as exc:  # the URL is no longer allowed (e.g. DNS now points inside)
            return Outcome("error", None, None, 1, exc.code.lower())
        if not _is_x12(raw):  # any other 200 body (an HTML page, JSON, another service) is an error, never kept
            logger.info("payer answer is not X12", extra={"check_id": check_id, "payer_id": payer.payer_id})
            return Outcome("error", None, None, 1, "x12_response_invalid")
        answer = self._read_271(raw, request, trace, payer=payer)
        if answer.retryable:
            code = next((e.code for e in answer.aaa_errors), "42")
            return Outcome("pending", answer, raw, 1, f"aaa_{code}")
        failure = None
        if answer.status == "error" and answer.rejection is not None:
            failure = f"x12_rejected_{answer.rejection.kind.lower()}"
        elif answer.status == "error":
            failure = next((f"aaa_{e.code}" for e in answer.aaa_errors), None) or "x12_response_invalid"
        return Outcome(answer.status, answer, raw, 1, failure)

    def _inquiry(self, payer: ResolvedPayer, r: CheckRequest, trace: str) -> Any:
        """The 270's content in the connector's character set (raises NotRepresentable)."""
        from ..x12.inquiry import Dependent, EligibilityInquiry

        assert payer.connector is not None
        partner = payer.connector.x12
        charset = "extended" if partner.character_set == "extended" else "basic"

        def text(value: str, length: int) -> str:
            return x12_text(value, length, charset)

        if partner.provider_entity == "organization":
            provider_name = text(partner.organization_name or r.provider_name, 60)
            provider_first, npi = None, partner.organization_npi or r.provider_npi
        else:
            provider_name = text(r.provider_name, 60)
            provider_first = text(r.provider_first_name, 35) if r.provider_first_name else None
            npi = r.provider_npi
        d = r.dependent
        dependent = (Dependent(text(d.first_name, 35), text(d.last_name, 60), d.birth_date, d.relationship)
                     if d else None)
        return EligibilityInquiry(
            payer_id=payer.payer_id, payer_name=text(payer.name, 60), provider_npi=npi,
            provider_name=provider_name, provider_first_name=provider_first, member_id=r.member_id.upper(),
            first_name=text(r.first_name, 35), last_name=text(r.last_name, 60),
            birth_date=None if d else r.birth_date, dependent=dependent,
            date_of_service=r.date_of_service, service_type_codes=r.service_type_codes, trace_number=trace)

    def _vet_sendable(self, payer: ResolvedPayer, r: CheckRequest) -> None:
        """A JSON check whose names or member id the payer's connection cannot carry: 422 naming them."""
        assert payer.connector is not None
        charset = "extended" if payer.connector.x12.character_set == "extended" else "basic"
        fields = [("member.first_name", r.first_name), ("member.last_name", r.last_name)]
        if r.dependent:
            fields += [("dependent.first_name", r.dependent.first_name),
                       ("dependent.last_name", r.dependent.last_name)]
        errors = []
        for name, value in fields:
            try:
                x12_text(value, 60, charset)
            except NotRepresentable:
                errors.append(FieldError(name, "has letters this payer's X12 character set cannot carry"))
        if not re.fullmatch(r"[A-Z0-9-]{2,80}", r.member_id.upper()):
            errors.append(FieldError("member.member_id", "must be 2 to 80 letters, digits or hyphens"))
        if errors:
            raise NotSendable("A value cannot be sent to this payer.", errors=errors)

    def _envelope(self, payer: ResolvedPayer, now: datetime) -> Any:
        """ISA/GS per the connector: our sender id, the clearinghouse as receiver, the stage's usage
        indicator, and a control number from the sender's atomic counter."""
        from ..x12.envelope import Envelope

        assert payer.connector is not None
        partner = payer.connector.x12
        sender = partner.sender_id or self.settings.x12_sender_id
        receiver = partner.receiver_id or (re.sub(r"[^A-Z0-9]", "", payer.payer_id.upper())[:15] or "PAYER")
        control = self.control_numbers.next(partner.sender_qualifier, sender)
        usage = partner.usage_indicator or self.settings.x12_usage_indicator
        return Envelope(sender_id=sender, receiver_id=receiver.ljust(2, "0"), sender_qualifier=partner.sender_qualifier,
                        receiver_qualifier=partner.receiver_qualifier,
                        application_receiver_code=partner.application_receiver_code,
                        interchange_control_number=control, group_control_number=control,
                        usage_indicator=usage, created_at=now.astimezone(ZoneInfo("UTC")).replace(tzinfo=None))

    def _read_271(self, raw: str, request: CheckRequest, trace: str | None, *,
                  payer: ResolvedPayer | None = None) -> PayerAnswer:
        from ..x12.ack import read_acknowledgment
        from ..x12.benefits import summarize_benefits
        from ..x12.read_271 import parse_271
        from ..x12.syntax import X12Error

        try:
            parsed = parse_271(raw)
        except X12Error as exc:
            ack = read_acknowledgment(raw)
            if ack is not None and not ack.accepted:
                logger.info("270 rejected by the clearinghouse", extra={"ack": ack.kind, "ack_code": ack.ack_code,
                                                                         "codes": [c.code for c in ack.codes]})
                return PayerAnswer("error", rejection=Rejection(ack.kind, ack.ack_code, tuple(
                    AckEntry(c.code, c.description, c.segment, c.element) for c in ack.codes)))
            logger.info("unreadable 271", extra={"x12_error": exc.code})
            return PayerAnswer("error")
        # A payer-level AAA (2100A/2100B) may end the 271 before any member loop: there is no TRN to
        # echo, and the AAA (retryable or not) is the answer.
        payer_level_only = (parsed.subscriber is None and parsed.dependent is None
                            and any(e.level in ("information_source", "information_receiver")
                                    for e in parsed.aaa_errors))
        if trace is not None and trace not in parsed.echoed_trace_numbers and not payer_level_only:
            return PayerAnswer("error", aaa_errors=(AaaEntry("TRACE", "The 271 does not echo our TRN", "envelope"),))
        places = places_of_service(payer.policy.terms, request.modality, request.patient_location_type) if payer \
            else ()
        s = summarize_benefits(parsed, request.service_type_codes, provider_in_network=request.provider_in_network,
                               procedure_code=request.service, places_of_service=places)
        if s.warnings:
            logger.info("271 read around", extra={"warnings": list(s.warnings)})
        b = s.benefits_json()
        return PayerAnswer(
            status=s.status, plan_name=s.plan_name, plan_begin=s.plan_begin, plan_end=s.plan_end,
            benefits=Benefits(b["copay"], b["coinsurance"], b["deductible_remaining"],  # type: ignore[arg-type]
                              b["out_of_pocket_remaining"], s.in_network),  # type: ignore[arg-type]
            benefit_network=s.benefit_network, service_covered=s.service_covered,
            aaa_errors=tuple(AaaEntry(e.reason_code, e.description, e.level, e.follow_up_action)
                             for e in s.aaa_errors),
            retryable=s.retryable, carve_out=s.carve_out,
            refer_to=tuple(ReferTo(e.entity_code, e.name, e.id_qualifier, e.id, e.phone) for e in s.refer_to),
            warnings=s.warnings)

    # --- POST /v1/eligibility/x12 -----------------------------------------------------------------
    def answer_270(self, caller: Caller, text: str, before_answer: Callable[[str], None] | None = None) -> str:
        """A 271 for a 270, from the roster of the payer the 270 names (NM1*PR ... PI*payer_id)."""
        from ..x12.read_270 import parse_270
        from ..x12.syntax import X12Error
        from ..x12.write_271 import write_271

        now = self.clock()
        try:
            parsed = parse_270(text, default_date_of_service=now.date())
        except X12Error as exc:
            raise ValidationFailed("The 270 cannot be read.", errors=[FieldError("body", str(exc))]) from exc
        payer_id = parsed.inquiry.payer_id
        if _owner(caller).kind == "payer" and payer_id != caller.payer_id:
            raise NotFound("No such payer.")
        if not re.fullmatch(r"[A-Za-z0-9_-]{2,64}", payer_id) or self.resolve_payer(payer_id, now.date()) is None:
            raise NotFound("No such payer.")
        if before_answer is not None:
            before_answer(payer_id)  # the per-tenant and per-payer limits, once the payer is known
        response = self.roster.respond(payer_id, parsed.inquiry)
        info = parsed.envelope
        control = self.control_numbers.next(info.receiver_qualifier, info.receiver_id)
        try:
            answer = write_271(response, parsed.envelope.reply(
                interchange_control_number=control, group_control_number=control,
                created_at=now.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)))
        except X12Error as exc:  # whatever the 271 must echo, the reader let through but the writer refuses
            raise ValidationFailed("The 270 holds values a 271 cannot echo.",
                                   errors=[FieldError("body", str(exc))]) from exc
        self._audit_lookup(caller, _owner(caller), payer_id, parsed.inquiry.member_id, "eligibility.x12",
                           f"payer/{payer_id}/x12", None, "success")
        return answer


# --- the booking hook -------------------------------------------------------------------------------

class AppointmentEligibility:
    """Booking's EligibilityRecorder: checks the patient's first coverage for the visit, records the status.

    Never raises and never rolls anything back: a payer problem leaves the status ``unknown`` (or
    ``pending``). The check id goes into the appointment's history (action ``eligibility_checked``),
    so schedulers can read the check; a pending check that a later GET completes updates the visit.
    """

    def __init__(self, service: EligibilityService, appointments: AppointmentRepository, clock: Clock,
                 new_id: IdFactory) -> None:
        self.service, self.appointments, self.clock, self.new_id = service, appointments, clock, new_id
        service.on_settled.append(self.settle)

    def record(self, caller: Caller, appointment: Appointment, patient: Patient, clinician: Clinician,
               previous: Appointment | None = None) -> Appointment:
        try:
            return self._record(caller, appointment, patient, clinician, previous)
        except Exception as exc:  # the booking stands whatever the payer or this hook does
            logger.warning("eligibility not recorded", extra={"appointment_id": appointment.appointment_id,
                                                              "error": type(exc).__name__})
            return appointment

    def _record(self, caller: Caller, appointment: Appointment, patient: Patient, clinician: Clinician,
                previous: Appointment | None) -> Appointment:
        day = _local_day(appointment)
        if previous is not None and not self._needs_recheck(previous, appointment, day):
            return appointment
        coverage = patient.coverages[0] if patient.coverages else None
        check = (self.service.check_for_visit(caller, appointment, patient, clinician, coverage, day)
                 if coverage else None)
        status = (appointment_status(check.status, check.telehealth, appointment.modality, check.answer)
                  if check else "unknown")
        if check is None and status == appointment.eligibility_status:
            return appointment
        return self._store(caller, appointment, status, check.check_id if check else "")

    def billing_policy(self, patient: Patient, on: date) -> TelehealthPolicy | None:
        """The payer's own telehealth billing (PUT /v1/payers/{id} or its rules entry) for the visit's billing facts."""
        try:
            coverage = patient.coverages[0] if patient.coverages else None
            payer = self.service.resolve_payer(coverage.payer_id, on) if coverage else None
        except Exception as exc:  # billing falls back to the CMS conventions; the booking stands
            logger.warning("payer billing policy not read", extra={"error": type(exc).__name__})
            return None
        if payer is None:
            return None
        t = payer.policy.terms
        return TelehealthPolicy(t.place_of_service_home, t.place_of_service_other,
                                {Modality.VIDEO: t.modifiers_video, Modality.PHONE: t.modifiers_phone})

    def _needs_recheck(self, previous: Appointment, current: Appointment, day: date) -> bool:
        begin = end = None
        last = last_eligibility_event(previous.history)
        if last and last.get("check_id"):
            check = self.service.checks.get_check(Owner("tenant", previous.tenant_id), last["check_id"])
            if check is not None and check.answer is not None:
                begin, end = check.answer.plan_begin, check.answer.plan_end
        return needs_recheck(previous.eligibility_status, previous.modality, current.modality, _local_day(previous),
                             day, begin, end)

    def _store(self, caller: Caller, appointment: Appointment, status: str, check_id: str) -> Appointment:
        now = self.clock()
        event = {"at": now.isoformat(), "action": HISTORY_ACTION, "role": caller.primary_role,
                 "status": status, "check_id": check_id}
        new = replace(appointment, eligibility_status=status, history=(*appointment.history, event))
        return self.appointments.save(appointment, new, self.new_id("tx"))

    def settle(self, caller: Caller, check: EligibilityCheck) -> None:
        """A pending check of a visit became final on a later read: record the new status on the visit."""
        try:
            if check.owner.kind != "tenant" or not check.appointment_id:
                return
            appointment = self.appointments.get(check.owner.id, check.appointment_id)
            last = last_eligibility_event(appointment.history) if appointment else None
            if appointment is None or last is None or last.get("check_id") != check.check_id:
                return  # the visit was changed and checked again since
            status = appointment_status(check.status, check.telehealth, appointment.modality, check.answer)
            if status != appointment.eligibility_status:
                self._store(caller, appointment, status, check.check_id)
        except Exception as exc:
            logger.warning("eligibility settle not recorded", extra={"check_id": check.check_id,
                                                                     "error": type(exc).__name__})


# --- helpers ------------------------------------------------------------------------------------------

def _owner(caller: Caller) -> Owner:
    """A tenant's scheduler owns the checks it asks for; a payer token owns its own."""
    if caller.has("scheduler", "admin"):
        return Owner("tenant", caller.tenant_id)
    if caller.has("payer") and caller.payer_id:
        return Owner("payer", caller.payer_id)
    raise NotFound("No such eligibility check.")


def _require_own_payer(caller: Caller, payer_id: str) -> None:
    if not (caller.has("payer") and caller.payer_id == payer_id):
        raise NotFound("No such payer.")


def _in_network(clinician: Clinician | None, payer_id: str) -> bool | None:
    """From our directory, never from EB12: listed -> True; other networks listed -> False; none -> unknown."""
    if clinician is None or not clinician.payer_networks:
        return None
    return payer_id in clinician.payer_networks


def _local_day(appointment: Appointment) -> date:
    return appointment.start.astimezone(ZoneInfo(appointment.timezone)).date()


def _is_x12(raw: str) -> bool:
    """A 271, or the clearinghouse's TA1/999 rejection of our 270 (read for its codes): anything else that
    answers 200 (an HTML page, JSON, another service) is not a payer answer and is never stored."""
    from ..x12.ack import read_acknowledgment
    from ..x12.read_271 import parse_271
    from ..x12.syntax import X12Error

    try:
        parse_271(raw)
    except X12Error:
        return read_acknowledgment(raw) is not None
    return True


def _trace_number(check_id: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", check_id.upper())[:50]


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


def build_eligibility(settings: Any, clock: Clock, new_id: IdFactory, directory: DirectoryRepository,
                      audit: AuditTrail, rules: Callable[[], RuleBook]) -> EligibilityService:
    """The composition of the eligibility service (eligibility_lazy builds it on first use)."""
    from ..adapters.dynamo.payers import EligibilityRepository, PayerRepository, Pseudonyms
    from ..adapters.payers import DnsResolver, UrlPolicy

    pseudonym = Pseudonyms(settings.eligibility.pseudonym_key)
    url_policy = UrlPolicy(settings.is_local, DnsResolver(), settings.own_endpoints)
    return EligibilityService(PayerRepository(pseudonym), EligibilityRepository(), directory, rules, clock, new_id,
                              audit, settings.eligibility, url_policy, pseudonym)
