"""Fail closed: rules that lack a table the licensure decision needs refuse to load at all."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain.licensure import REQUIRED_TABLES
from chalicelib.domain.model import Modality
from chalicelib.rules.bundle import RulesError, build_rulebook, validate_document
from tests.rules._support import PSYCHOLOGIST_AZ, copy_sources, decide, lic, rulebook_from, source_rulebook

pytestmark = pytest.mark.unit

KIND_FILES = {"jurisdictions": "jurisdictions.yaml", "license_types": "license_types.yaml",
              "compacts": "compacts.yaml", "prescribing": "prescribing.yaml", "service_catalog": "services.yaml"}


@pytest.mark.parametrize("kind", sorted(KIND_FILES))
def test_the_rule_book_refuses_to_load_without_each_table(kind, tmp_path):
    source = copy_sources(tmp_path)
    (source / KIND_FILES[kind]).unlink()

    with pytest.raises(RulesError, match=kind):
        rulebook_from(source)


def test_every_table_the_decision_reads_is_listed_as_required():
    assert set(REQUIRED_TABLES) | {"service_catalog"} == set(KIND_FILES)


@pytest.mark.parametrize("kind", sorted(REQUIRED_TABLES))
def test_a_decision_on_a_book_missing_a_table_is_a_refusal_not_a_baseline_allowance(kind):
    book = source_rulebook()
    partial = replace(book, tables={k: v for k, v in book.tables.items() if k != kind})
    ny = replace(PSYCHOLOGIST_AZ, licenses=(lic("US-NY", "psychologist"),))

    assert decide(ny, "US-NY", Modality.VIDEO, rules=book).allowed
    refused = decide(ny, "US-NY", Modality.VIDEO, rules=partial)
    assert not refused.allowed and refused.codes == ("RULES_INCOMPLETE",)


def test_building_from_documents_without_jurisdictions_fails(tmp_path):
    from chalicelib.rules.bundle import read_source, source_files

    source = copy_sources(tmp_path)
    files = [validate_document(p.name, read_source(p)) for p in source_files(source) if p.name != "jurisdictions.yaml"]
    with pytest.raises(RulesError, match="jurisdictions"):
        build_rulebook(files)
