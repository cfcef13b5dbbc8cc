"""270 writer: golden files byte for byte, the envelope rules, and refusals that never echo PHI."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from chalicelib.x12.envelope import Envelope
from chalicelib.x12.hierarchy import default_originator_id
from chalicelib.x12.inquiry import Dependent
from chalicelib.x12.read_270 import parse_270
from chalicelib.x12.syntax import Separators, X12Error
from chalicelib.x12.write_270 import write_270

pytestmark = pytest.mark.unit

GOLDEN = ["270_90834_video_mh_a6.x12", "270_90834_eq_segments.x12", "270_90792_psychiatrist_mh_a8.x12",
          "270_90832_dependent_child.x12", "270_90837_pipe_separators.x12"]

ENVELOPE = Envelope(sender_id="HCORCH", receiver_id="PAYERSIM", interchange_control_number=101,
                    group_control_number=101, created_at=datetime(2026, 3, 2, 9, 15))


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_270_is_written_byte_for_byte(name, golden_270, read_fixture):
    case = golden_270[name]

    written = write_270(case.inquiry, case.envelope, eq_style=case.eq_style)

    assert written == read_fixture(name)


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_270_reads_back_to_the_inquiry_that_wrote_it(name, golden_270, read_fixture):
    case = golden_270[name]
    expected = replace(case.inquiry,
                       trace_originator_id=case.inquiry.trace_originator_id or default_originator_id("HCORCH"))

    parsed = parse_270(read_fixture(name))

    assert parsed.inquiry == expected
    assert parsed.envelope.interchange_control_number == case.envelope.interchange_control_number
    assert parsed.envelope.group_control_number == case.envelope.group_control_number
    assert parsed.envelope.separators == case.envelope.separators
    assert parsed.envelope.usage_indicator == case.envelope.usage_indicator
    assert (parsed.envelope.sender_id, parsed.envelope.receiver_id) == ("HCORCH", "PAYERSIM")
    assert parsed.envelope.created_at == case.envelope.created_at


def test_isa_has_fixed_width_fields_and_is_106_characters(golden_270):
    case = golden_270["270_90792_psychiatrist_mh_a8.x12"]

    isa = write_270(case.inquiry, case.envelope).split("~")[0] + "~"

    assert len(isa) == 106
    fields = isa[:-1].split("*")
    assert [len(f) for f in fields[1:]] == [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1]
    assert fields[6] == "HCORCH         "
    assert fields[9:17] == ["260302", "1030", "^", "00501", "987654321", "0", "T", ":"]


def test_se_counts_st_through_se_and_trailer_control_numbers_match(golden_270):
    case = golden_270["270_90792_psychiatrist_mh_a8.x12"]

    segments = write_270(case.inquiry, case.envelope).split("~")[:-1]

    st, se = segments.index("ST*270*0001*005010X279A1"), segments.index("SE*13*0001")
    assert se - st + 1 == 13
    assert segments[-2:] == ["GE*1*42", "IEA*1*987654321"]
    assert segments[1].split("*")[6] == "42"


def test_one_eq_repeats_the_service_types_once_each_in_the_order_asked(jane_inquiry):
    inquiry = replace(jane_inquiry, service_type_codes=["A6", "MH", "A6", "CF"])

    written = write_270(inquiry, ENVELOPE)

    assert "~EQ*A6^MH^CF~" in written
    assert written.count("EQ*") == 1


def test_a_dependent_is_sent_without_ins_or_subscriber_demographics(jane_inquiry):
    # X12 RFI 922: with the primary search option (name + birth date) the 2100D INS is prohibited.
    inquiry = replace(jane_inquiry, birth_date=date(1985, 4, 12),
                      dependent=Dependent("MIA", "DOE", date(2015, 2, 1), relationship="19"))

    written = write_270(inquiry, ENVELOPE)

    segments = written.split("~")
    assert "INS" not in [s.split("*")[0] for s in segments]
    assert [s for s in segments if s.startswith("DMG")] == ["DMG*D8*20150201"]
    assert segments[segments.index("HL*4*3*23*0") + 1] == "TRN*1*CHK-90834-0001*9HCORCH000"
    assert parse_270(written).inquiry.dependent == Dependent("MIA", "DOE", date(2015, 2, 1))


def test_trailing_empty_elements_are_omitted(golden_270):
    case = golden_270["270_90832_dependent_child.x12"]

    written = write_270(case.inquiry, case.envelope)

    assert "NM1*03*1*RIVERA*SAM~\n" in written
    assert "HL*1**20*1~\n" in written


def test_a_value_containing_a_separator_is_refused_without_echoing_the_value(jane_inquiry):
    inquiry = replace(jane_inquiry, last_name="DOE~SMITH")

    with pytest.raises(X12Error) as caught:
        write_270(inquiry, ENVELOPE)

    assert caught.value.code == "DATA_CONTAINS_SEPARATOR"
    assert caught.value.element == "NM103"
    assert "DOE" not in str(caught.value)
    assert "SMITH" not in str(caught.value)


def test_an_apostrophe_is_data_when_it_is_not_a_separator_but_refused_when_it_is(jane_inquiry):
    apostrophe_terminator = replace(ENVELOPE, separators=Separators(segment="'"))
    inquiry = replace(jane_inquiry, last_name="O'BRIEN")

    assert "NM1*IL*1*O'BRIEN*JANE****MI*W100200300~" in write_270(inquiry, ENVELOPE)
    with pytest.raises(X12Error, match="DATA_CONTAINS_SEPARATOR"):
        write_270(inquiry, apostrophe_terminator)


@pytest.mark.parametrize(("change", "code", "element"), [
    ({"provider_npi": "1234567890"}, "NPI_INVALID", "NM109"),
    ({"birth_date": None}, "ELEMENT_INVALID", "DMG02"),
    ({"service_type_codes": []}, "ELEMENT_INVALID", "EQ01"),
    ({"service_type_codes": ["mh"]}, "ELEMENT_INVALID", "EQ01"),
    ({"member_id": "W"}, "ELEMENT_INVALID", "NM109"),
    ({"trace_originator_id": "8123456789"}, "ELEMENT_INVALID", "TRN03"),
    ({"first_name": "J" * 36}, "ELEMENT_INVALID", "NM104"),
])
def test_an_inquiry_that_cannot_be_written_is_refused_naming_the_element(jane_inquiry, change, code, element):
    with pytest.raises(X12Error) as caught:
        write_270(replace(jane_inquiry, **change), ENVELOPE)

    assert (caught.value.code, caught.value.element) == (code, element)
    for phi in ("JANE", "DOE", "W100200300", "19850412", "1234567890"):
        assert phi not in str(caught.value)


@pytest.mark.parametrize(("change", "element"), [
    ({"sender_id": "S" * 16}, "ISA06"),
    ({"interchange_control_number": 0}, "ISA13"),
    ({"interchange_control_number": 1_000_000_000}, "ISA13"),
    ({"group_control_number": 0}, "GS06"),
    ({"usage_indicator": "X"}, "ISA15"),
    ({"transaction_control_number": "01"}, "ST02"),
])
def test_an_envelope_out_of_range_is_refused(jane_inquiry, change, element):
    with pytest.raises(X12Error) as caught:
        write_270(jane_inquiry, replace(ENVELOPE, **change))

    assert caught.value.element == element


@pytest.mark.parametrize("separators", [
    {"element": "*", "repetition": "*"},
    {"component": "A"},
    {"segment": "~~"},
    {"element": "\n", "segment": "~"},
])
def test_separators_must_be_four_distinct_single_delimiters(separators):
    with pytest.raises(ValueError, match=r"separator|terminator"):
        Separators(**separators)


def test_default_trace_originator_is_user_assigned_from_the_interchange_id():
    assert default_originator_id("HCORCH") == "9HCORCH000"
    assert default_originator_id("hco-orchestrator-1") == "9HCOORCHES"
