"""Compile the routing_policy file into domain.routing_policy.RoutingPolicy (registered into bundle.py)."""

from __future__ import annotations

from ..domain.model import Modality
from ..domain.routing_policy import (
    ROUTING_POLICY,
    Band,
    CrisisLines,
    CrisisResource,
    Instrument,
    RoutingPolicy,
    RoutingRule,
)
from ..domain.ruleref import RuleRef
from .routing_schema import InstrumentSpec, RoutingPolicyFile


def compile_routing(files: list[RoutingPolicyFile]) -> RoutingPolicy:
    if len(files) != 1:
        from .bundle import RulesError  # late: bundle.py imports this module

        raise RulesError(f"expected exactly one routing_policy file, found {len(files)}")
    doc = files[0]
    rules = tuple(RoutingRule(
        rule=RuleRef(r.id, r.source, r.effective_from, r.effective_to, note=r.note), effect=r.effect,
        risk_levels=frozenset(r.risk_levels), modalities=tuple(Modality(m) for m in r.modalities),
        when=dict(r.when), weight=r.weight, max_wait_days=r.max_wait_days, months=r.months,
        lookback_months=r.lookback_months, payers=tuple(r.payers)) for r in doc.rules)
    s = doc.screening
    instruments = {"PHQ-9": _instrument(s.phq9), "GAD-7": _instrument(s.gad7), "C-SSRS": _instrument(s.cssrs)}
    crisis = {c.country: CrisisLines(RuleRef(c.id, c.source, c.effective_from), c.country, c.emergency_number,
                                     tuple(CrisisResource(x.name, x.phone, x.text, x.url) for x in c.resources))
              for c in doc.crisis}
    e = doc.escalation
    return RoutingPolicy(doc.version, rules, instruments, crisis, RuleRef(e.id, e.source, e.effective_from),
                         e.open_bound_minutes)


def _instrument(spec: InstrumentSpec) -> Instrument:
    return Instrument(
        rule=RuleRef(spec.id, spec.source, spec.effective_from), items=spec.items, max_answer=spec.max_answer,
        bands=tuple(Band(b.min, b.max, b.band, b.risk) for b in spec.bands),
        positive_item=(spec.positive_item.index, spec.positive_item.risk) if spec.positive_item else None,
        risk_by_item={int(k): v for k, v in spec.risk_by_item.items()})


def _register() -> None:
    from .bundle import TABLE_COMPILERS

    TABLE_COMPILERS[ROUTING_POLICY] = compile_routing


_register()
