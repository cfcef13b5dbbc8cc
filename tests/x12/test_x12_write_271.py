"""271 writer (used by the local payer and POST /v1/eligibility/x12): echo, merge, number format."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import date, datetime
from decimal import Decimal

import pytest

from chalicelib.x12.benefits import format_fraction, format_money, summarize_benefits
from chalicelib.x12.inquiry import Dependent
from chalicelib.x12.read_270 import parse_270
from chalicelib.x12.read_271 import parse_271
from chalicelib.x12.response import (
    BenefitRow,
    DateInfo,
    EligibilityResponse,
    Procedure,
    Reference,
    TraceNumber,
    aaa,
)
from chalicelib.x12.write_271 import merge_service_types, write_271
from local.payer_sim import PayerSimulator

pytestmark = pytest.mark.unit

ANSWERED_AT = datetime(2026, 3, 2, 9, 16)


def _reply_envelope(read_fixture, name="270_90834_video_mh_a6.x12", control=900):
    request = parse_270(read_fixture(name))
    return request, request.envelope.reply(interchange_control_number=control, group_control_number=control,
                                           created_at=ANSWERED_AT)


def test_the_payer_simulator_answer_is_pinned_byte_for_byte(read_fixture, roster):
    simulator = PayerSimulator(roster, clock=lambda: ANSWERED_AT)

    answer = simulator.answer(read_fixture("270_90834_video_mh_a6.x12"))

    assert answer == read_fixture("271_written_by_payer_sim.x12")


def test_a_written_271_echoes_the_inquiry_and_reads_back(read_fixture):
    request, envelope = _reply_envelope(read_fixture)
    response = EligibilityResponse(
        request.inquiry,
        dates=(DateInfo("291", date(2026, 1, 1), date(2026, 12, 31)),),
        references=(Reference("18", "PLN-77", "ACME CHOICE PLUS"),),
        source_trace=TraceNumber("1", "PAYER-1", "9PAYERSIM0"),
        benefits=(
            BenefitRow("1", "IND", ("30", "MH", "A6"), "PR", "GOLD PPO 500"),
            BenefitRow("B", "IND", ("MH",), time_period="27", amount=Decimal("25.00"), in_plan_network="Y",
                       messages=("TELEHEALTH INCLUDED",), dates=(DateInfo("292", date(2026, 1, 1)),)),
            BenefitRow("B", "IND", ("A6",), time_period="27", amount=Decimal("15"), in_plan_network="Y",
                       procedure=Procedure("HC", "90834", ("95",)), additional_info=(("ZZ", "02"),)),
        ),
    )

    text = write_271(response, envelope)
    parsed = parse_271(text)

    assert text.startswith("ISA*00*          *00*          *ZZ*PAYERSIM       *ZZ*HCORCH         *260302*0916*^*")
    assert "~BHT*0022*11*CHK-90834-0001*20260302*0916~" in text
    assert "~TRN*2*CHK-90834-0001*9HCORCH000~TRN*1*PAYER-1*9PAYERSIM0~" in text
    assert "~EB*B*IND*A6***27*15*****Y*HC:90834:95~" in text
    assert parsed.echoed_trace_numbers == ("CHK-90834-0001",)
    assert (parsed.subscriber.member_id, parsed.subscriber.last_name) == ("W100200300", "DOE")
    assert parsed.benefits[1].messages == ("TELEHEALTH INCLUDED",)
    assert parsed.benefits[1].dates == (DateInfo("292", date(2026, 1, 1)),)
    assert parsed.benefits[2].procedure == Procedure("HC", "90834", ("95",))
    assert parsed.benefits[2].additional_info == (("ZZ", "02"),)
    assert (parsed.plan_name, parsed.plan_end) == ("GOLD PPO 500", date(2026, 12, 31))
    assert asdict(summarize_benefits(parsed, ["A6"], procedure_code="90834").benefits)["copay"] == "15.00"
    assert (parsed.envelope.sender_id, parsed.envelope.receiver_id) == ("PAYERSIM", "HCORCH")


def test_rows_that_differ_only_in_eb03_are_written_as_one_row(read_fixture):
    request, envelope = _reply_envelope(read_fixture)
    mh = BenefitRow("A", "IND", ("MH",), time_period="27", percent=Decimal("0.20"), in_plan_network="Y")
    rows = (BenefitRow("1", "IND", ("30",)), mh, replace(mh, service_type_codes=("A6",)),
            replace(mh, service_type_codes=("CF",), in_plan_network="N"))

    text = write_271(EligibilityResponse(request.inquiry, benefits=rows), envelope)

    assert "~EB*A*IND*MH^A6***27**.2****Y~EB*A*IND*CF***27**.2****N~" in text
    assert [r.service_type_codes for r in parse_271(text).benefits] == [("30",), ("MH", "A6"), ("CF",)]


def test_merge_keeps_generic_rows_apart_from_service_specific_rows():
    generic = BenefitRow("B", "IND", (), amount=Decimal("50"))
    specific = BenefitRow("B", "IND", ("MH",), amount=Decimal("50"))

    assert merge_service_types([generic, specific, replace(specific, service_type_codes=("A6",))]) == (
        generic, replace(specific, service_type_codes=("MH", "A6")))


def test_aaa_errors_are_written_at_their_loop(read_fixture):
    request, envelope = _reply_envelope(read_fixture)
    response = EligibilityResponse(request.inquiry,
                                   information_source_errors=(aaa("42", "R", level="information_source"),),
                                   subscriber_errors=(aaa("75", "C"),))

    text = write_271(response, envelope)
    parsed = parse_271(text)

    assert "~NM1*PR*2*ACME HEALTH PLAN*****PI*99HCO~AAA*Y**42*R~HL*2*1*21*1~" in text
    assert "~NM1*IL*1*DOE*JANE****MI*W100200300~AAA*Y**75*C~DMG*D8*19850412~" in text
    assert [(e.code, e.level) for e in parsed.aaa_errors] == [("42", "information_source"),
                                                                     ("75", "subscriber")]


def test_a_dependent_271_puts_trace_ins_and_benefits_in_the_dependent_loop(read_fixture):
    request, envelope = _reply_envelope(read_fixture, "270_90832_dependent_child.x12")
    inquiry = replace(request.inquiry, dependent=replace(request.inquiry.dependent, relationship="19"))
    rows = (BenefitRow("1", "CHD", ("30",)),)

    text = write_271(EligibilityResponse(inquiry, benefits=rows), envelope)
    parsed = parse_271(text)

    assert "~HL*3*2*22*1~NM1*IL*1*RIVERA*ALEX****MI*HCO1000001~HL*4*3*23*0~TRN*2*CHK-DEP-0001*9HCORCH000~" in text
    assert "~NM1*03*1*RIVERA*SAM~DMG*D8*20140903~INS*N*19~EB*1*CHD*30~" in text
    assert parsed.dependent.relationship == "19"
    assert parsed.dependent.benefits == rows
    assert parsed.subscriber.benefits == ()
    assert summarize_benefits(parsed, ["MH"]).status == "active"
    assert isinstance(inquiry.dependent, Dependent)


@pytest.mark.parametrize(("amount", "x12"), [
    (Decimal("25.00"), "25"), (Decimal("0.20"), ".2"), (Decimal("1500.50"), "1500.5"), (Decimal("100"), "100"),
    (Decimal("0"), "0"), (Decimal("1E+3"), "1000"),
])
def test_amounts_are_written_in_the_x12_decimal_form(read_fixture, amount, x12):
    request, envelope = _reply_envelope(read_fixture)
    row = BenefitRow("C", "IND", ("MH",), time_period="29", amount=amount)

    text = write_271(EligibilityResponse(request.inquiry, benefits=(row,)), envelope)

    assert f"~EB*C*IND*MH***29*{x12}~" in text
    assert parse_271(text).benefits[0].amount == amount


@pytest.mark.parametrize(("value", "money", "fraction"), [
    (Decimal("25"), "25.00", "25"), (Decimal(".2"), "0.20", "0.2"), (Decimal("0.40"), "0.40", "0.4"),
    (Decimal("350.5"), "350.50", "350.5"), (Decimal("0"), "0.00", "0"), (Decimal("2.005"), "2.01", "2.005"),
])
def test_api_strings_for_money_and_fractions(value, money, fraction):
    assert format_money(value) == money
    assert format_fraction(value) == fraction
    assert format_money(None) is None and format_fraction(None) is None
