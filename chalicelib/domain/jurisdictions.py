"""Jurisdictions the rules know about (ISO 3166-2 codes) and their default time zones.

A code the table does not know is refused by the licensure check: a typo must never be able to
slip past the membership and licence lookups that are keyed by these codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from .ruleref import RuleRef

JURISDICTIONS = "jurisdictions"  # RuleBook.tables key


@dataclass(frozen=True)
class Jurisdiction:
    code: str  # "US-NY", "CA-ON"
    name: str
    country: str  # ISO 3166-1 alpha-2: "US", "CA"
    category: str  # state | district | territory | province
    default_zone: str  # IANA zone used when no address narrows it down
    other_zones: tuple[str, ...]  # further zones inside the jurisdiction (e.g. the FL panhandle)
    rule: RuleRef
    # Postal-code prefixes that lie in one of other_zones (e.g. "324" -> America/Chicago in Florida).
    postal_zones: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class JurisdictionTable:
    by_code: Mapping[str, Jurisdiction]

    def get(self, code: str, on: date) -> Jurisdiction | None:
        found = self.by_code.get(code)
        return found if found is not None and found.rule.in_effect(on) else None

    def codes(self, on: date) -> tuple[str, ...]:
        return tuple(sorted(code for code, j in self.by_code.items() if j.rule.in_effect(on)))

    def default_zone(self, code: str) -> str | None:
        found = self.by_code.get(code)
        return found.default_zone if found else None


def care_zone(tables: Mapping[str, object], where: str, fallback: str) -> str:
    """The IANA zone of the place where care happens: the jurisdiction's default zone when known."""
    table = tables.get(JURISDICTIONS)
    zone = table.default_zone(where) if isinstance(table, JurisdictionTable) else None
    return zone or fallback
