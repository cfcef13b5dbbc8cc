"""Where may this clinician practise for this visit? Practice happens where the patient is.

The decision reads only compiled rule tables (RuleBook.tables, built from scheduling_rules/),
so a change of compact membership, licence types or DEA dates is a data edit, never a code edit.
Order of the checks, each refusal with its own reason code:

1. the patient's jurisdiction must be known to the rules (UNKNOWN_JURISDICTION);
2. the service, when given, must be in the catalog for this discipline and modality;
3. authority to practise there: an unexpired licence of a type that fits the discipline and
   modality (basis "license", or "exception" for registrations such as Fla. Stat. 456.47), else
   a compact privilege or multistate licence that is issuing, unexpired, of the right kind for
   the modality, anchored on a home licence, with both states members as the compact requires
   (basis "compact_privilege"); IMLC is never a basis;
4. prescribing a controlled substance, when asked: DEA registration in the patient's state for
   that schedule, and a telemedicine rule in force on that date (see prescribing.py).

A licence or privilege grants only while its status is `active` or `probation` (standing.py);
probation and day limits come back as `conditions`. A RuleBook missing any table the decision
needs is refused outright (RULES_INCOMPLETE): missing data never widens authority.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from .compacts import COMPACTS, Compact, CompactModel, CompactTable, MemberStatus
from .jurisdictions import JURISDICTIONS, JurisdictionTable
from .license_types import LICENSE_TYPES, LicenseTypeTable, normalize_type
from .model import Clinician, CompactPrivilege, License, LicensureBasis, Modality
from .prescribing import PRESCRIBING, PrescribingTable, prescribing_outcome
from .rulebook import RuleBook
from .ruleref import Reason, RuleRef, condition_reason, condition_reasons, reason
from .standing import grants, on_probation, refusal_code

__all__ = ["BASELINE_RULE_ID", "BASELINE_SOURCE", "REQUIRED_TABLES", "LicensureDecision", "Reason",
           "TemporaryPractice", "allowed_modalities", "apply_uncertainty_policy", "lawful_clinicians",
           "lawful_modalities", "licensure_decision"]

BASELINE_RULE_ID = "lic-baseline-patient-location"
BASELINE_SOURCE = ("FSMB 2013 consensus principle #3 (Journal of Medical Regulation 106(3)); "
                   "HRSA PAL 2020-01: practice occurs where the patient is located")
# Cited when the rule book is incomplete (its license_types table carries the real baseline rule).
_FALLBACK_BASELINE = RuleRef(BASELINE_RULE_ID, BASELINE_SOURCE, date(2013, 1, 1))

# Reasons that grant; every other code on a refusal is a cause.
LICENSED_IN_JURISDICTION = "LICENSED_IN_JURISDICTION"
JURISDICTION_EXCEPTION = "JURISDICTION_EXCEPTION"
COMPACT_PRIVILEGE = "COMPACT_PRIVILEGE"
RULES_INCOMPLETE = "RULES_INCOMPLETE"
UNCERTAIN_RULE_REFUSED = "UNCERTAIN_RULE_REFUSED"
# Every table a decision reads; the rule book refuses to load without one (rules/bundle.py).
REQUIRED_TABLES: dict[str, type[Any]] = {JURISDICTIONS: JurisdictionTable, LICENSE_TYPES: LicenseTypeTable,
                                         COMPACTS: CompactTable, PRESCRIBING: PrescribingTable}


@dataclass(frozen=True)
class TemporaryPractice:
    """A day-limited privilege (PSYPACT TAP) the grant rests on: its days must be counted."""

    compact: str
    kind: str
    jurisdiction: str
    max_days_per_calendar_year: int

    @property
    def ledger(self) -> str:
        return f"{self.compact}#{self.kind}#{self.jurisdiction}"


@dataclass(frozen=True)
class LicensureDecision:
    allowed: bool
    basis: LicensureBasis | None
    reasons: tuple[Reason, ...]
    rules_version: str
    temporary_practice: TemporaryPractice | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    @property
    def uncertain(self) -> bool:
        """Some reason rests on facts the rules mark [?]: worth a human look."""
        return any(r.uncertain for r in self.reasons)

    @property
    def conditions(self) -> tuple[Reason, ...]:
        """What an allowed decision obliges (probation terms, day limits, compact conditions)."""
        return tuple(r for r in self.reasons if r.condition) if self.allowed else ()



def apply_uncertainty_policy(decision: LicensureDecision, uncertain_rules: str) -> LicensureDecision:
    """Tenant policy: `refuse` turns an allowance that rests on an uncertain rule into a refusal."""
    if uncertain_rules != "refuse" or not decision.allowed or not decision.uncertain:
        return decision
    doubtful = [r for r in decision.reasons if r.uncertain]
    refusal = Reason(UNCERTAIN_RULE_REFUSED, doubtful[0].rule_id, doubtful[0].source,
                     "the allowance rests on a rule marked uncertain and the tenant refuses those", True)
    return LicensureDecision(False, None, (refusal, *doubtful), decision.rules_version)


@dataclass(frozen=True)
class _Tables:
    baseline: RuleRef
    jurisdictions: JurisdictionTable
    license_types: LicenseTypeTable
    compacts: CompactTable
    prescribing: PrescribingTable

    @classmethod
    def of(cls, rules: RuleBook) -> _Tables | list[str]:
        """The tables, or the kinds that are missing: a decision never runs on part of the rules."""
        found = {kind: rules.tables.get(kind) for kind in REQUIRED_TABLES}
        missing = [kind for kind, value in found.items() if not isinstance(value, REQUIRED_TABLES[kind])]
        if not rules.services:
            missing.append("service_catalog")
        if missing:
            return missing
        types: LicenseTypeTable = found[LICENSE_TYPES]
        return cls(types.baseline, found[JURISDICTIONS], types, found[COMPACTS], found[PRESCRIBING])


@dataclass(frozen=True)
class _Path:
    """One way the clinician might be authorised: a licence or a compact record."""

    basis: LicensureBasis | None
    reasons: tuple[Reason, ...]
    temporary_practice: TemporaryPractice | None = None


def licensure_decision(clinician: Clinician, where: str, modality: Modality, on: date, rules: RuleBook,
                       *, service: str | None = None, controlled_substance_schedule: str | None = None,
                       oud_medication: bool = False, prior_in_person_evaluation: bool = False,
                       temporary_days_used: int | None = None) -> LicensureDecision:
    """Practice happens where the patient is at the time of the visit.

    `where` is the patient's jurisdiction at the visit and `on` the visit's date there.
    `oud_medication`: the controlled substance is an FDA-approved opioid-use-disorder medication
    (audio-only rules differ). `prior_in_person_evaluation`: the prescriber has seen the patient in
    person (Ryan Haight). `temporary_days_used`: days of temporary in-person practice (PSYPACT TAP)
    already used in `where` this calendar year, not counting the visit's date; None = not counted
    here, and the decision then states the limit as a condition.
    """
    t = _Tables.of(rules)

    def refuse(reasons: Iterable[Reason]) -> LicensureDecision:
        return LicensureDecision(False, None, tuple(reasons), rules.version)

    if isinstance(t, list):
        return refuse([reason(RULES_INCOMPLETE, _FALLBACK_BASELINE,
                              f"the rule book lacks {', '.join(t)}: no decision without them")])
    if t.jurisdictions.get(where, on) is None:
        return refuse([reason("UNKNOWN_JURISDICTION", t.baseline, f"{where!r} is not a jurisdiction in the rules")])
    scope = _service_refusals(clinician, modality, on, rules, service, t.baseline)
    if scope:
        return refuse(scope)
    authority = _authority(clinician, where, modality, on, t, temporary_days_used)
    if authority.basis is None:
        return refuse(authority.reasons)
    reasons = authority.reasons
    if controlled_substance_schedule is not None:
        outcome = prescribing_outcome(clinician, where, modality, on, controlled_substance_schedule,
                                      t.prescribing, t.baseline, oud_medication=oud_medication,
                                      prior_in_person_evaluation=prior_in_person_evaluation)
        if not outcome.allowed:
            return refuse(outcome.reasons)
        reasons += outcome.reasons
    return LicensureDecision(True, authority.basis, reasons, rules.version, authority.temporary_practice)


def lawful_modalities(clinician: Clinician, where: str, on: date, rules: RuleBook, *,
                      service: str | None = None,
                      modalities: Iterable[Modality] = tuple(Modality)) -> dict[Modality, LicensureDecision]:
    """The decision for each modality, allowed or not: availability offers only the allowed ones and
    check-in proposes them as alternatives (e.g. video when in-person is not lawful there)."""
    return {m: licensure_decision(clinician, where, m, on, rules, service=service) for m in modalities}


def allowed_modalities(clinician: Clinician, where: str, on: date, rules: RuleBook, *,
                       service: str | None = None) -> frozenset[Modality]:
    return frozenset(m for m, d in lawful_modalities(clinician, where, on, rules, service=service).items()
                     if d.allowed)


def lawful_clinicians(clinicians: Iterable[Clinician], where: str, modality: Modality, on: date,
                      rules: RuleBook, *, service: str | None = None) -> list[tuple[Clinician, LicensureDecision]]:
    """Clinicians who may see a patient in `where` by `modality` on `on`, in the order given."""
    decisions = ((c, licensure_decision(c, where, modality, on, rules, service=service)) for c in clinicians)
    return [(c, d) for c, d in decisions if d.allowed]


def _service_refusals(clinician: Clinician, modality: Modality, on: date, rules: RuleBook,
                      service: str | None, baseline: RuleRef) -> list[Reason]:
    if service is None:
        return []
    found = rules.service(service)
    if found is None:
        return [reason("UNKNOWN_SERVICE", baseline, f"service {service!r} is not in the catalog")]
    ref = RuleRef(found.rule_id, found.source, found.effective_from, found.effective_to)
    out = []
    if not found.in_effect(on):
        out.append(reason("SERVICE_NOT_IN_EFFECT", ref, f"service {service} is not offered on {on}"))
    if clinician.discipline not in found.disciplines:
        out.append(reason("SERVICE_NOT_FOR_DISCIPLINE", ref,
                          f"{clinician.discipline.value} may not deliver {service}"))
    if modality not in found.modalities:
        out.append(reason("SERVICE_MODALITY_NOT_OFFERED", ref, f"{service} is not offered by {modality.value}"))
    return out


def _authority(clinician: Clinician, where: str, modality: Modality, on: date, t: _Tables,
               temporary_days_used: int | None) -> _Path:
    """The first path that authorises practice, else every refusal from every path tried."""
    refusals: list[Reason] = []
    here = [lic for lic in clinician.licenses if lic.jurisdiction == where]
    # A full licence is the strongest basis: try it before exception registrations.
    here.sort(key=lambda lic: (_is_exception(lic, t), -lic.expires_on.toordinal()))
    for lic in here:
        path = _licence_path(lic, clinician, where, modality, on, t)
        if path.basis is not None:
            return path
        refusals.extend(path.reasons)
    if not here:
        refusals.append(reason("NO_LICENSE_IN_JURISDICTION", t.baseline, f"no licence recorded in {where}"))
    for privilege in clinician.compact_privileges:
        path = _compact_path(privilege, clinician, where, modality, on, t.compacts, t, temporary_days_used)
        if path.basis is not None:
            return path
        refusals.extend(path.reasons)
    return _Path(None, tuple(refusals))


def _is_exception(lic: License, t: _Tables) -> bool:
    found = t.license_types.resolve(lic.type)
    return found is not None and found.basis_kind != "license"


def _licence_path(lic: License, clinician: Clinician, where: str, modality: Modality, on: date,
                  t: _Tables) -> _Path:
    baseline = t.baseline
    expired = reason("LICENSE_EXPIRED", baseline, f"{lic.type} licence in {where} expired {lic.expires_on}")
    kind = t.license_types.resolve(lic.type)
    if kind is None:
        return _Path(None, (reason("LICENSE_TYPE_UNKNOWN", baseline,
                                   f"licence type {lic.type!r} in {where} is not in the licence-type rules"),))
    refusals = []
    if not kind.rule.in_effect(on):
        refusals.append(reason("LICENSE_TYPE_NOT_IN_EFFECT", kind.rule, f"{kind.code} is not in effect on {on}"))
    if clinician.discipline not in kind.disciplines:
        refusals.append(reason("LICENSE_TYPE_NOT_FOR_DISCIPLINE", kind.rule,
                               f"{kind.code} does not let a {clinician.discipline.value} practise",
                               uncertain=clinician.discipline in kind.uncertain_disciplines))
    if kind.jurisdictions and where not in kind.jurisdictions:
        refusals.append(reason("LICENSE_TYPE_NOT_VALID_IN_JURISDICTION", kind.rule,
                               f"{kind.code} exists only in {', '.join(sorted(kind.jurisdictions))}"))
    if modality not in kind.modalities:
        refusals.append(reason("LICENSE_TYPE_WRONG_MODALITY", kind.rule,
                               f"{kind.code} does not cover {modality.value} visits",
                               uncertain=modality in kind.uncertain_modalities))
    if lic.expires_on < on:
        refusals.append(expired)
    status_code = refusal_code("LICENSE", lic.status, lic.effective_from, on)
    if status_code is not None:
        refusals.append(reason(status_code, baseline, f"{kind.code} licence in {where} is not in good standing on {on}"
                               f" (status {lic.status})"))
    if kind.requires_license_elsewhere and not _full_licence_elsewhere(clinician, where, on, t.license_types):
        refusals.append(reason("EXCEPTION_REQUIRES_LICENSE_ELSEWHERE", kind.rule,
                               f"{kind.code} needs an active full licence outside {where}"))
    if refusals:
        return _Path(None, tuple(refusals))
    basis = LicensureBasis(kind.basis_kind, where, None, lic.number)
    if kind.basis_kind == "license":
        granted = reason(LICENSED_IN_JURISDICTION, baseline,
                         f"{kind.code} licence in {where} valid through {lic.expires_on} (rule {kind.rule.rule_id})")
    else:
        granted = reason(JURISDICTION_EXCEPTION, kind.rule,
                         f"{kind.code} in {where} valid through {lic.expires_on}")
    probation = (condition_reason("LICENSE_ON_PROBATION", baseline,
                                  f"the licence in {where} is on probation: practise within the board's terms"),
                 ) if on_probation(lic.status, lic.effective_from, on) else ()
    return _Path(basis, (granted, *probation, *condition_reasons(kind.conditions, kind.rule)))


def _full_licence_elsewhere(clinician: Clinician, where: str, on: date, types: LicenseTypeTable) -> bool:
    return any(lic.jurisdiction != where and on <= lic.expires_on and grants(lic.status, lic.effective_from, on)
               and types.is_full_license_for(lic.type, clinician.discipline, on)
               for lic in clinician.licenses)


def _compact_path(privilege: CompactPrivilege, clinician: Clinician, where: str, modality: Modality,
                  on: date, compacts: CompactTable, t: _Tables, temporary_days_used: int | None) -> _Path:
    name = privilege.compact
    if not compacts.known(name):
        return _Path(None, (reason("UNKNOWN_COMPACT", t.baseline, f"compact {name!r} is not in the rules"),))
    compact = compacts.get(name, on)
    if compact is None:
        return _Path(None, (reason("COMPACT_NOT_IN_EFFECT", t.baseline, f"no {name} rule is in effect on {on}"),))
    rule = compact.rule
    if compact.model is CompactModel.EXPEDITED_LICENSURE:
        detail = (f"{name} is an expedited path to a full licence, never a privilege: record the "
                  f"licence {where} issues as a licence")
        if compact.membership(where, on).status is MemberStatus.OPERATIONAL:
            detail += f" ({where} issues licences through {name})"
        return _Path(None, (reason("IMLC_NOT_A_PRIVILEGE", rule, detail),))

    refusals: list[Reason] = []
    if clinician.discipline not in compact.disciplines:
        refusals.append(reason("COMPACT_NOT_FOR_DISCIPLINE", rule,
                               f"{name} does not cover a {clinician.discipline.value}"))
    if not compact.issuing(on):
        refusals.append(reason("COMPACT_NOT_ISSUING", rule, f"{name} issues no privileges or licences on {on}"))
    if privilege.expires_on < on:
        refusals.append(reason("PRIVILEGE_EXPIRED", rule,
                               f"{name} {privilege.kind or ''} expired {privilege.expires_on}"))
    status_code = refusal_code("PRIVILEGE", privilege.status, privilege.effective_from, on)
    if status_code is not None:
        refusals.append(reason(status_code, rule, f"{name} {privilege.kind or ''} is not in good standing on {on} "
                                                  f"(status {privilege.status})"))
    kind = None
    if compact.privilege_kinds:
        kind = compact.privilege_kinds.get((privilege.kind or "").upper())
        if kind is None:
            refusals.append(reason("PRIVILEGE_KIND_UNKNOWN", rule,
                                   f"{name} has no privilege kind {privilege.kind!r}"))
        elif modality not in kind.modalities:
            refusals.append(reason("PRIVILEGE_WRONG_MODALITY", rule,
                                   f"{name} {kind.kind} covers {', '.join(sorted(kind.modalities))}, "
                                   f"not {modality.value}"))
    refusals.extend(_membership_refusals(compact, privilege, where, on))
    refusals.extend(_home_refusals(compact, privilege, clinician, on, t))
    limit = kind.max_days_per_calendar_year if kind else None
    if limit is not None and temporary_days_used is not None and temporary_days_used >= limit:
        refusals.append(reason("TEMPORARY_PRACTICE_DAYS_EXHAUSTED", rule,
                               f"{temporary_days_used} of {limit} days already used in {where} this year"))
    if refusals:
        return _Path(None, tuple(refusals))

    period = compact.membership(where, on).period
    cited = period.ref(rule) if period else rule
    ref = f"{privilege.kind or compact.model.value}:{privilege.home_jurisdiction}"
    granted = [reason(COMPACT_PRIVILEGE, cited, f"{name} {privilege.kind or ''} from home state "
                      f"{privilege.home_jurisdiction}; {where} operational since {period.since if period else '?'}")]
    temporary = None
    if limit is not None and kind is not None:
        used = "not counted by this check: the scheduler must count them" if temporary_days_used is None \
            else f"{temporary_days_used} used before this visit"
        granted.append(condition_reason("TEMPORARY_PRACTICE_DAY_LIMIT", rule,
                                        f"at most {limit} days per calendar year in {where}; {used}"))
        temporary = TemporaryPractice(name, kind.kind, where, limit)
    if on_probation(privilege.status, privilege.effective_from, on):
        granted.append(condition_reason("PRIVILEGE_ON_PROBATION", rule,
                                        f"the {name} privilege is on probation: practise within its terms"))
    if kind is not None:
        granted.extend(condition_reasons(kind.conditions, rule))
    granted.extend(condition_reasons(compact.conditions, rule))
    return _Path(LicensureBasis("compact_privilege", where, name, ref), tuple(granted), temporary)


def _membership_refusals(compact: Compact, privilege: CompactPrivilege, where: str, on: date) -> list[Reason]:
    rule = compact.rule
    if where == privilege.home_jurisdiction:
        return [reason("PRIVILEGE_NOT_FOR_HOME_STATE", rule,
                       f"a {compact.code} privilege is for remote states; {where} needs the home licence")]
    out = []
    member = compact.membership(where, on)
    cited = member.period.ref(rule) if member.period else rule
    if member.status is MemberStatus.ENACTED:
        out.append(reason("COMPACT_NOT_OPERATIONAL_IN_STATE", cited,
                          f"{where} enacted {compact.code} but is not operational on {on}"))
    elif member.status is not MemberStatus.OPERATIONAL:
        pending = " (legislation pending only)" if member.status is MemberStatus.PENDING else ""
        # A state absent from a list marked [?] may be a member the list missed: say so.
        doubt = True if member.period is None and compact.membership_uncertain else None
        out.append(reason("STATE_NOT_COMPACT_MEMBER", cited,
                          f"{where} is not a {compact.code} member on {on}{pending}", uncertain=doubt))
    if compact.privilege_scope == "listed_states" and where not in privilege.jurisdictions:
        out.append(reason("PRIVILEGE_NOT_FOR_STATE", rule,
                          f"the {compact.code} privilege does not list {where}"))
    return out


def _home_refusals(compact: Compact, privilege: CompactPrivilege, clinician: Clinician, on: date,
                   t: _Tables) -> list[Reason]:
    rule, home = compact.rule, privilege.home_jurisdiction
    out = []
    member = compact.membership(home, on)
    wanted = {MemberStatus.OPERATIONAL} if compact.home_state_must_be_operational \
        else {MemberStatus.OPERATIONAL, MemberStatus.ENACTED}
    if member.status not in wanted or (member.period is not None and not member.period.can_be_home):
        cited = member.period.ref(rule) if member.period else rule
        doubt = True if member.period is None and compact.membership_uncertain else None
        out.append(reason("HOME_STATE_NOT_ELIGIBLE", cited,
                          f"home state {home} is {member.status.value} in {compact.code} on {on}", uncertain=doubt))
    anchors = [lic for lic in clinician.licenses if lic.jurisdiction == home and _anchors(lic, compact, t)]
    if not anchors:
        out.append(reason("HOME_LICENSE_MISSING", rule,
                          f"no {'/'.join(sorted(compact.home_license_types))} licence recorded in {home}"))
    elif all(lic.expires_on < on for lic in anchors):
        out.append(reason("HOME_LICENSE_EXPIRED", rule,
                          f"home licence in {home} expired {max(lic.expires_on for lic in anchors)}"))
    elif not any(on <= lic.expires_on and grants(lic.status, lic.effective_from, on) for lic in anchors):
        # A privilege rests on the home licence: a suspended home licence suspends the privilege.
        out.append(reason("HOME_LICENSE_NOT_ACTIVE", rule, f"home licence in {home} is not in good standing on {on}"))
    return out


def _anchors(lic: License, compact: Compact, t: _Tables) -> bool:
    kind = t.license_types.resolve(lic.type)
    return kind is not None and normalize_type(kind.code) in compact.home_license_types
