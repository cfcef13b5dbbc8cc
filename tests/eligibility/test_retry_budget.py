"""The time budget and the backoff, on a fake clock: no network, no DynamoDB (fakes, not mocks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest

from chalicelib.adapters.payers import PayerCallFailed
from chalicelib.domain.access import Caller
from chalicelib.domain.eligibility import CheckRequest, Owner
from chalicelib.domain.model import Modality
from chalicelib.domain.payer_policy import Connector, PayerConfig
from chalicelib.rules.bundle import rulebook
from chalicelib.services.eligibility import EligibilityService
from chalicelib.settings import EligibilitySettings

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("aws")]  # the control-number counter is a DynamoDB item
NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


@dataclass
class Time:
    """monotonic() and sleep() of one fake clock."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class SlowPayer:
    """Every attempt uses its whole timeout and fails as the real connector does."""

    time: Time
    code: str = "timeout"
    takes_whole_timeout: bool = True
    timeouts: list[float] = field(default_factory=list)

    def exchange(self, url: str, x12_270: str, timeout: float) -> str:
        self.timeouts.append(timeout)
        if self.takes_whole_timeout:
            self.time.now += timeout
        raise PayerCallFailed(self.code, retryable=self.code != "http_400")


class Payers:
    def get_config(self, payer_id: str) -> PayerConfig:
        return PayerConfig(payer_id, "Slow Plan", Connector("x12_http", "https://payer.example.com/x12"))

    def get_member(self, payer_id: str, member_id: str) -> None:
        return None


class Checks:
    def __init__(self) -> None:
        self.items: dict[str, Any] = {}

    def get_cached(self, *args: Any) -> None:
        return None

    def put_cached(self, *args: Any) -> None:
        raise AssertionError("nothing final to cache")

    def add_check(self, check: Any) -> Any:
        self.items[check.check_id] = check
        return check


class Audit:
    def __init__(self) -> None:
        self.entries: list[tuple[str, str]] = []

    def record(self, caller: Caller, action: str, resource: str, patient_id: str | None, outcome: str, *,
               log: str | None = None, extra: dict[str, str | None] | None = None) -> None:
        if log is None:  # the caller's own log; payer-side copies are tested against DynamoDB
            self.entries.append((action, outcome))


def _service(time: Time, payer: SlowPayer, budget: float, unit_random: float = 0.999) -> tuple[EligibilityService,
                                                                                                 Audit]:
    settings = EligibilitySettings(budget_seconds=budget, attempt_timeout_seconds=4.0, max_attempts=4,
                                   backoff_base_seconds=0.25, backoff_cap_seconds=2.0, pseudonym_key="k")
    audit = Audit()
    service = EligibilityService(
        Payers(), Checks(), None, rulebook, lambda: NOW, lambda prefix: f"{prefix}_1", audit,  # type: ignore[arg-type]
        settings, None, lambda *parts: "digest", http=payer, rng=lambda: unit_random,  # type: ignore[arg-type]
        sleep=time.sleep, monotonic=time.monotonic)
    return service, audit


REQUEST = CheckRequest(member_id="W1", first_name="JANE", last_name="DOE", birth_date=date(1985, 4, 12),
                       provider_npi="1234567893", provider_name="CLINIC", service="90834", modality=Modality.VIDEO,
                       date_of_service=date(2026, 3, 9), service_type_codes=("MH", "A6"))
CALLER = Caller("u", "t1", frozenset({"scheduler"}))


@pytest.mark.parametrize("budget", [8.0, 2.5, 0.8])
def test_a_payer_that_never_answers_costs_at_most_the_budget_then_the_check_is_pending(budget):
    time = Time()
    payer = SlowPayer(time)
    service, audit = _service(time, payer, budget)

    check = service.run_check(CALLER, Owner("tenant", "t1"), "slowpay", REQUEST, budget)

    spent = time.now - 1000.0
    assert spent <= budget + 1e-9
    assert (check.status, check.failure, check.attempts) == ("pending", "timeout", len(payer.timeouts))
    assert all(t <= 4.0 for t in payer.timeouts)
    assert check.next_attempt_at is not None and check.give_up_at is not None
    assert audit.entries == [("eligibility.check.create", "pending")]


def test_the_backoff_between_attempts_doubles_and_is_capped():
    time = Time()
    payer = SlowPayer(time, code="http_503", takes_whole_timeout=False)  # fails at once: only the backoff counts
    service, _ = _service(time, payer, budget=30.0)

    check = service.run_check(CALLER, Owner("tenant", "t1"), "slowpay", REQUEST, 30.0)

    assert check.attempts == 4 and check.failure == "http_503"
    assert time.sleeps == pytest.approx([0.25 * 0.999, 0.5 * 0.999, 1.0 * 0.999])


def test_a_client_error_is_not_retried():
    time = Time()
    payer = SlowPayer(time, code="http_400")
    service, _ = _service(time, payer, budget=8.0)

    check = service.run_check(CALLER, Owner("tenant", "t1"), "slowpay", REQUEST, 8.0)

    assert (check.status, check.failure, check.attempts, time.sleeps) == ("error", "http_400", 1, [])
