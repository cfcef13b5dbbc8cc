"""Compile validated licensure rules files into the domain's frozen tables.

Registers JURISDICTION_COMPILERS into bundle.TABLE_COMPILERS and JURISDICTION_CHECKS into
bundle.RULEBOOK_CHECKS (bundle.py imports this module). The compilers turn pydantic models into
plain dataclasses once per process, so decisions do dictionary lookups only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..domain.compacts import (
    COMPACTS,
    Compact,
    CompactModel,
    CompactTable,
    MembershipPeriod,
    MemberStatus,
    PrivilegeKind,
)
from ..domain.jurisdictions import JURISDICTIONS, Jurisdiction, JurisdictionTable
from ..domain.license_types import LICENSE_TYPES, LicenseType, LicenseTypeTable, normalize_type
from ..domain.model import Discipline, Modality
from ..domain.prescribing import PRESCRIBING, Effect, PrescribingRule, PrescribingTable
from ..domain.rulebook import RuleBook
from ..domain.ruleref import Condition, RuleRef
from .jurisdiction_schema import (
    CompactRule,
    CompactsFile,
    ConditionSpec,
    JurisdictionsFile,
    LicenseTypesFile,
    PrescribingFile,
    TrackedRule,
)


def _ref(rule: TrackedRule) -> RuleRef:
    return RuleRef(rule.id, rule.source, rule.effective_from, rule.effective_to, rule.uncertain, rule.note)


def _conditions(specs: list[ConditionSpec]) -> tuple[Condition, ...]:
    return tuple(Condition(c.code, c.detail) for c in specs)


def _single(files: list[Any], kind: str) -> Any:
    if len(files) != 1:
        _fail(f"exactly one {kind} file is expected, found {len(files)}")
    return files[0]


def _fail(message: str) -> None:
    from .bundle import RulesError  # imported late: bundle.py imports this module

    raise RulesError(message)


def compile_jurisdictions(files: list[JurisdictionsFile]) -> JurisdictionTable:
    doc: JurisdictionsFile = _single(files, "jurisdictions")
    return JurisdictionTable({r.code: Jurisdiction(r.code, r.name, r.country, r.category, r.default_zone,
                                                   tuple(r.other_zones), _ref(r), dict(r.postal_zones))
                              for r in doc.rules})


def compile_license_types(files: list[LicenseTypesFile]) -> LicenseTypeTable:
    doc: LicenseTypesFile = _single(files, "license_types")
    by_key: dict[str, LicenseType] = {}
    for r in doc.rules:
        compiled = LicenseType(
            code=r.code, name=r.name, disciplines=frozenset(Discipline(d) for d in r.disciplines),
            modalities=frozenset(Modality(m) for m in r.modalities), basis_kind=r.basis,
            jurisdictions=frozenset(r.jurisdictions), requires_license_elsewhere=r.requires_license_elsewhere,
            uncertain_disciplines=frozenset(Discipline(d) for d in r.uncertain_disciplines),
            uncertain_modalities=frozenset(Modality(m) for m in r.uncertain_modalities),
            conditions=_conditions(r.conditions), rule=_ref(r))
        for key in (r.code, *r.aliases):
            by_key[normalize_type(key)] = compiled
    return LicenseTypeTable(_ref(doc.baseline), by_key)


def _compact(r: CompactRule) -> Compact:
    periods: dict[str, list[MembershipPeriod]] = {}
    for g in r.members:
        for j in g.jurisdictions:
            periods.setdefault(j, []).append(MembershipPeriod(
                jurisdiction=j, status=MemberStatus(g.status), since=g.since, until=g.until,
                dated_by=g.dated_by, can_be_home=g.can_be_home, source=g.source or r.source,
                uncertain=g.uncertain, note=g.note))
    kinds = {k.kind: PrivilegeKind(k.kind, k.name, frozenset(Modality(m) for m in k.modalities),
                                   k.max_days_per_calendar_year, _conditions(k.conditions))
             for k in r.privilege_kinds}
    return Compact(
        code=r.compact, name=r.name, model=CompactModel(r.model),
        disciplines=frozenset(Discipline(d) for d in r.disciplines),
        home_license_types=frozenset(normalize_type(t) for t in r.home_license_types),
        issuing_from=r.issuing_from, privilege_kinds=kinds, privilege_scope=r.privilege_scope,
        home_state_must_be_operational=r.home_state_must_be_operational,
        membership_uncertain=r.membership_uncertain, conditions=_conditions(r.conditions),
        rule=_ref(r), periods={j: tuple(sorted(ps, key=lambda p: p.since)) for j, ps in periods.items()})


def compile_compacts(files: list[CompactsFile]) -> CompactTable:
    versions: dict[str, list[Compact]] = {}
    for doc in files:
        for r in doc.rules:
            versions.setdefault(r.compact, []).append(_compact(r))
    return CompactTable({name: tuple(sorted(vs, key=lambda c: c.rule.effective_from))
                         for name, vs in versions.items()})


def compile_prescribing(files: list[PrescribingFile]) -> PrescribingTable:
    return PrescribingTable(tuple(
        PrescribingRule(effect=Effect(r.effect), in_force=r.status == "in_force", schedules=frozenset(r.schedules),
                        modalities=frozenset(Modality(m) for m in r.modalities), medication=r.medication,
                        conditions=_conditions(r.conditions), rule=_ref(r))
        for doc in files for r in doc.rules))


def check_references(book: RuleBook) -> None:
    """Every jurisdiction and licence type a rule names must exist: a typo fails the build."""
    jurisdictions = book.tables.get(JURISDICTIONS)
    types = book.tables.get(LICENSE_TYPES)
    compacts = book.tables.get(COMPACTS)
    known = set(jurisdictions.by_code) if isinstance(jurisdictions, JurisdictionTable) else None
    if known is not None and isinstance(types, LicenseTypeTable):
        for t in types.by_key.values():
            _require_known(t.jurisdictions, known, f"licence type {t.code}")
    if isinstance(compacts, CompactTable):
        type_keys = set(types.by_key) if isinstance(types, LicenseTypeTable) else None
        for versions in compacts.versions.values():
            for c in versions:
                if known is not None:
                    _require_known(c.periods, known, f"compact rule {c.rule.rule_id}")
                if type_keys is not None:
                    missing = c.home_license_types - type_keys
                    if missing:
                        _fail(f"compact rule {c.rule.rule_id}: unknown home licence types {sorted(missing)}")


def _require_known(codes: Any, known: set[str], where: str) -> None:
    missing = set(codes) - known
    if missing:
        _fail(f"{where}: jurisdictions not in jurisdictions.yaml: {sorted(missing)}")


JURISDICTION_COMPILERS: dict[str, Callable[[list[Any]], Any]] = {
    JURISDICTIONS: compile_jurisdictions,
    LICENSE_TYPES: compile_license_types,
    COMPACTS: compile_compacts,
    PRESCRIBING: compile_prescribing,
}
JURISDICTION_CHECKS: list[Callable[[RuleBook], None]] = [check_references]


def _register() -> None:
    # Late import: bundle.py imports this module at its end, after defining the registries.
    from .bundle import RULEBOOK_CHECKS, TABLE_COMPILERS

    TABLE_COMPILERS.update(JURISDICTION_COMPILERS)
    RULEBOOK_CHECKS.extend(c for c in JURISDICTION_CHECKS if c not in RULEBOOK_CHECKS)


_register()
