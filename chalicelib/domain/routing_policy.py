"""The routing policy, compiled from scheduling_rules/routing/ (kind routing_policy). Pure data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .model import Modality
from .ruleref import RuleRef

ROUTING_POLICY = "routing_policy"  # RuleBook.tables key
RISK_LEVELS = ("none", "low", "moderate", "high", "imminent")


def risk_rank(level: str) -> int:
    return RISK_LEVELS.index(level)


@dataclass(frozen=True)
class RoutingRule:
    rule: RuleRef
    effect: str
    risk_levels: frozenset[str] = frozenset()
    modalities: tuple[Modality, ...] = ()
    when: Mapping[str, bool] = field(default_factory=dict)
    weight: int = 0
    max_wait_days: int | None = None
    months: int | None = None
    lookback_months: int | None = None
    payers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    band: str
    risk: str


@dataclass(frozen=True)
class Instrument:
    rule: RuleRef
    items: int
    max_answer: int
    bands: tuple[Band, ...] = ()
    positive_item: tuple[int, str] | None = None  # (1-based item, risk when answered above 0)
    risk_by_item: Mapping[int, str] = field(default_factory=dict)  # yes/no screeners (C-SSRS)


@dataclass(frozen=True)
class CrisisResource:
    name: str
    phone: str | None
    text: str | None
    url: str | None


@dataclass(frozen=True)
class CrisisLines:
    rule: RuleRef
    country: str
    emergency_number: str
    resources: tuple[CrisisResource, ...]


@dataclass(frozen=True)
class RoutingPolicy:
    version: str
    rules: tuple[RoutingRule, ...]
    instruments: Mapping[str, Instrument]
    crisis: Mapping[str, CrisisLines]
    escalation_rule: RuleRef
    escalation_open_bound_minutes: int

    def active(self, on: object, disabled: frozenset[str] = frozenset()) -> tuple[RoutingRule, ...]:
        return tuple(r for r in self.rules if r.rule.in_effect(on) and r.rule.rule_id not in disabled)  # type: ignore[arg-type]
