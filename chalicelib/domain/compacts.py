"""Interstate compacts as data: who they cover, which states are members and since when.

Three models, because the compacts differ in what they grant:
- "privilege": authority to practise in a remote state on top of a home licence (PSYPACT
  APIT/TAP, the Counseling Compact privilege).
- "multistate_license": one licence valid in every operational member state (NLC, Social Work,
  APRN). A compact that is not yet issuing grants nothing.
- "expedited_licensure": a faster path to a full state licence (IMLC). It is never a basis for
  practice by itself; the licence it leads to is recorded as an ordinary licence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .model import Discipline, Modality
from .ruleref import Condition, RuleRef, in_effect

COMPACTS = "compacts"  # RuleBook.tables key


class CompactModel(StrEnum):
    PRIVILEGE = "privilege"
    MULTISTATE_LICENSE = "multistate_license"
    EXPEDITED_LICENSURE = "expedited_licensure"


class MemberStatus(StrEnum):
    OPERATIONAL = "operational"  # issuing / honouring privileges or multistate licences
    ENACTED = "enacted"  # law passed, not yet operational there
    PENDING = "pending"  # bill introduced only: not a member
    NONE = "none"  # not listed at all


@dataclass(frozen=True)
class MembershipPeriod:
    jurisdiction: str
    status: MemberStatus
    since: date
    until: date | None
    # "event": `since` is when the status took effect. "source": `since` is only the date of the
    # source that reported it (the real start may be earlier), so decisions before it are denied.
    dated_by: str
    can_be_home: bool
    source: str
    uncertain: bool
    note: str | None

    def covers(self, on: date) -> bool:
        return in_effect(self.since, self.until, on)

    def ref(self, compact_rule: RuleRef) -> RuleRef:
        """The compact's rule, cited with this period's own source and doubt."""
        return RuleRef(compact_rule.rule_id, self.source, self.since, self.until,
                       self.uncertain or compact_rule.uncertain, self.note or compact_rule.note)


@dataclass(frozen=True)
class Membership:
    status: MemberStatus
    period: MembershipPeriod | None


@dataclass(frozen=True)
class PrivilegeKind:
    kind: str  # "APIT", "TAP", "PRIVILEGE"
    name: str
    modalities: frozenset[Modality]
    max_days_per_calendar_year: int | None
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Compact:
    code: str  # "PSYPACT", "IMLC", "COUNSELING", ...
    name: str
    model: CompactModel
    disciplines: frozenset[Discipline]
    home_license_types: frozenset[str]  # normalized licence type codes that can anchor it
    issuing_from: date | None  # None: not issuing anything yet
    privilege_kinds: Mapping[str, PrivilegeKind]  # empty: any kind, every modality
    # "listed_states": the privilege names the remote states (Counseling); "all_members": any member.
    privilege_scope: str
    home_state_must_be_operational: bool
    # The member list itself is marked [?] (e.g. a state may be missing): "not a member" is doubtful.
    membership_uncertain: bool
    conditions: tuple[Condition, ...]
    rule: RuleRef
    periods: Mapping[str, tuple[MembershipPeriod, ...]]  # jurisdiction -> periods, by `since`

    def issuing(self, on: date) -> bool:
        return self.issuing_from is not None and self.issuing_from <= on

    def membership(self, jurisdiction: str, on: date) -> Membership:
        """The latest-starting period that covers `on` wins: statuses move enacted -> operational."""
        current = [p for p in self.periods.get(jurisdiction, ()) if p.covers(on)]
        if not current:
            return Membership(MemberStatus.NONE, None)
        period = max(current, key=lambda p: p.since)
        return Membership(period.status, period)

    def operational_members(self, on: date) -> frozenset[str]:
        return frozenset(j for j in self.periods
                         if self.membership(j, on).status is MemberStatus.OPERATIONAL)


@dataclass(frozen=True)
class CompactTable:
    versions: Mapping[str, tuple[Compact, ...]]  # compact code -> its rules over time

    def get(self, code: str, on: date) -> Compact | None:
        for compact in self.versions.get(code, ()):
            if compact.rule.in_effect(on):
                return compact
        return None

    def known(self, code: str) -> bool:
        return code in self.versions
