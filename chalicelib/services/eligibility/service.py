"""EligibilityService: the one object the routes, booking's hook and bootstrap see; the work is in its parts."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ...domain.access import Caller
from ...domain.eligibility import CheckRequest, EligibilityCheck, Owner, RosterMember
from ...domain.payer_policy import Connector, PolicyOverride
from ...domain.ports import (
    AuditTrail,
    Clock,
    ConnectorUrlPolicy,
    ControlNumberCounter,
    EligibilityCheckStore,
    EligibilityDirectory,
    IdFactory,
    PayerConnector,
    PayerStore,
    Pseudonym,
)
from ...domain.rulebook import RuleBook
from .checks import EligibilityChecks, Settled
from .inputs import CheckInput
from .payer_calls import PayerCalls
from .payers import PayerConfiguration, ResolvedPayer
from .roster import RosterConnector
from .x12_answering import X12Answering

if TYPE_CHECKING:
    from datetime import date

    from ...settings import EligibilitySettings


class EligibilityService:
    def __init__(self, payers: PayerStore, checks: EligibilityCheckStore, directory: EligibilityDirectory,
                 rules: Callable[[], RuleBook], clock: Clock, new_id: IdFactory, audit: AuditTrail,
                 settings: EligibilitySettings, url_policy: ConnectorUrlPolicy, pseudonym: Pseudonym, *,
                 http: PayerConnector, control_numbers: ControlNumberCounter, on_settled: Settled | None = None,
                 rng: Callable[[], float] = random.random, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.payers = payers  # the store (local/seed_payers.py writes configurations and rosters through it)
        self.configuration = PayerConfiguration(payers, rules, clock, audit, url_policy)
        roster = RosterConnector(payers)
        self.calls = PayerCalls(http, roster, control_numbers, settings, clock, rng, sleep, monotonic)
        self.checks = EligibilityChecks(self.configuration, self.calls, checks, directory, rules, clock, new_id,
                                        audit, settings, pseudonym, on_settled)
        self.x12 = X12Answering(self.checks, roster, control_numbers, clock)

    # Settings and the URL policy are replaced as a whole (a stage's tests); every part sees the new one.
    @property
    def settings(self) -> EligibilitySettings:
        return self.checks.settings

    @settings.setter
    def settings(self, value: EligibilitySettings) -> None:
        self.checks.settings = self.calls.settings = value

    @property
    def url_policy(self) -> ConnectorUrlPolicy:
        return self.configuration.url_policy

    @url_policy.setter
    def url_policy(self, value: ConnectorUrlPolicy) -> None:
        self.configuration.url_policy = value

    def put_payer(self, caller: Caller, payer_id: str, name: str, connector: Connector,
                  override: PolicyOverride) -> ResolvedPayer:
        return self.configuration.put_payer(caller, payer_id, name, connector, override)

    def get_payer(self, caller: Caller, payer_id: str) -> ResolvedPayer:
        return self.configuration.get_payer(caller, payer_id)

    def resolve_payer(self, payer_id: str, on: date) -> ResolvedPayer | None:
        return self.configuration.resolve_payer(payer_id, on)

    def put_member(self, caller: Caller, payer_id: str, member: RosterMember) -> bool:
        return self.configuration.put_member(caller, payer_id, member)

    def create_check(self, caller: Caller, body: CheckInput) -> EligibilityCheck:
        return self.checks.create_check(caller, body)

    def get_check(self, caller: Caller, check_id: str, *, include_raw: bool = False) -> EligibilityCheck:
        return self.checks.get_check(caller, check_id, include_raw=include_raw)

    def run_check(self, caller: Caller, owner: Owner, payer_id: str, request: CheckRequest, budget: float, *,
                  patient_id: str | None = None, appointment_id: str | None = None) -> EligibilityCheck:
        return self.checks.run_check(caller, owner, payer_id, request, budget, patient_id=patient_id,
                                     appointment_id=appointment_id)

    def answer_270(self, caller: Caller, text: str, before_answer: Callable[[str], None] | None = None) -> str:
        return self.x12.answer_270(caller, text, before_answer)
