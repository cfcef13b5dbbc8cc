"""Licence types: which credential lets which discipline practise, and under what limits.

Clinician records carry the type as written by an admin ("PsyD", "LCSW", "PMHNP-BC"); the table
resolves it through codes and aliases, compared without case or punctuation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from .model import Discipline, Modality
from .ruleref import Condition, RuleRef

LICENSE_TYPES = "license_types"  # RuleBook.tables key


def normalize_type(written: str) -> str:
    """"PMHNP-BC", "pmhnp bc" and "P.M.H.N.P.-B.C." are the same credential."""
    return re.sub(r"[^A-Z0-9]", "", written.upper())


@dataclass(frozen=True)
class LicenseType:
    code: str
    name: str
    disciplines: frozenset[Discipline]  # disciplines this credential lets practise
    modalities: frozenset[Modality]
    basis_kind: str  # "license", or "exception" for registrations such as Fla. Stat. 456.47
    jurisdictions: frozenset[str]  # where the type exists at all; empty = anywhere
    requires_license_elsewhere: bool  # e.g. FL telehealth registration needs a full licence elsewhere
    # Disciplines/modalities whose exclusion rests on facts marked [?]: refusals say so.
    uncertain_disciplines: frozenset[Discipline]
    uncertain_modalities: frozenset[Modality]
    conditions: tuple[Condition, ...]
    rule: RuleRef


@dataclass(frozen=True)
class LicenseTypeTable:
    baseline: RuleRef  # "practice occurs where the patient is": the rule every licence check cites
    by_key: Mapping[str, LicenseType]  # normalized code or alias -> type

    def resolve(self, written: str) -> LicenseType | None:
        return self.by_key.get(normalize_type(written))

    def is_full_license_for(self, written: str, discipline: Discipline, on: date) -> bool:
        """A licence (not an exception registration) that lets `discipline` practise on `on`."""
        found = self.resolve(written)
        return (found is not None and found.basis_kind == "license" and discipline in found.disciplines
                and found.rule.in_effect(on))
