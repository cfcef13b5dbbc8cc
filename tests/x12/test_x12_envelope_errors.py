"""A broken 271 or 270 raises X12Error with a code, the segment position and the element; no PHI."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.x12.read_270 import parse_270
from chalicelib.x12.read_271 import parse_271
from chalicelib.x12.syntax import X12Error

pytestmark = pytest.mark.unit

PHI = ("DOE", "JANE", "W100200399", "19850412")
NAME = "271_aaa_75_not_found.x12"  # 16 segments: ISA GS ST BHT HL NM1 HL NM1 HL TRN NM1 AAA DMG SE GE IEA


def _broken(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(("old", "new", "code", "position", "element"), [
    ("SE*12*0001", "SE*13*0001", "SEGMENT_COUNT_MISMATCH", 14, "SE01"),
    ("SE*12*0001", "SE*12*0002", "CONTROL_NUMBER_MISMATCH", 14, "SE02"),
    ("GE*1*781", "GE*1*782", "CONTROL_NUMBER_MISMATCH", 15, "GE02"),
    ("GE*1*781", "GE*2*781", "TRANSACTION_COUNT_MISMATCH", 15, "GE01"),
    ("IEA*1*000000781", "IEA*1*000000782", "CONTROL_NUMBER_MISMATCH", 16, "IEA02"),
    ("IEA*1*000000781", "IEA*2*000000781", "GROUP_COUNT_MISMATCH", 16, "IEA01"),
    ("SE*12*0001", "SE*X*0001", "ELEMENT_INVALID", 14, "SE01"),
    ("*00501*", "*00401*", "UNSUPPORTED_VERSION", 1, "ISA12"),
    ("*000000781*0*T*", "*00000781*0*T*", "ISA_INVALID", 1, "ISA13"),
    ("HL*3*2*22*0", "HL*3*1*22*0", "HL_INVALID", 9, "HL02"),
    ("HL*3*2*22*0", "HL*4*2*22*0", "HL_INVALID", 9, "HL01"),
    ("HL*3*2*22*0", "HL*3*2*24*0", "HL_INVALID", 9, "HL03"),
    ("DMG*D8*19850412", "DMG*D8*19851332", "ELEMENT_INVALID", 13, "DMG02"),
    ("GS*HB*", "GS*HS*", "WRONG_TRANSACTION", 2, "GS01"),
    ("ST*271*", "ST*270*", "WRONG_TRANSACTION", 3, "ST01"),
])
def test_a_broken_envelope_or_level_is_refused_with_code_and_position(read_fixture, old, new, code, position,
                                                                       element):
    text = _broken(read_fixture(NAME), old, new)

    with pytest.raises(X12Error) as caught:
        parse_271(text)

    error = caught.value
    assert (error.code, error.position, error.element) == (code, position, element)
    assert str(error).startswith(f"{code} at segment {position} ({element}): ")
    for phi in PHI:
        assert phi not in str(error)


@pytest.mark.parametrize(("mutate", "code"), [
    (lambda t: t.replace("SE*12*0001~", ""), "ENVELOPE_INVALID"),
    (lambda t: t.replace("IEA*1*000000781~", ""), "ENVELOPE_INVALID"),
    (lambda t: t + "BHT*0022*11~", "ENVELOPE_INVALID"),
    (lambda t: t[:50], "ISA_INVALID"),
    (lambda t: "GS*HB*PAYERSIM~" + t, "ISA_MISSING"),
    (lambda t: "", "ISA_MISSING"),
    (lambda t: t.replace("*^*00501*", "*:*00501*"), "ISA_INVALID"),  # ISA11 equal to ISA16
    (lambda t: t.replace("AAA*Y**75*C~", "aaa*Y**75*C~"), "SEGMENT_INVALID"),
    (lambda t: t.replace("BHT*0022*11*CHK-AAA75-0005*20260302*0916~", "").replace("SE*12*", "SE*11*"),
     "MISSING_SEGMENT"),
])
def test_structural_damage_is_refused(read_fixture, mutate, code):
    with pytest.raises(X12Error) as caught:
        parse_271(mutate(read_fixture(NAME)))

    assert caught.value.code == code
    for phi in PHI:
        assert phi not in str(caught.value)


def test_a_second_subscriber_in_one_271_is_refused_as_a_batch(read_fixture):
    text = read_fixture(NAME).replace(
        "DMG*D8*19850412~SE*12*0001~",
        "DMG*D8*19850412~HL*4*2*22*0~NM1*IL*1*ROE*RICHARD****MI*X1~SE*14*0001~")

    with pytest.raises(X12Error) as caught:
        parse_271(text)

    assert caught.value.code == "UNSUPPORTED_BATCH"
    assert "ROE" not in str(caught.value)


def test_a_bad_amount_names_eb07_and_not_the_amount(read_fixture):
    text = _broken(read_fixture("271_active_mh.x12"), "EB*B*IND*MH^A6*PR**27*25*****Y",
                   "EB*B*IND*MH^A6*PR**27*25,00*****Y")

    with pytest.raises(X12Error) as caught:
        parse_271(text)

    assert (caught.value.code, caught.value.element, caught.value.position) == ("ELEMENT_INVALID", "EB07", 20)
    assert "25,00" not in str(caught.value)


def test_a_270_without_date_of_service_needs_the_callers_date(read_fixture):
    text = read_fixture("270_90834_video_mh_a6.x12").replace("DTP*291*D8*20260309~", "").replace(
        "SE*13*", "SE*12*")

    with pytest.raises(X12Error) as caught:
        parse_270(text)

    assert (caught.value.code, caught.value.segment_id) == ("MISSING_SEGMENT", "DTP")
    assert parse_270(text, default_date_of_service=date(2026, 3, 2)).inquiry.date_of_service == date(2026, 3, 2)


def test_a_271_is_not_read_as_a_270(read_fixture):
    with pytest.raises(X12Error) as caught:
        parse_270(read_fixture(NAME))

    assert (caught.value.code, caught.value.element) == ("WRONG_TRANSACTION", "GS01")
