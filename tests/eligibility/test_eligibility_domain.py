"""The pure parts: URL literal checks, telehealth block, appointment status, re-check rule, backoff, policy merge."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from chalicelib.domain.connector_url import ConnectorUrlNotAllowed, address_refusal, check_connector_url
from chalicelib.domain.eligibility import (
    TelehealthCoverage,
    appointment_status,
    needs_recheck,
    split_person_name,
    telehealth_coverage,
)
from chalicelib.domain.model import Modality
from chalicelib.domain.payer_policy import PayerDefaults, PolicyOverride, TelehealthTerms, effective_policy
from chalicelib.domain.retry import RetryPolicy
from chalicelib.domain.ruleref import RuleRef
from chalicelib.rules.bundle import RulesError, validate_sources
from chalicelib.x12.text import x12_text
from tests.rules._support import copy_sources, source_rulebook

pytestmark = pytest.mark.unit
TERMS = TelehealthTerms(video_covered=True, phone_covered=False)


@pytest.mark.parametrize(("url", "local", "reason"), [
    ("https://169.254.169.254/latest", False, "metadata"),
    ("https://[fd00:ec2::254]/", False, "metadata"),
    ("https://10.0.0.1/", False, "private"),
    ("https://192.168.1.1/", False, "private"),
    ("https://[::1]/", False, "loopback"),
    ("https://[fc00::5]/", False, "private"),
    ("https://[::ffff:169.254.169.254]/", False, "metadata"),
    ("https://[2002:a00:1::]/", False, "private"),  # 6to4 wrapping 10.0.0.1
    ("https://224.0.0.1/", False, "not_public"),
    ("http://payer.example.com/", False, "scheme"),
    ("ftp://payer.example.com/", False, "scheme"),
    ("https://a:b@payer.example.com/", False, "userinfo"),
    ("https://@payer.example.com/", False, "userinfo"),
    ("https://0x7f000001/", False, "non_canonical_host"),
    ("https://payer.example.com:99999/", False, "malformed"),
    ("https://[fe80::1%25eth0]/", False, "malformed"),
    ("https://payer.example.com/#frag", False, "malformed"),
    ("https://payer", False, "internal_name"),
    ("https://payer.local/", False, "internal_name"),
    ("https://pay er.example.com/", False, "malformed"),
    ("http://10.0.0.1:8090/", True, "not_loopback"),
    ("http://payer.example.com/", True, "not_loopback"),
    ("file:///etc/passwd", True, "scheme"),
])
def test_literal_refusals(url, local, reason):
    with pytest.raises(ConnectorUrlNotAllowed) as refused:
        check_connector_url(url, local_stage=local)
    assert refused.value.reason == reason
    assert refused.value.code == "CONNECTOR_URL_NOT_ALLOWED" and refused.value.status == 422
    assert url not in refused.value.detail


def test_literal_acceptances_keep_host_port_and_path():
    t = check_connector_url("https://Payer.Example.com:8443/x12/270?v=1", local_stage=False)
    assert (t.scheme, t.host, t.port, t.path, t.is_ip_literal) == ("https", "payer.example.com", 8443,
                                                                   "/x12/270?v=1", False)
    local = check_connector_url("http://127.0.0.1:8090/x12", local_stage=True)
    assert (local.host, local.port, local.is_ip_literal) == ("127.0.0.1", 8090, True)


@pytest.mark.parametrize(("address", "local", "expected"), [
    ("93.184.216.34", False, None), ("2606:2800:220:1::1", False, None), ("127.0.0.1", True, None),
    ("::1", True, None), ("10.0.0.1", True, "not_loopback"), ("127.0.0.1", False, "loopback"),
    ("169.254.169.254", False, "metadata"), ("169.254.1.1", False, "link_local"), ("100.64.1.1", False, "not_public"),
    ("not-an-ip", False, "not_public"),
])
def test_address_refusal(address, local, expected):
    assert address_refusal(address, local_stage=local) == expected


@pytest.mark.parametrize(("modality", "location", "status", "service_covered", "expected"), [
    (Modality.VIDEO, "home", "active", None, TelehealthCoverage(True, "10", ("95",))),
    (Modality.VIDEO, "other", "active", None, TelehealthCoverage(True, "02", ("95",))),
    (Modality.PHONE, "home", "active", None, TelehealthCoverage(False, "10", ("93",))),
    (Modality.VIDEO, "home", "active", False, TelehealthCoverage(False, "10", ("95",))),  # EB*I for the service
    (Modality.VIDEO, "home", "inactive", None, TelehealthCoverage(False, "10", ("95",))),
    (Modality.VIDEO, "home", "pending", None, TelehealthCoverage(None, "10", ("95",))),
    (Modality.VIDEO, "home", "not_found", None, TelehealthCoverage(None, "10", ("95",))),
    (Modality.IN_PERSON, "clinic", "active", None, TelehealthCoverage(None, "11", ())),
])
def test_telehealth_block(modality, location, status, service_covered, expected):
    assert telehealth_coverage(TERMS, modality, location, status, service_covered) == expected


@pytest.mark.parametrize(("status", "covered", "modality", "expected"), [
    ("active", True, Modality.VIDEO, "verified"), ("active", False, Modality.PHONE, "not_covered"),
    ("active", None, Modality.VIDEO, "unknown"), ("active", None, Modality.IN_PERSON, "verified"),
    ("inactive", False, Modality.VIDEO, "not_covered"), ("pending", None, Modality.VIDEO, "pending"),
    ("not_found", None, Modality.VIDEO, "unknown"), ("error", None, Modality.VIDEO, "unknown"),
])
def test_appointment_status(status, covered, modality, expected):
    assert appointment_status(status, TelehealthCoverage(covered, "10", ()), modality) == expected


@pytest.mark.parametrize(("previous", "before", "after", "day1", "day2", "begin", "end", "expected"), [
    ("verified", Modality.VIDEO, Modality.VIDEO, date(2026, 3, 3), date(2026, 3, 3), None, None, False),
    ("verified", Modality.VIDEO, Modality.PHONE, date(2026, 3, 3), date(2026, 3, 3), None, None, True),
    ("verified", Modality.VIDEO, Modality.VIDEO, date(2026, 3, 3), date(2026, 11, 3), None, None, False),
    ("verified", Modality.VIDEO, Modality.VIDEO, date(2026, 12, 30), date(2027, 1, 4), None, None, True),
    ("verified", Modality.VIDEO, Modality.VIDEO, date(2026, 6, 3), date(2026, 7, 3), date(2025, 7, 1),
     date(2026, 6, 30), True),  # a plan year that is not the calendar year
    ("verified", Modality.VIDEO, Modality.VIDEO, date(2026, 12, 3), date(2027, 1, 3), date(2026, 7, 1),
     date(2027, 6, 30), True),  # the calendar year still resets deductibles for most plans
    ("pending", Modality.VIDEO, Modality.VIDEO, date(2026, 3, 3), date(2026, 3, 4), None, None, True),
    ("unknown", Modality.VIDEO, Modality.VIDEO, date(2026, 3, 3), date(2026, 3, 4), None, None, True),
])
def test_when_a_changed_visit_is_checked_again(previous, before, after, day1, day2, begin, end, expected):
    assert needs_recheck(previous, before, after, day1, day2, begin, end) is expected


def test_backoff_is_capped_exponential_with_full_jitter():
    policy = RetryPolicy(max_attempts=5, base_seconds=0.25, cap_seconds=2.0)
    assert [policy.delay(n, 0.999999) for n in range(1, 6)] == pytest.approx([0.25, 0.5, 1.0, 2.0, 2.0], abs=1e-5)
    assert policy.delay(3, 0.0) == 0.0 and policy.delay(3, 0.5) == pytest.approx(0.5)


def test_the_api_policy_wins_field_by_field_over_the_rules_default():
    default = PayerDefaults(RuleRef("payer-x", "src", date(2026, 1, 1)), "x", "X", None,
                            TelehealthTerms(True, True, "10", "02", ("95",), ("93",)))
    merged = effective_policy(PolicyOverride(phone_covered=False, modifiers_video=("GT",)), default)
    assert merged.terms == TelehealthTerms(True, False, "10", "02", ("GT",), ("93",))
    assert merged.rule_id == "payer-x" and merged.overridden == ("phone_covered", "modifiers_video")
    assert effective_policy(None, None).terms.video_covered is None  # nothing known: unknown, not covered


def test_names_for_x12():
    assert split_person_name("Jordan Demo-Patient") == ("Jordan", "Demo-Patient")
    assert split_person_name("Mary Ann van Dyke") == ("Mary Ann van", "Dyke")
    assert x12_text("O'Brien*~^:Jr", 60) == "O'BRIEN JR"
    assert x12_text("Dr. Ada Rivera", 5) == "DR. A" and x12_text("***", 10) == "UNKNOWN"


def test_payer_rules_give_acme_its_own_entry_and_everyone_else_the_default():
    table = source_rulebook().tables["payer_policy"]
    assert table.for_payer("acme", date(2026, 3, 3)).rule.rule_id == "payer-acme-2026"
    assert table.for_payer("anyone", date(2026, 3, 3)).rule.rule_id == "payer-default-medicare-like"
    assert table.own("anyone", date(2026, 3, 3)) is None


def test_two_policies_for_one_payer_on_the_same_date_fail_the_build(tmp_path: Path):
    source = copy_sources(tmp_path)
    text = (source / "payers" / "acme.yaml").read_text(encoding="utf-8")
    (source / "payers" / "acme.yaml").write_text(text.replace("id: payer-acme-2026", "id: payer-acme-dup"),
                                                 encoding="utf-8")
    (source / "payers" / "acme2.yaml").write_text(text, encoding="utf-8")

    with pytest.raises(RulesError, match=r"overlap for payer 'acme'"):
        validate_sources(source)
