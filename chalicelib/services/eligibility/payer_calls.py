"""Asking a payer: one attempt per connector call, attempts inside the request's time budget, backoff.

Each attempt gets at most ``attempt_timeout_seconds``; a timeout, a network error, 5xx/408/429 or
AAA 42/80 is retried with capped exponential backoff and full jitter (domain/retry.py) while the
budget lasts. A budget spent on retryable failures is ``pending`` (finished by a later read).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ...domain.eligibility import CheckRequest, PayerAnswer, PayerCallFailed
from ...domain.errors import DomainError
from ...domain.ports import Clock, ControlNumberCounter, PayerConnector
from ...domain.retry import RetryPolicy
from ...observability import logger
from . import x12_mapping
from .payers import ResolvedPayer
from .roster import RosterConnector

if TYPE_CHECKING:
    from ...settings import EligibilitySettings
    from ...x12.inquiry import EligibilityInquiry

MIN_ATTEMPT_SECONDS = 0.05  # never start an attempt with less time than this left in the budget


@dataclass(frozen=True)
class Outcome:
    """What asking the payer (once or several times) gave."""

    status: str  # active | inactive | not_found | error | pending
    answer: PayerAnswer | None
    raw_271: str | None
    attempts: int
    failure: str | None


class PayerCalls:
    def __init__(self, http: PayerConnector, roster: RosterConnector, control_numbers: ControlNumberCounter,
                 settings: EligibilitySettings, clock: Clock, rng: Callable[[], float], sleep: Callable[[float], None],
                 monotonic: Callable[[], float]) -> None:
        self.http, self.roster, self.control_numbers = http, roster, control_numbers
        self.settings = settings  # EligibilitySettings; replaced as a whole by tests of a stage
        self.clock, self.rng, self.sleep, self.monotonic = clock, rng, sleep, monotonic

    @property
    def retry(self) -> RetryPolicy:
        s = self.settings
        return RetryPolicy(s.max_attempts, s.backoff_base_seconds, s.backoff_cap_seconds)

    def ask(self, payer: ResolvedPayer, check_id: str, request: CheckRequest, budget: float, *,
            first_attempt: int) -> Outcome:
        """Attempts inside the budget, with backoff; a budget spent on retryable failures is `pending`."""
        retry = self.retry
        deadline = self.monotonic() + budget
        trace = x12_mapping.trace_number(check_id)
        attempts, last = 0, Outcome("pending", None, None, 0, "timeout")
        while True:
            attempts += 1
            remaining = deadline - self.monotonic()
            timeout = min(self.settings.attempt_timeout_seconds, remaining)
            outcome = self._attempt(payer, check_id, request, trace, timeout)
            if outcome.status != "pending":
                return replace(outcome, attempts=attempts)
            last = replace(outcome, attempts=attempts)
            if attempts >= retry.max_attempts:
                break
            delay = retry.delay(attempts, self.rng())
            if self.monotonic() + delay + MIN_ATTEMPT_SECONDS >= deadline:
                break
            self.sleep(delay)
        logger.info("payer did not answer in the budget", extra={"check_id": check_id, "payer_id": payer.payer_id,
                                                                 "attempts": attempts, "failure": last.failure})
        return last

    def _attempt(self, payer: ResolvedPayer, check_id: str, request: CheckRequest, trace: str,
                 timeout: float) -> Outcome:
        from ...x12.syntax import X12Error
        from ...x12.text import NotRepresentable

        assert payer.connector is not None
        try:
            inquiry = x12_mapping.inquiry_for(payer, request, trace)
        except NotRepresentable:
            return Outcome("error", None, None, 1, "x12_name_not_representable")
        if payer.connector.kind != "x12_http":
            return self._ask_roster(payer, request, inquiry, trace)
        from ...x12.write_270 import write_270

        envelope = x12_mapping.envelope_for(payer, self.clock(), self.settings, self.control_numbers)
        try:
            x12_270 = write_270(inquiry, envelope)
        except X12Error as exc:
            return Outcome("error", None, None, 1, f"x12_request_invalid:{exc.code}")
        try:
            raw = self.http.exchange(payer.connector.url or "", x12_270, timeout)
        except PayerCallFailed as exc:
            return Outcome("pending" if exc.retryable else "error", None, None, 1, exc.code)
        except DomainError as exc:  # the URL is no longer allowed (e.g. DNS now points inside)
            return Outcome("error", None, None, 1, exc.code.lower())
        if not x12_mapping.is_x12(raw):  # any other 200 body (an HTML page, JSON, another service) is never kept
            logger.info("payer answer is not X12", extra={"check_id": check_id, "payer_id": payer.payer_id})
            return Outcome("error", None, None, 1, "x12_response_invalid")
        return _outcome(x12_mapping.answer_from_271(raw, request, trace, payer=payer), raw)

    def _ask_roster(self, payer: ResolvedPayer, request: CheckRequest, inquiry: EligibilityInquiry,
                    trace: str) -> Outcome:
        """The roster answers the inquiry in process and the answer is read from it directly, never from
        text. Its 271 is still written once, to keep beside the check like any payer's (?include=raw271)."""
        from ...x12.answer_in_process import as_read
        from ...x12.syntax import X12Error
        from ...x12.write_270 import check_inquiry
        from ...x12.write_271 import write_271

        now = self.clock()
        try:
            check_inquiry(inquiry)  # what a 270 could not carry is refused alike
            envelope = x12_mapping.envelope_for(payer, now, self.settings, self.control_numbers)
            # A 270 sends no INS (X12 RFI 922): the roster answers the inquiry as a payer would receive it.
            sent = replace(inquiry, dependent=replace(inquiry.dependent, relationship=None)) if inquiry.dependent \
                else inquiry
            response = self.roster.respond(payer.payer_id, sent)
            raw = write_271(response, x12_mapping.reply_envelope(envelope, now))
        except X12Error as exc:
            return Outcome("error", None, None, 1, f"x12_request_invalid:{exc.code}")
        return _outcome(x12_mapping.answer_from_parsed(as_read(response), request, trace, payer=payer), raw)


def _outcome(answer: PayerAnswer, raw: str | None) -> Outcome:
    if answer.retryable:
        code = next((e.code for e in answer.aaa_errors), "42")
        return Outcome("pending", answer, raw, 1, f"aaa_{code}")
    failure = None
    if answer.status == "error" and answer.rejection is not None:
        failure = f"x12_rejected_{answer.rejection.kind.lower()}"
    elif answer.status == "error":
        failure = next((f"aaa_{e.code}" for e in answer.aaa_errors), None) or "x12_response_invalid"
    return Outcome(answer.status, answer, raw, 1, failure)
