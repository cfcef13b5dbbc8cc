"""Names in X12: every letter kept (transliterated or in the extended set), delimiters never written."""

from __future__ import annotations

import pytest

from chalicelib.domain.eligibility import split_person_name
from chalicelib.x12.text import NotRepresentable, transliterate, x12_text

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("name", "basic"), [
    ("María", "MARIA"),  # was "MAR A": the payer could not match the member (AAA 73)
    ("José Núñez-Ødegård", "JOSE NUNEZ-ODEGARD"),
    ("Łukasz Żółć", "LUKASZ ZOLC"),
    ("Straße", "STRASSE"),
    ("Æsa Œuvre", "AESA OEUVRE"),
    ("Zo\u00eb d\u2019Arcy", "ZOE D'ARCY"),
    ("François Ḿ", "FRANCOIS M"),
])
def test_accented_letters_are_transliterated_never_deleted(name, basic):
    assert x12_text(name, 60) == basic
    assert len(x12_text(name, 60).replace(" ", "")) >= len(name.replace(" ", "").replace("\u2019", "")) - 1


def test_the_extended_character_set_keeps_the_accents():
    assert x12_text("María José de la Cruz", 60, "extended") == "MARÍA JOSÉ DE LA CRUZ"


@pytest.mark.parametrize("charset", ["basic", "extended"])
def test_delimiters_in_a_name_are_never_written(charset):
    text = x12_text("O'Brien*~^:Jr|", 60, charset, forbidden=frozenset("*~^:|"))

    assert text == "O'BRIEN JR"


def test_a_script_the_basic_set_cannot_spell_is_refused_not_emptied():
    with pytest.raises(NotRepresentable) as caught:
        x12_text("Иван", 35)
    assert "Иван" not in str(caught.value)
    assert x12_text("Иван", 35, "extended") == "ИВАН"


def test_long_names_are_cut_to_the_element_length():
    assert x12_text("Wolfeschlegelsteinhausenbergerdorff", 10) == "WOLFESCHLE"
    assert x12_text("***", 10) == "UNKNOWN"


def test_transliterate_keeps_what_is_already_basic():
    assert transliterate("Rivera-Smith, Jr.") == "RIVERA-SMITH, JR."


def test_a_single_name_field_is_split_only_as_a_fallback():
    assert split_person_name("Maria de la Cruz") == ("Maria de la", "Cruz")  # why given/family exist
    assert split_person_name("Cher") == ("Cher", "Cher")
