"""271 reader and benefit summary on hand-written 271s built from the X12 structure."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from decimal import Decimal

import pytest

from chalicelib.x12 import codes
from chalicelib.x12.benefits import summarize_benefits
from chalicelib.x12.read_271 import parse_271
from chalicelib.x12.response import BenefitRow, DateInfo, Entity, Procedure, Reference, TraceNumber
from chalicelib.x12.syntax import Separators

pytestmark = pytest.mark.unit


def test_active_271_reads_payer_provider_member_and_plan(read_fixture):
    parsed = parse_271(read_fixture("271_active_mh.x12"))

    assert parsed.payer == Entity("PR", "2", "ACME HEALTH PLAN", None, "PI", "99HCO")
    assert parsed.receiver == Entity("1P", "2", "RIVERSIDE BEHAVIORAL HEALTH", None, "XX", "1234567893")
    subscriber = parsed.subscriber
    assert (subscriber.last_name, subscriber.first_name, subscriber.middle_name) == ("DOE", "JANE", "Q")
    assert (subscriber.member_id, subscriber.birth_date, subscriber.gender) == ("W100200300", date(1985, 4, 12), "F")
    assert subscriber.references == (Reference("6P", "GRP12345", "ACME EMPLOYER GROUP"),)
    assert parsed.dependent is None and parsed.patient is subscriber
    assert (parsed.plan_name, parsed.plan_begin, parsed.plan_end) == ("GOLD PPO 500", date(2026, 1, 1),
                                                                      date(2026, 12, 31))
    assert parsed.reference_id == "CHK-90834-0001"
    assert (parsed.envelope.interchange_control_number, parsed.envelope.group_control_number) == (777, 777)


def test_eb_rows_keep_every_element_and_the_msg_and_dtp_that_follow_them(read_fixture):
    rows = parse_271(read_fixture("271_active_mh.x12")).benefits

    assert [r.code for r in rows] == ["1", "B", "B", "A", "A", "C", "C", "C", "C", "G", "G", "G"]
    assert rows[0] == BenefitRow("1", "IND", ("30", "MH", "A6"), "PR", "GOLD PPO 500")
    assert rows[1] == BenefitRow("B", "IND", ("MH", "A6"), "PR", None, "27", Decimal("25"), in_plan_network="Y",
                                 messages=("COPAY APPLIES PER VISIT, TELEHEALTH INCLUDED",))
    assert (rows[3].percent, rows[3].amount, rows[3].in_plan_network) == (Decimal(".2"), None, "Y")
    assert rows[4].percent == Decimal("0.40")
    assert rows[6].amount == Decimal("350.5")
    assert rows[6].dates == (DateInfo("292", date(2026, 1, 1), date(2026, 12, 31)),)
    assert rows[7].coverage_level == "FAM"
    assert rows[1].description == "Co-Payment"


def test_trn_echo_is_separated_from_the_payers_own_trace(read_fixture):
    parsed = parse_271(read_fixture("271_active_mh.x12"))

    assert parsed.echoed_trace_numbers == ("CHK-90834-0001",)
    assert parsed.trace_numbers == (TraceNumber("2", "CHK-90834-0001", "9HCORCH000"),
                                    TraceNumber("1", "PAYER-TRACE-55", "9PAYERSIM0"))


def test_summary_prefers_the_in_network_individual_rows(read_fixture):
    summary = summarize_benefits(parse_271(read_fixture("271_active_mh.x12")), ["MH", "A6"])

    assert summary.status == "active"
    assert asdict(summary.benefits) == {"copay": "25.00", "coinsurance": "0.2", "deductible_remaining": "350.50",
                                       "out_of_pocket_remaining": "2100.00", "in_network": None}
    assert summary.benefit_network == "Y"
    assert summary.plan_name == "GOLD PPO 500"


def test_summary_for_a_provider_known_to_be_out_of_network_uses_the_out_of_network_rows(read_fixture):
    summary = summarize_benefits(parse_271(read_fixture("271_active_mh.x12")), ["MH"], provider_in_network=False)

    assert asdict(summary.benefits) == {"copay": "60.00", "coinsurance": "0.4", "deductible_remaining": "1500.00",
                                       "out_of_pocket_remaining": "6000.00", "in_network": False}
    assert summary.benefit_network == "N"


def test_eb12_alone_never_claims_the_provider_is_in_network(read_fixture):
    # Only in-network (Y) rows are used, yet the provider's own network status stays unknown.
    summary = summarize_benefits(parse_271(read_fixture("271_dependent.x12")), ["MH"])

    assert summary.benefit_network == "Y"
    assert summary.benefits.in_network is None


@pytest.mark.parametrize(("asked", "procedure", "copay", "network"), [
    (["MH", "A6"], None, "25.00", "Y"),
    (["A6", "MH"], None, "30.00", "Y"),
    (["A6"], "90834", "15.00", "Y"),
    (["A6"], "90837", "30.00", "Y"),
    (["98"], None, "50.00", "W"),  # no 98 row: the generic (30) row applies
])
def test_copay_comes_from_the_first_asked_service_type_that_has_rows(read_fixture, asked, procedure, copay,
                                                                       network):
    parsed = parse_271(read_fixture("271_multiple_eb_per_service_type.x12"))

    summary = summarize_benefits(parsed, asked, procedure_code=procedure)

    assert asdict(summary.benefits)["copay"] == copay
    assert summary.benefit_network == network


def test_limitations_place_of_service_and_related_entities_stay_on_their_rows(read_fixture):
    parsed = parse_271(read_fixture("271_multiple_eb_per_service_type.x12"))
    by_code = {r.code: r for r in parsed.benefits}

    limit = by_code["F"]
    assert (limit.time_period, limit.quantity_qualifier, limit.quantity) == ("22", "VS", Decimal("20"))
    assert limit.additional_info == (("ZZ", "02"), ("ZZ", "10"))
    assert by_code["L"].entities == (Entity("P3", "1", "SMITH", "JOHN", "XX", "1003000126"),)
    procedure_row = next(r for r in parsed.benefits if r.procedure)
    assert procedure_row.procedure == Procedure("HC", "90834")
    assert procedure_row.messages == ("PSYCHOTHERAPY 45 MIN PREFERRED COPAY",)


def test_plan_name_and_dates_fall_back_to_ref_18_and_dtp_291_range(read_fixture):
    parsed = parse_271(read_fixture("271_multiple_eb_per_service_type.x12"))

    assert parsed.plan_name == "ACME CHOICE PLUS"
    assert (parsed.plan_begin, parsed.plan_end) == (date(2026, 1, 1), date(2026, 12, 31))


def test_a_non_covered_service_is_flagged_while_the_plan_stays_active(read_fixture):
    parsed = parse_271(read_fixture("271_multiple_eb_per_service_type.x12"))

    non_covered = summarize_benefits(parsed, ["BD"])
    covered = summarize_benefits(parsed, ["MH"])

    assert (non_covered.status, non_covered.service_covered) == ("active", False)
    assert (covered.status, covered.service_covered) == ("active", True)


def test_inactive_coverage_reports_no_cost_share(read_fixture):
    parsed = parse_271(read_fixture("271_inactive.x12"))

    summary = summarize_benefits(parsed, ["MH", "A6"])

    assert summary.status == "inactive"
    assert asdict(summary.benefits) == {"copay": None, "coinsurance": None, "deductible_remaining": None,
                                       "out_of_pocket_remaining": None, "in_network": None}
    assert (summary.plan_name, summary.plan_begin, summary.plan_end) == ("DEMO SILVER HMO", date(2024, 1, 1),
                                                                         date(2025, 12, 31))


@pytest.mark.parametrize(("name", "status", "code", "description", "level", "follow_up", "valid", "retryable"), [
    ("271_aaa_72_invalid_member_id.x12", "not_found", "72", "Invalid/Missing Subscriber/Insured ID",
     "subscriber", "C", False, False),
    ("271_aaa_75_not_found.x12", "not_found", "75", "Subscriber/Insured Not Found", "subscriber", "C", True, False),
    ("271_aaa_42_payer_unavailable.x12", "error", "42", "Unable to Respond at Current Time",
     "information_source", "R", True, True),
])
def test_aaa_errors_map_to_status_and_described_codes(read_fixture, name, status, code, description, level,
                                                      follow_up, valid, retryable):
    parsed = parse_271(read_fixture(name))

    summary = summarize_benefits(parsed, ["MH"])

    assert summary.status == status
    assert summary.retryable is retryable
    [error] = summary.aaa_errors
    assert (error.code, error.description, error.level) == (code, description, level)
    assert (error.follow_up_action, error.valid_request) == (follow_up, valid)
    assert [(e.code, e.description, e.level, e.follow_up_action) for e in summary.aaa_errors] == [
        (code, description, level, follow_up)]
    assert asdict(summary.benefits)["copay"] is None
    assert parsed.echoed_trace_numbers == (parsed.reference_id,)


def test_follow_up_action_is_described(read_fixture):
    [error] = parse_271(read_fixture("271_aaa_42_payer_unavailable.x12")).aaa_errors

    assert codes.describe(codes.AAA_FOLLOW_UP_ACTIONS, error.follow_up_action) == "Resubmission Allowed"


def test_dependent_271_answers_for_the_dependent(read_fixture):
    parsed = parse_271(read_fixture("271_dependent.x12"))

    dependent = parsed.dependent
    assert parsed.patient is dependent
    assert (dependent.first_name, dependent.last_name, dependent.birth_date) == ("SAM", "RIVERA", date(2014, 9, 3))
    assert dependent.relationship == "19"
    assert parsed.subscriber.member_id == "HCO1000001"
    assert parsed.subscriber.benefits == ()
    assert parsed.echoed_trace_numbers == ("CHK-DEP-0001",)
    assert (parsed.plan_name, parsed.plan_begin, parsed.plan_end) == ("FAMILY PPO", date(2026, 1, 1), None)
    summary = summarize_benefits(parsed, ["MH", "A6"])
    assert asdict(summary.benefits) == {"copay": "20.00", "coinsurance": "0.1", "deductible_remaining": "800.00",
                                       "out_of_pocket_remaining": "4000.00", "in_network": None}


def test_separators_are_read_from_the_isa_not_assumed(read_fixture):
    parsed = parse_271(read_fixture("271_pipe_separators.x12"))

    assert parsed.envelope.separators == Separators(element="|", repetition="!", component=">", segment="~")
    assert (parsed.envelope.usage_indicator, parsed.envelope.transaction_control_number) == ("P", "0042")
    assert parsed.subscriber.last_name == "O'BRIEN"
    copay = parsed.benefits[1]
    assert copay.service_type_codes == ("MH", "A6", "22")
    assert copay.procedure == Procedure("HC", "90837", ("95",))
    summary = summarize_benefits(parsed, ["MH"], procedure_code="90837")
    assert asdict(summary.benefits) == {"copay": "35.00", "coinsurance": "0.2", "deductible_remaining": "0.00",
                                       "out_of_pocket_remaining": None, "in_network": None}
    assert (parsed.plan_begin, parsed.plan_end) == (date(2026, 1, 1), date(2026, 12, 31))


@pytest.mark.parametrize(("variant", "terminator"), [
    ("one line", "~"), ("CRLF after ~", "~"), ("LF as terminator", "\n"), ("apostrophe terminator", "'"),
])
def test_terminator_and_line_breaks_do_not_change_what_is_read(read_fixture, variant, terminator):
    original = read_fixture("271_active_mh.x12")
    text = {
        "one line": original.replace("~\n", "~"),
        "CRLF after ~": original.replace("~\n", "~\r\n"),
        "LF as terminator": original.replace("~\n", "\n"),
        "apostrophe terminator": original.replace("~\n", "'"),
    }[variant]
    expected = parse_271(original)

    parsed = parse_271(text)

    assert parsed.envelope.separators.segment == terminator
    assert (parsed.subscriber, parsed.payer, parsed.aaa_errors) == (expected.subscriber, expected.payer, ())
    assert summarize_benefits(parsed, ["MH"]) == summarize_benefits(expected, ["MH"])


def test_eb08_sent_as_percentage_points_is_read_as_a_fraction(read_fixture):
    parsed = parse_271(read_fixture("271_pipe_separators.x12"))

    assert parsed.benefits[2].percent == Decimal("0.2")


def test_names_and_ids_are_not_in_the_repr_of_parsed_members(read_fixture):
    parsed = parse_271(read_fixture("271_active_mh.x12"))

    text = repr(parsed.subscriber)

    for phi in ("DOE", "JANE", "W100200300", "1985"):
        assert phi not in text
