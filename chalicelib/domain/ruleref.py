"""What every compiled rule carries (citation, dates, doubt) and the reasons decisions give.

Rule tables are compiled from scheduling_rules/ into frozen dataclasses. Each entry keeps a
`RuleRef` so a decision can always say which rule it applied and where that rule comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


def in_effect(effective_from: date, effective_to: date | None, on: date) -> bool:
    """Both ends inclusive: a rule that ends on 2026-12-31 still applies on that day."""
    return effective_from <= on and (effective_to is None or on <= effective_to)


@dataclass(frozen=True)
class RuleRef:
    rule_id: str
    source: str
    effective_from: date
    effective_to: date | None = None
    # True when the facts behind the rule are marked [?]: decisions resting on it say so.
    uncertain: bool = False
    note: str | None = None

    def in_effect(self, on: date) -> bool:
        return in_effect(self.effective_from, self.effective_to, on)


@dataclass(frozen=True)
class Condition:
    """An obligation that comes with an allowed decision (e.g. TAP's 30-day limit)."""

    code: str
    detail: str


@dataclass(frozen=True)
class Reason:
    code: str
    rule_id: str
    source: str
    detail: str = ""
    # The rule behind this reason rests on facts marked uncertain; re-check before relying on it.
    uncertain: bool = False
    # An obligation that comes with a grant (probation, TAP's day limit), shown as `conditions`.
    condition: bool = False


def reason_json(r: Reason) -> dict[str, Any]:
    """A reason as every answer gives it (licensure checks, availability items, 409/422 refusals)."""
    return {"code": r.code, "rule_id": r.rule_id, "source": r.source, "detail": r.detail, "uncertain": r.uncertain}


def reason(code: str, rule: RuleRef, detail: str = "", *, uncertain: bool | None = None) -> Reason:
    """A reason citing `rule`. Doubt on the rule is carried into the reason unless the caller
    knows better (True: doubt from elsewhere; False: the doubt does not matter here)."""
    doubtful = rule.uncertain if uncertain is None else uncertain
    if doubtful and rule.note:
        detail = f"{detail} [uncertain: {rule.note.removeprefix('[?]').strip()}]".strip()
    return Reason(code, rule.rule_id, rule.source, detail, doubtful)


def condition_reasons(conditions: tuple[Condition, ...], rule: RuleRef) -> tuple[Reason, ...]:
    # Obligations, not findings: doubt about the rule's dates or lists is reported on the grant.
    return tuple(Reason(c.code, rule.rule_id, rule.source, c.detail, condition=True) for c in conditions)


def condition_reason(code: str, rule: RuleRef, detail: str) -> Reason:
    return Reason(code, rule.rule_id, rule.source, detail, condition=True)
