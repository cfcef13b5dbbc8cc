"""Compile payer_policy files into domain.payer_policy.PayerPolicyTable (registered into bundle.py)."""

from __future__ import annotations

from itertools import combinations

from ..domain.payer_policy import (
    PAYER_POLICY,
    Connector,
    PayerDefaults,
    PayerPolicyTable,
    TelehealthTerms,
    X12Partner,
)
from ..domain.ruleref import RuleRef
from .payer_schema import PayerPolicyFile


def compile_payer_policies(files: list[PayerPolicyFile]) -> PayerPolicyTable:
    entries = []
    for doc in files:
        for r in doc.rules:
            t = r.telehealth
            entries.append(PayerDefaults(
                rule=RuleRef(r.id, r.source, r.effective_from, r.effective_to, r.uncertain, r.note),
                payer_id=r.payer_id, name=r.name,
                connector=Connector(r.connector.kind, r.connector.url,
                                    X12Partner(**r.connector.x12.model_dump()) if r.connector.x12 else X12Partner())
                if r.connector else None,
                terms=TelehealthTerms(
                    video_covered=t.video.covered, phone_covered=t.phone.covered,
                    place_of_service_home=t.place_of_service_home, place_of_service_other=t.place_of_service_other,
                    modifiers_video=tuple(t.modifiers.video), modifiers_phone=tuple(t.modifiers.phone))))
    for a, b in combinations(entries, 2):
        if a.payer_id == b.payer_id and _overlap(a.rule, b.rule):
            from .bundle import RulesError  # late: bundle.py imports this module

            raise RulesError(f"payer_policy rules {a.rule.rule_id} and {b.rule.rule_id} overlap for payer "
                             f"{a.payer_id!r}: one payer has one policy on any date")
    return PayerPolicyTable(tuple(entries))


def _overlap(a: RuleRef, b: RuleRef) -> bool:
    a_end, b_end = a.effective_to, b.effective_to
    return (a_end is None or b.effective_from <= a_end) and (b_end is None or a.effective_from <= b_end)


def _register() -> None:
    from .bundle import TABLE_COMPILERS

    TABLE_COMPILERS[PAYER_POLICY] = compile_payer_policies


_register()
