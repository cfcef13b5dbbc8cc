"""Screening instruments scored by the published rules in the routing policy: PHQ-9, GAD-7, C-SSRS screener."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .errors import FieldError, ValidationFailed
from .routing_policy import Instrument, RoutingPolicy, risk_rank


@dataclass(frozen=True)
class ScreeningResult:
    instrument: str  # "PHQ-9" | "GAD-7" | "C-SSRS"
    score: int
    band: str | None
    implied_risk: str
    rule_id: str
    reasons: tuple[str, ...]  # one line each: what raised the risk
    at: datetime | None = None


def score(policy: RoutingPolicy, instrument: str, answers: list[int]) -> ScreeningResult:
    spec = policy.instruments.get(instrument)
    if spec is None:
        known = ", ".join(sorted(policy.instruments))
        raise ValidationFailed("Unknown instrument",
                               errors=[FieldError("screening.instrument", f"must be one of {known}")])
    _validate(spec, answers)
    total = sum(answers)
    band = next((b for b in spec.bands if b.low <= total <= b.high), None)
    risk, reasons = (band.risk, [f"{instrument} score {total}: {band.band}"]) if band else ("none", [])
    if spec.positive_item is not None:
        index, item_risk = spec.positive_item
        if answers[index - 1] > 0 and risk_rank(item_risk) > risk_rank(risk):
            risk = item_risk
            reasons.append(f"{instrument} item {index} positive")
    for item, item_risk in sorted(spec.risk_by_item.items()):
        if answers[item - 1] > 0 and risk_rank(item_risk) > risk_rank(risk):
            risk = item_risk
            reasons.append(f"{instrument} question {item} answered yes")
    return ScreeningResult(instrument, total, band.band if band else None, risk, spec.rule.rule_id, tuple(reasons))


def _validate(spec: Instrument, answers: list[int]) -> None:
    if len(answers) != spec.items:
        raise ValidationFailed("Wrong number of answers", errors=[FieldError(
            "screening.answers", f"needs exactly {spec.items} answers")])
    for i, a in enumerate(answers):
        if not 0 <= a <= spec.max_answer:
            raise ValidationFailed("Answer out of range", errors=[FieldError(
                f"screening.answers[{i}]", f"must be between 0 and {spec.max_answer}")])


def combined_risk(stated: str, screening: ScreeningResult | None) -> str:
    """A stated risk level can raise, never lower, what the screening implies."""
    implied = screening.implied_risk if screening else "none"
    return stated if risk_rank(stated) >= risk_rank(implied) else implied
