"""Builders for the licensure tests: clinicians in one line, rule books from real or edited files."""

from __future__ import annotations

import shutil
from datetime import date
from functools import cache
from pathlib import Path

from chalicelib.domain.licensure import LicensureDecision, licensure_decision
from chalicelib.domain.model import (
    Clinician,
    CompactPrivilege,
    DeaRegistration,
    Discipline,
    License,
    Modality,
)
from chalicelib.domain.rulebook import RuleBook
from chalicelib.rules.bundle import SOURCE_DIR, build_rulebook, bundle_json, validate_sources

FAR = date(2030, 12, 31)  # an expiry that never matters
VISIT = date(2026, 12, 1)  # a date inside the current DEA flexibilities and after every operational date


@cache
def source_rulebook() -> RuleBook:
    """The rule book built from scheduling_rules/ as it is in the checkout (built once per run)."""
    files = validate_sources()
    import json

    return build_rulebook(files, version=json.loads(bundle_json(files))["version"])


def rulebook_from(source_dir: Path) -> RuleBook:
    return build_rulebook(validate_sources(source_dir), version=f"tmp:{source_dir.name}")


def copy_sources(tmp_path: Path) -> Path:
    target = tmp_path / "scheduling_rules"
    shutil.copytree(SOURCE_DIR, target, ignore=shutil.ignore_patterns("schema"))
    return target


def lic(jurisdiction: str, type_: str, until: date = FAR, number: str | None = None) -> License:
    return License(jurisdiction, type_, number or f"{type_}-{jurisdiction}", until)


def privilege(compact: str, kind: str | None, home: str, until: date = FAR,
              jurisdictions: tuple[str, ...] = ()) -> CompactPrivilege:
    return CompactPrivilege(compact, kind, home, until, jurisdictions)


def dea(jurisdiction: str, schedules: tuple[str, ...] = ("II", "III", "IV", "V"), until: date = FAR) -> DeaRegistration:
    return DeaRegistration(jurisdiction, f"DEA-{jurisdiction}", schedules, until)


def clinician(discipline: Discipline, *, licenses: tuple[License, ...] = (),
              privileges: tuple[CompactPrivilege, ...] = (), dea_registrations: tuple[DeaRegistration, ...] = (),
              clinician_id: str = "c-1") -> Clinician:
    return Clinician("t-1", clinician_id, "Test Clinician", "1234567893", discipline, "America/New_York",
                     licenses=licenses, compact_privileges=privileges, dea_registrations=dea_registrations,
                     modalities=frozenset(Modality))


def decide(c: Clinician, where: str, modality: Modality, on: date = VISIT, rules: RuleBook | None = None,
           **kwargs: object) -> LicensureDecision:
    return licensure_decision(c, where, modality, on, rules or source_rulebook(), **kwargs)  # type: ignore[arg-type]


# Clinicians the table-driven tests share.
PSYCHOLOGIST_AZ = clinician(Discipline.PSYCHOLOGIST, licenses=(lic("US-AZ", "PsyD"),),
                            privileges=(privilege("PSYPACT", "APIT", "US-AZ"),))
PSYCHOLOGIST_AZ_TAP = clinician(Discipline.PSYCHOLOGIST, licenses=(lic("US-AZ", "PsyD"),),
                                privileges=(privilege("PSYPACT", "TAP", "US-AZ"),))
PSYCHIATRIST_NY_IMLC = clinician(Discipline.PSYCHIATRIST, licenses=(lic("US-NY", "MD"),),
                                 privileges=(privilege("IMLC", None, "US-NY"),),
                                 dea_registrations=(dea("US-NY"),))
COUNSELOR_AZ = clinician(Discipline.COUNSELOR, licenses=(lic("US-AZ", "LPC"),),
                         privileges=(privilege("COUNSELING", "PRIVILEGE", "US-AZ",
                                               jurisdictions=("US-MN", "US-OH", "US-CO")),))
