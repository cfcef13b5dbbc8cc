"""Eligibility after commit: the visit's payer is asked by the table stream's consumer, never in the request.

Booking answers without asking anyone: a fresh cached answer's status when the cache holds one for the
visit's question (one key in the booking's batched read), else ``pending`` when the patient has a
coverage (``unknown`` when none). The consumer (services/visit_followers.py) then hands each committed
change of a visit to ``on_change``: a new visit, or one moved into another plan year or switched to
another modality, is checked (short budget, the payer's cached answer first) and the outcome lands on
the visit with ONE conditional UpdateItem of its eligibility status and a history event
(``eligibility_checked``, with the check id and the visit version it answers for). A visit changed
meanwhile is read again and the result lands on it if it still asks the same question (same patient,
service, clinician, modality and day); otherwise that later change is checked on its own.

Redelivery (Lambda retries a whole batch): a visit whose history already holds a result for this
version or a later one is left alone, so the payer is not asked twice. A check that stays
``pending`` (timeout, 5xx) leaves a pointer at its next attempt; the scheduled worker
(``finish_pending``, api/jobs.py) asks again from then on, and a final answer lands the same way
(``settle``, also reached when someone reads the check).

The eligibility service is reached through ``service()``: bootstrap builds it on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from ...domain.access import Caller
from ...domain.billing import TelehealthPolicy
from ...domain.eligibility_hook import HISTORY_ACTION, last_eligibility_event, status_before_asking
from ...domain.errors import Conflict
from ...domain.keyed_reads import KeyedRead, known
from ...domain.model import Appointment, Clinician, Modality, Patient
from ...domain.ports import Clock, EligibilityDirectory, PendingChecks, VisitRecords
from ...domain.visit_changes import (
    BOOKED,
    MODALITY,
    RESCHEDULED,
    checked_for_version,
    local_day,
    same_eligibility_facts,
)
from ...observability import logger

if TYPE_CHECKING:
    from ...domain.eligibility import EligibilityCheck
    from .service import EligibilityService

LAND_ATTEMPTS = 3
# How far back the worker looks for pending checks it has not finished (it runs every minute).
PENDING_LOOKBACK = timedelta(hours=24)
CHECKED = frozenset({BOOKED, RESCHEDULED, MODALITY})
T = TypeVar("T")


def system_caller(tenant: str) -> Caller:
    """The worker asks on the tenant's behalf: its checks are the tenant's, audited as the system's."""
    return Caller("system:eligibility", tenant, frozenset({"scheduler"}))


class VisitEligibility:
    def __init__(self, service: Callable[[], EligibilityService], appointments: VisitRecords,
                 directory: EligibilityDirectory, pending: PendingChecks, clock: Clock) -> None:
        self.service, self.appointments, self.directory = service, appointments, directory
        self.pending, self.clock = pending, clock

    # --- the stream consumer's follower ------------------------------------------------------
    def on_change(self, change: str, before: Appointment | None, after: Appointment) -> None:
        if change not in CHECKED:
            return
        current = self.appointments.get(after.tenant_id, after.appointment_id)
        if current is None or checked_for_version(current.history) >= after.version:
            return  # a redelivered change whose result already landed (or a later one did)
        patient = self.directory.get_patient(after.tenant_id, after.patient_id)
        if patient is None:
            return
        if before is not None and not self._needs_recheck(before, after):
            return
        self._check(after, current, patient)

    def _check(self, asked: Appointment, current: Appointment, patient: Patient) -> None:
        from ...domain.eligibility import appointment_status

        caller = system_caller(asked.tenant_id)
        clinician = self.directory.get_clinician(asked.tenant_id, asked.clinician_id)
        coverage = patient.coverages[0] if patient.coverages else None
        check = None
        if coverage is not None and clinician is not None:
            try:
                check = self.service().checks.check_for_visit(caller, asked, patient, clinician, coverage,
                                                               local_day(asked))
            except Exception as exc:  # the payer side failing leaves the visit unknown, never the batch stuck
                logger.warning("eligibility not checked", extra={"appointment_id": asked.appointment_id,
                                                                 "error": type(exc).__name__})
        status = (appointment_status(check.status, check.telehealth, asked.modality, check.answer)
                  if check else "unknown")
        if check is not None and check.status == "pending" and check.next_attempt_at is not None:
            self.pending.remind(asked.tenant_id, check.check_id, check.next_attempt_at)
        if check is None and status == current.eligibility_status:
            return
        self._land(asked, current, status, check.check_id if check else "", asked.version)

    def _land(self, asked: Appointment, current: Appointment, status: str, check_id: str, for_version: int) -> None:
        """One conditional update; on a concurrent change, read again and land only on the same question."""
        event = {"at": self.clock().isoformat(), "action": HISTORY_ACTION, "role": "system", "status": status,
                 "check_id": check_id, "for_version": str(for_version)}
        for _ in range(LAND_ATTEMPTS):
            if not same_eligibility_facts(asked, current):
                return  # the visit moved to another question: its own change is checked on its own
            try:
                self.appointments.land_eligibility(current, status, event)
                return
            except Conflict:
                reread = self.appointments.get(current.tenant_id, current.appointment_id)
                if reread is None:
                    return
                current = reread
        raise Conflict("The visit kept changing while its eligibility result landed.")

    def _needs_recheck(self, before: Appointment, after: Appointment) -> bool:
        from ...domain.eligibility import Owner, needs_recheck

        begin = end = None
        last = last_eligibility_event(before.history)
        if last and last.get("check_id"):
            check = self.service().checks.checks.get_check(Owner("tenant", before.tenant_id), last["check_id"])
            if check is not None and check.answer is not None:
                begin, end = check.answer.plan_begin, check.answer.plan_end
        return needs_recheck(before.eligibility_status, before.modality, after.modality, local_day(before),
                             local_day(after), begin, end)

    # --- pending checks ----------------------------------------------------------------------
    def finish_pending(self) -> dict[str, int]:
        """The scheduled worker: ask again every pending check that is due; a final answer lands on its
        visit (through ``settle``), one still pending is due again at its next attempt."""
        from ...domain.eligibility import Owner

        counts = {"asked": 0, "settled": 0}
        now = self.clock()
        for tenant, check_id, at in self.pending.due(now, PENDING_LOOKBACK):
            checks = self.service().checks
            check = checks.checks.get_check(Owner("tenant", tenant), check_id)
            if check is not None and check.status == "pending":
                if check.next_attempt_at is None or check.next_attempt_at <= now:
                    check = checks.finish_pending(system_caller(tenant), check)
                    counts["asked"] += 1
                again = check.next_attempt_at
                if check.status != "pending":
                    counts["settled"] += 1
                elif again is not None and again == at:
                    continue  # due later than this run (a read asked meanwhile): the pointer stays
                elif again is not None:
                    self.pending.remind(tenant, check_id, again)  # before the drop: a crash keeps one pointer
            self.pending.drop(tenant, check_id, at)
        return counts

    def settle(self, caller: Caller, check: EligibilityCheck) -> None:
        """A pending check of a visit became final (the worker, or someone reading it): record it on the visit
        if the visit's last check is still this one."""
        from ...domain.eligibility import appointment_status

        try:
            if check.owner.kind != "tenant" or not check.appointment_id:
                return
            visit = self.appointments.get(check.owner.id, check.appointment_id)
            last = last_eligibility_event(visit.history) if visit else None
            if visit is None or last is None or last.get("check_id") != check.check_id:
                return  # the visit was changed and checked again since
            status = appointment_status(check.status, check.telehealth, visit.modality, check.answer)
            if status != visit.eligibility_status:
                self._land(visit, visit, status, check.check_id, int(last.get("for_version") or visit.version))
        except Exception as exc:
            logger.warning("eligibility settle not recorded", extra={"check_id": check.check_id,
                                                                     "error": type(exc).__name__})

    # --- inside the request: no payer call ---------------------------------------------------
    def status_read(self, appointment: Appointment, patient: Patient, clinician: Clinician) -> KeyedRead[str]:
        """A fresh cached answer's status (the cache entry read in the booking's batch), else pending; unknown
        without a coverage. Neither building the read nor answering it raises: the booking stands and the
        consumer asks after commit."""
        before = status_before_asking(patient)
        if not patient.coverages:
            return known(before)
        try:
            read = self.service().checks.cached_visit_status(appointment, patient, clinician, patient.coverages[0],
                                                             local_day(appointment))
        except Exception as exc:
            logger.warning("eligibility cache not read", extra={"error": type(exc).__name__})
            return known(before)
        return _never_raising(read.then(lambda cached: cached or before), before, "eligibility cache not read")

    def payer_read(self, patient: Patient) -> KeyedRead[None]:
        """The payer's configuration read with the booking's other keyed reads when this process lacks it."""
        if not patient.coverages:
            return known(None)
        try:
            read = self.service().configuration.payers.config_read(patient.coverages[0].payer_id)
        except Exception as exc:
            logger.warning("payer configuration not read", extra={"error": type(exc).__name__})
            return known(None)
        return _never_raising(read, None, "payer configuration not read")

    def billing_policy(self, patient: Patient, on: date) -> TelehealthPolicy | None:
        """The payer's own telehealth billing (PUT /v1/payers/{id} or its rules entry) for the visit's billing facts."""
        if not patient.coverages:
            return None  # no payer: nothing to build
        try:
            payer = self.service().resolve_payer(patient.coverages[0].payer_id, on)
        except Exception as exc:  # billing falls back to the CMS conventions; the booking stands
            logger.warning("payer billing policy not read", extra={"error": type(exc).__name__})
            return None
        if payer is None:
            return None
        t = payer.policy.terms
        return TelehealthPolicy(t.place_of_service_home, t.place_of_service_other,
                                {Modality.VIDEO: t.modifiers_video, Modality.PHONE: t.modifiers_phone})


def _never_raising(read: KeyedRead[T], fallback: T, message: str) -> KeyedRead[T]:
    """The booking stands whatever eligibility's part of its batch finds: a failing answer is `fallback`."""

    def answer(found: Mapping[Hashable, Any]) -> T:
        try:
            return read.answer(found)
        except Exception as exc:
            logger.warning(message, extra={"error": type(exc).__name__})
            return fallback

    return KeyedRead(read.keys, answer)
