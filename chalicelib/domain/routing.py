"""Hybrid routing: where and how a visit should happen, explained rule by rule. Pure: facts in, ranking out.

The options are availability items (already lawful, free and in zone); the routing policy
(scheduling_rules/routing/) only escalates, restricts, excludes, ranks and explains. The same
inputs, clock and rules version always give the same ranking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from .availability import Slot
from .licensure import LicensureDecision
from .model import Modality
from .routing_policy import CrisisLines, RoutingPolicy, RoutingRule

ENGLISH = ("en",)


@dataclass(frozen=True)
class Explanation:
    rule_id: str
    effect: str
    detail: str


@dataclass(frozen=True)
class RoutingFacts:
    now: datetime
    risk: str
    video_capable: bool
    country: str  # of the place the patient is: which crisis lines apply
    accessibility_needs: bool = False
    language: str | None = None
    preferred_modality: Modality | None = None
    coverage: Mapping[Modality, bool | None] = field(default_factory=dict)  # payer's telehealth coverage
    payer_ids: tuple[str, ...] = ()
    recent_clinicians: tuple[str, ...] = ()  # the patient's clinicians, most recent first
    last_in_person: datetime | None = None
    postal_prefix: str | None = None
    prescribing: bool = False  # an initial evaluation that may lead to controlled-substance prescribing
    disabled_rules: frozenset[str] = frozenset()
    high_risk_max_wait_days: int | None = None  # tenant override of the policy
    # The tenant's no-show policy put this patient on video first (tenant settings reminders.no_shows).
    no_show_video_first: bool = False


@dataclass(frozen=True)
class Candidate:
    slot: Slot
    licensure: LicensureDecision
    clinician_languages: tuple[str, ...] = ()
    site_postal_prefix: str | None = None
    prescribing: LicensureDecision | None = None  # the decision with the controlled-substance schedule


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    score: int
    reasons: tuple[Explanation, ...]


@dataclass(frozen=True)
class Recommendation:
    decision: str  # schedule | escalate
    recommended_modality: Modality | None
    options: tuple[Ranked, ...]
    explanation: tuple[Explanation, ...]
    crisis: CrisisLines | None
    allowed_modalities: frozenset[Modality]
    max_start: datetime | None


def plan(policy: RoutingPolicy, facts: RoutingFacts) -> Recommendation:
    """What the rules allow before looking at any slot: escalate, or which modalities and how soon."""
    rules = policy.active(facts.now.date(), facts.disabled_rules)
    explanation: list[Explanation] = []
    for rule in rules:
        if rule.effect == "escalate" and facts.risk in rule.risk_levels:
            crisis = policy.crisis.get(facts.country) or policy.crisis.get("US")
            explanation.append(Explanation(rule.rule.rule_id, "escalate",
                                           f"risk {facts.risk}: no self-booking; crisis resources and on-call"))
            return Recommendation("escalate", None, (), tuple(explanation), crisis, frozenset(), None)
    allowed = set(Modality)
    max_start: datetime | None = None
    for rule in rules:
        fired = _restrict(rule, facts, allowed)
        if fired is not None:
            explanation.append(fired)
        if rule.effect == "allow_modalities" and facts.risk in rule.risk_levels:
            days = facts.high_risk_max_wait_days if facts.high_risk_max_wait_days is not None else rule.max_wait_days
            if days is not None:
                max_start = facts.now + timedelta(days=days)
                explanation.append(Explanation(rule.rule.rule_id, "max_wait",
                                               f"risk {facts.risk}: soonest first, within {days} days"))
    return Recommendation("schedule", None, (), tuple(explanation), None, frozenset(allowed), max_start)


def _restrict(rule: RoutingRule, facts: RoutingFacts, allowed: set[Modality]) -> Explanation | None:
    rid = rule.rule.rule_id
    if rule.effect == "allow_modalities" and facts.risk in rule.risk_levels:
        dropped = allowed - set(rule.modalities)
        allowed &= set(rule.modalities)
        return Explanation(rid, "restrict", f"risk {facts.risk}: only {_names(rule.modalities)}"
                           + (f" (not {_names(dropped)})" if dropped else ""))
    if rule.effect == "exclude_modalities" and _when(rule, facts):
        allowed -= set(rule.modalities)
        return Explanation(rid, "exclude", f"{_names(rule.modalities)} excluded: "
                           + ", ".join(f"{k} is {v}" for k, v in rule.when.items()))
    if rule.effect == "exclude_uncovered_modalities":
        uncovered = {m for m, covered in facts.coverage.items() if covered is False}
        if uncovered & allowed:
            allowed -= uncovered
            return Explanation(rid, "exclude", f"the payer does not cover {_names(uncovered)}")
    if rule.effect == "require_in_person_every" and set(facts.payer_ids) & set(rule.payers):
        months = rule.months or 12
        due = facts.last_in_person is None or facts.last_in_person < facts.now - timedelta(days=months * 30)
        if due and Modality.IN_PERSON in allowed:
            allowed &= {Modality.IN_PERSON}
            return Explanation(rid, "restrict", f"an in-person visit is due (at least every {months} months)")
    if rule.effect == "prescribing_rules" and facts.prescribing:
        return Explanation(rid, "filter", "only options the prescribing rules in force on the visit date allow")
    return None


def rank(policy: RoutingPolicy, facts: RoutingFacts, planned: Recommendation,
         candidates: list[Candidate], limit: int) -> Recommendation:
    """Filter the lawful, free options by the plan and rank them; ties broken by time, then ids."""
    if planned.decision == "escalate":
        return planned
    rules = policy.active(facts.now.date(), facts.disabled_rules)
    prescribing_rule = next((r for r in rules if r.effect == "prescribing_rules"), None)
    soonest = any(r.effect == "allow_modalities" and facts.risk in r.risk_levels for r in rules)
    ranked: list[Ranked] = []
    for c in candidates:
        if c.slot.modality not in planned.allowed_modalities:
            continue
        if planned.max_start is not None and c.slot.start > planned.max_start:
            continue
        if facts.prescribing and prescribing_rule is not None and not (c.prescribing and c.prescribing.allowed):
            continue
        ranked.append(_score(rules, facts, c))
    if soonest:
        ranked.sort(key=lambda r: (r.candidate.slot.start, -r.score, _tie(r)))
    else:
        ranked.sort(key=lambda r: (-r.score, r.candidate.slot.start, _tie(r)))
    top = _varied(ranked, limit)
    explanation = list(planned.explanation)
    for r in top[:1]:
        explanation.extend(x for x in r.reasons if x.rule_id not in {e.rule_id for e in explanation})
    if not top:
        explanation.append(Explanation("route-none-found", "no_options",
                                       "no lawful, free option in the window fits the rules; widen the window"))
    return replace(planned, recommended_modality=top[0].candidate.slot.modality if top else None, options=top,
                   explanation=tuple(explanation))


def _varied(ranked: list[Ranked], limit: int) -> tuple[Ranked, ...]:
    """One option per clinician and time first (its best modality), then the other modalities: a short
    list shows real choices instead of one slot three times over."""
    seen: set[tuple[str, datetime]] = set()
    first, rest = [], []
    for r in ranked:
        key = (r.candidate.slot.clinician_id, r.candidate.slot.start)
        (rest if key in seen else first).append(r)
        seen.add(key)
    return tuple((first + rest)[:limit])


def _score(rules: tuple[RoutingRule, ...], facts: RoutingFacts, c: Candidate) -> Ranked:
    score = 100
    reasons: list[Explanation] = []
    slot = c.slot
    if facts.preferred_modality is not None and slot.modality is facts.preferred_modality:
        score += 20
        reasons.append(Explanation("route-patient-preference", "prefer", f"the patient prefers {slot.modality.value}"))
    for rule in rules:
        rid = rule.rule.rule_id
        if rule.effect == "prefer_modalities" and _when(rule, facts) and slot.modality in rule.modalities:
            score += rule.weight
            reasons.append(Explanation(rid, "prefer", f"{slot.modality.value} preferred: "
                                       + ", ".join(f"{k} is {v}" for k, v in rule.when.items())))
        elif rule.effect == "prefer_language" and facts.language and facts.language.split("-")[0] not in ENGLISH:
            spoken = {lang.split("-")[0] for lang in c.clinician_languages}
            if facts.language.split("-")[0] in spoken:
                score += rule.weight
                reasons.append(Explanation(rid, "prefer", f"the clinician speaks {facts.language}"))
        elif rule.effect == "prefer_current_clinician" and slot.clinician_id in facts.recent_clinicians:
            score += rule.weight
            reasons.append(Explanation(rid, "prefer", "continuity: the patient's current clinician"))
        elif rule.effect == "prefer_near_site" and slot.site_id and facts.postal_prefix \
                and c.site_postal_prefix == facts.postal_prefix:
            score += rule.weight
            reasons.append(Explanation(rid, "prefer", "the site is near the patient's address"))
    if c.licensure.uncertain:
        score -= 5
        reasons.append(Explanation("route-licensure-doubt", "penalise", "the licensure decision rests on an "
                                   "uncertain rule"))
    # Sooner is better, a point a day, so preferences decide between close times.
    score -= max(0, (slot.start - facts.now).days)
    return Ranked(c, score, tuple(reasons))


def _when(rule: RoutingRule, facts: RoutingFacts) -> bool:
    values = {"video_capable": facts.video_capable, "accessibility_needs": facts.accessibility_needs,
              "no_show_video_first": facts.no_show_video_first}
    return all(values.get(k) == v for k, v in rule.when.items())


def _tie(r: Ranked) -> tuple[str, str, str]:
    s = r.candidate.slot
    return (s.clinician_id, s.modality.value, s.site_id or "")


def _names(modalities: object) -> str:
    return "/".join(sorted(m.value for m in modalities))  # type: ignore[attr-defined]
