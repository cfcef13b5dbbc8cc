"""Every date range is inclusive at both ends: expires_on, effective_from/to, since/until."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from chalicelib.domain.compacts import MembershipPeriod, MemberStatus
from chalicelib.domain.model import Discipline, Modality
from chalicelib.domain.ruleref import RuleRef, in_effect
from tests.rules._support import (
    COUNSELOR_AZ,
    PSYCHIATRIST_NY_IMLC,
    clinician,
    copy_sources,
    dea,
    decide,
    lic,
    privilege,
    rulebook_from,
)

pytestmark = pytest.mark.unit

DAY = timedelta(days=1)
VIDEO = Modality.VIDEO


def test_in_effect_is_inclusive_at_both_ends() -> None:
    start, end = date(2026, 1, 1), date(2026, 12, 31)

    assert [in_effect(start, end, d) for d in (start - DAY, start, end, end + DAY)] == [False, True, True, False]
    assert in_effect(start, None, date(2999, 1, 1))
    assert RuleRef("r", "s", start, end).in_effect(end)


def test_membership_period_covers_since_and_until() -> None:
    period = MembershipPeriod("US-OH", MemberStatus.OPERATIONAL, date(2026, 1, 5), date(2026, 3, 1), "event",
                              True, "src", False, None)

    assert [period.covers(d) for d in (date(2026, 1, 4), date(2026, 1, 5), date(2026, 3, 1), date(2026, 3, 2))] \
        == [False, True, True, False]


@pytest.mark.parametrize("kind", ["licence", "privilege", "dea"])
def test_credentials_are_valid_through_their_expiry_date(kind: str) -> None:
    expires = date(2026, 10, 31)
    if kind == "licence":  # HRSA PAL 2020-01 / FSMB #3: a current licence where the patient is
        c = clinician(Discipline.PSYCHOLOGIST, licenses=(lic("US-NY", "psychologist", expires),))
        where, code, extra = "US-NY", "LICENSE_EXPIRED", {}
    elif kind == "privilege":  # psypact.gov: APIT renewed annually
        c = clinician(Discipline.PSYCHOLOGIST, licenses=(lic("US-AZ", "PsyD"),),
                      privileges=(privilege("PSYPACT", "APIT", "US-AZ", expires),))
        where, code, extra = "US-TX", "PRIVILEGE_EXPIRED", {}
    else:  # 21 CFR 1301.12
        c = clinician(Discipline.PSYCHIATRIST, licenses=(lic("US-NY", "MD"),),
                      dea_registrations=(dea("US-NY", until=expires),))
        where, code, extra = "US-NY", "DEA_REGISTRATION_EXPIRED", {"controlled_substance_schedule": "IV"}

    on_expiry = decide(c, where, VIDEO, expires, **extra)
    day_after = decide(c, where, VIDEO, expires + DAY, **extra)

    assert on_expiry.allowed, on_expiry.reasons
    assert not day_after.allowed and code in day_after.codes


def test_operational_since_date_is_the_first_lawful_day() -> None:
    # certoutlook.com 2026-06-13: Counseling Compact operational in OH since 2026-01-05
    before = decide(COUNSELOR_AZ, "US-OH", VIDEO, date(2026, 1, 4))
    first = decide(COUNSELOR_AZ, "US-OH", VIDEO, date(2026, 1, 5))

    assert "COMPACT_NOT_OPERATIONAL_IN_STATE" in before.codes
    assert first.allowed and first.basis is not None and first.basis.compact == "COUNSELING"


def test_compact_issuing_from_is_inclusive() -> None:
    # necounseling.org: launched 2025-09-30 with AZ and MN first
    assert "COMPACT_NOT_ISSUING" in decide(COUNSELOR_AZ, "US-MN", VIDEO, date(2025, 9, 29)).codes
    assert decide(COUNSELOR_AZ, "US-MN", VIDEO, date(2025, 9, 30)).allowed


def test_prescribing_rule_effective_to_is_inclusive() -> None:
    # 90 FR 61301: "effective 2026-01-01 through 2026-12-31"
    last = decide(PSYCHIATRIST_NY_IMLC, "US-NY", VIDEO, date(2026, 12, 31), controlled_substance_schedule="II")
    after = decide(PSYCHIATRIST_NY_IMLC, "US-NY", VIDEO, date(2027, 1, 1), controlled_substance_schedule="II")

    assert last.allowed and not after.allowed


def test_rule_effective_window_from_a_data_file_is_inclusive(tmp_path: Path) -> None:
    # GIVEN ops limit the LPC licence type to June 2026 (an edit of license_types.yaml)
    source = copy_sources(tmp_path)
    path = source / "license_types.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    for rule in document["rules"]:
        if rule["id"] == "lt-lpc":
            rule["effective_from"], rule["effective_to"] = date(2026, 6, 1), date(2026, 6, 30)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    rules = rulebook_from(source)
    c = clinician(Discipline.COUNSELOR, licenses=(lic("US-AZ", "LPC"),))

    outcomes = {d: decide(c, "US-AZ", VIDEO, d, rules) for d in
                (date(2026, 5, 31), date(2026, 6, 1), date(2026, 6, 30), date(2026, 7, 1))}

    assert [o.allowed for o in outcomes.values()] == [False, True, True, False]
    assert "LICENSE_TYPE_NOT_IN_EFFECT" in outcomes[date(2026, 7, 1)].codes
