"""271s from real payers and clearinghouses that a strict or naive reader gets wrong (issue 17).

Each fixture is a variant seen in production traffic: the reader must neither refuse what it can
read nor give a confident answer the 271 does not support.
"""

from __future__ import annotations

import pytest

from chalicelib.domain.eligibility import ReferTo
from chalicelib.x12.ack import read_acknowledgment
from chalicelib.x12.benefits import summarize_benefits
from chalicelib.x12.read_271 import parse_271
from chalicelib.x12.syntax import X12Error

pytestmark = pytest.mark.unit

MH_A6 = ["MH", "A6"]


def test_a_behavioral_health_carve_out_names_who_to_ask_and_takes_nothing_from_plan_rows(read_fixture):
    summary = summarize_benefits(parse_271(read_fixture("271_carve_out_behavioral_health.x12")), MH_A6)

    assert summary.status == "active"  # the medical plan is active ...
    assert summary.carve_out is True  # ... but mental health is someone else's benefit
    assert summary.refer_to == (ReferTo("VN", "MINDWELL BEHAVIORAL HEALTH", "PI", "MBH01", phone="8005550199"),)
    assert (summary.benefits.copay, summary.benefits.coinsurance) == (None, None)  # not the plan-level $20 / 10 %
    assert summary.service_covered is None


def test_without_a_carve_out_the_plan_level_rows_still_apply(read_fixture):
    summary = summarize_benefits(parse_271(read_fixture("271_carve_out_behavioral_health.x12")), ["98"])

    assert summary.carve_out is False and summary.benefits.copay == "20.00"


@pytest.mark.parametrize(("places", "copay"), [
    (("11",), "40.00"),  # office visit: the POS 11 row
    (("10", "02"), "10.00"),  # video at home: the POS 02 telehealth row, never the office one
    (("02", "10"), "10.00"),
    ((), "40.00"),  # place unknown: the first in-network row, as before
])
def test_copay_rows_limited_by_place_of_service_are_chosen_by_the_visits_place(read_fixture, places, copay):
    parsed = parse_271(read_fixture("271_copay_by_place_of_service.x12"))

    summary = summarize_benefits(parsed, MH_A6, places_of_service=places)

    assert summary.benefits.copay == copay
    assert summary.benefit_network == "Y"


def test_an_out_of_network_office_only_row_never_prices_a_video_visit(read_fixture):
    parsed = parse_271(read_fixture("271_copay_by_place_of_service.x12"))

    summary = summarize_benefits(parsed, MH_A6, provider_in_network=False, places_of_service=("10", "02"))

    assert summary.benefits.copay == "10.00"  # the only row that applies to telehealth (EB12 Y)
    assert summary.benefit_network == "Y"


@pytest.mark.parametrize(("name", "code", "level", "retryable"), [
    ("271_aaa_42_source_without_hl.x12", "42", "information_source", True),
    ("271_aaa_43_receiver_without_hl.x12", "43", "information_receiver", False),
])
def test_a_payer_level_aaa_with_no_member_loop_is_read_as_the_code_says(read_fixture, name, code, level,
                                                                      retryable):
    parsed = parse_271(read_fixture(name))
    summary = summarize_benefits(parsed, MH_A6)

    assert parsed.subscriber is None and parsed.echoed_trace_numbers == ()
    assert [(e.code, e.level) for e in summary.aaa_errors] == [(code, level)]
    assert (summary.status, summary.retryable) == ("error", retryable)


@pytest.mark.parametrize("junk", ["   ", "\r\n", "\x00\x00\x00", "\x1a", "\n\x1a  \x00"])
def test_padding_nul_or_ctrl_z_after_the_iea_is_ignored(read_fixture, junk):
    text = read_fixture("271_active_mh.x12")

    parsed = parse_271(text + junk)

    assert parsed == parse_271(text)


def _wrap(text: str, width: int, newline: str) -> str:
    flat = text.replace("\n", "")
    return newline.join(flat[i:i + width] for i in range(0, len(flat), width)) + newline


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("width", [80, 64, 132])
def test_a_271_wrapped_at_fixed_columns_reads_the_same_as_unwrapped(read_fixture, width, newline):
    text = read_fixture("271_active_mh.x12")
    wrapped = _wrap(text, width, newline)
    assert any(not line.endswith("~") for line in wrapped.split(newline)[:-1])  # values split mid-word

    parsed = parse_271(wrapped)

    assert parsed == parse_271(text)
    assert parsed.payer.name == "ACME HEALTH PLAN"
    assert parsed.receiver.name == "RIVERSIDE BEHAVIORAL HEALTH"


def test_a_271_with_crlf_after_every_segment_reads(read_fixture):
    text = read_fixture("271_active_mh.x12")

    assert parse_271(text.replace("~\n", "~\r\n")) == parse_271(text)


def test_a_bad_date_in_one_benefit_row_drops_that_row_with_a_warning_not_the_answer(read_fixture):
    parsed = parse_271(read_fixture("271_bad_date_in_one_benefit_row.x12"))
    summary = summarize_benefits(parsed, MH_A6)

    assert [r.code for r in parsed.benefits] == ["1", "B", "C"]  # the EB*F with DTP 20261331 is gone
    assert summary.status == "active" and summary.benefits.copay == "25.00"
    assert summary.benefits.deductible_remaining == "350.00"
    assert len(summary.warnings) == 1 and "DTP03" in summary.warnings[0]
    assert "20261331" not in summary.warnings[0]


def test_a_bad_date_in_the_members_own_dates_still_refuses(read_fixture):
    text = read_fixture("271_bad_date_in_one_benefit_row.x12").replace("DTP*346*D8*20260101", "DTP*346*D8*2026")

    with pytest.raises(X12Error):
        parse_271(text)


def test_a_service_the_payer_excludes_is_not_covered(read_fixture):
    summary = summarize_benefits(parse_271(read_fixture("271_service_excluded.x12")), MH_A6)

    assert summary.status == "active" and summary.service_covered is False


def test_a_ta1_rejection_is_read_with_its_note_code(read_fixture):
    text = read_fixture("ta1_rejected_duplicate_control_number.x12")
    with pytest.raises(X12Error):
        parse_271(text)

    ack = read_acknowledgment(text)

    assert ack is not None and (ack.kind, ack.accepted, ack.ack_code) == ("TA1", False, "R")
    assert [(c.code, c.description) for c in ack.codes] == [("TA1:025", "Duplicate interchange control number")]


def test_a_999_rejection_is_read_with_its_segment_element_and_transaction_codes(read_fixture):
    text = read_fixture("999_rejected_member_id.x12")
    with pytest.raises(X12Error):
        parse_271(text)

    ack = read_acknowledgment(text)

    assert ack is not None and (ack.kind, ack.accepted, ack.ack_code) == ("999", False, "R")
    assert [(c.code, c.segment, c.element) for c in ack.codes] == [
        ("IK3:8", "NM1", None), ("IK4:6", "NM1", "NM109"), ("IK5:5", None, None)]
    assert ack.codes[1].description == "Invalid character in data element"


def test_a_271_is_not_an_acknowledgment(read_fixture):
    assert read_acknowledgment(read_fixture("271_active_mh.x12")) is None
    assert read_acknowledgment("not x12") is None


def test_a_dropped_copay_row_is_not_replaced_by_another_tiers_amount(read_fixture):
    text = read_fixture("271_active_mh.x12").replace(
        "EB*B*IND*MH^A6*PR**27*25*****Y~\n", "EB*B*IND*MH^A6*PR**27*25*****Y~\nDTP*292*D8*20261399~\n")
    parsed = parse_271(text.replace("SE*31*", "SE*32*"))

    summary = summarize_benefits(parsed, MH_A6)

    assert summary.benefits.copay is None  # not the $60 out-of-network row
    assert summary.benefits.coinsurance == "0.2" and len(summary.warnings) == 1
