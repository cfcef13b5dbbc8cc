"""The rules files themselves: valid, cited, dated, complete, and in sync with their schemas."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from chalicelib.domain.compacts import CompactTable
from chalicelib.domain.jurisdiction_codes import JURISDICTION_CODES
from chalicelib.domain.jurisdictions import JurisdictionTable
from chalicelib.domain.license_types import LicenseTypeTable
from chalicelib.domain.prescribing import PrescribingTable
from chalicelib.rules.__main__ import schema_documents
from chalicelib.rules.bundle import (
    PACKAGE_DIR,
    SOURCE_DIR,
    RulesError,
    load_bundle,
    rulebook,
    source_files,
    validate_sources,
    write_bundle,
)
from tests.rules._support import copy_sources, rulebook_from, source_rulebook

pytestmark = pytest.mark.unit

LICENSURE_KINDS = {"jurisdictions", "license_types", "compacts", "prescribing"}
US_STATES = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY",
    "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND",
    "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
]
US_OTHER = ["DC", "PR", "GU", "VI", "AS", "MP"]
CA_PROVINCES = ["AB", "BC", "MB", "NB", "NL", "NS", "ON", "PE", "QC", "SK", "NT", "NU", "YT"]


def raw_documents() -> dict[str, dict[str, Any]]:
    return {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in source_files()}


def test_every_rules_file_is_valid_and_every_kind_is_present() -> None:
    files = validate_sources()

    assert LICENSURE_KINDS | {"service_catalog"} <= {f.model.kind for f in files}


@pytest.mark.parametrize("name", sorted(raw_documents()))
def test_every_rule_has_id_source_and_effective_from_as_written(name: str) -> None:
    # Checked on the raw YAML, so no model default can hide a missing field.
    document = raw_documents()[name]
    assert {"kind", "version", "checked_on", "review_by"} <= set(document)
    assert document["checked_on"] <= document["review_by"]
    rules = list(document["rules"]) + ([document["baseline"]] if "baseline" in document else [])
    for rule in rules:
        assert isinstance(rule.get("id"), str) and rule["id"], rule
        assert isinstance(rule.get("source"), str) and len(rule["source"]) > 5, rule["id"]
        assert isinstance(rule.get("effective_from"), date), rule["id"]
        if rule.get("uncertain"):
            assert rule.get("note"), f"{rule['id']} is uncertain but does not say why"


def test_jurisdictions_cover_us_states_dc_territories_and_canada() -> None:
    table = source_rulebook().tables["jurisdictions"]
    expected = {f"US-{s}" for s in US_STATES + US_OTHER} | {f"CA-{p}" for p in CA_PROVINCES}

    assert len(US_STATES) == 50
    assert set(table.by_code) == expected
    # What a request may name is what the rules cover: neither "US-ZZ" stored nor a code the rules lack.
    assert expected == JURISDICTION_CODES
    assert table.default_zone("US-NY") == "America/New_York"
    assert table.default_zone("US-AZ") == "America/Phoenix"  # no DST
    assert table.default_zone("CA-ON") == "America/Toronto"
    assert table.by_code["CA-ON"].country == "CA"


def test_compiled_tables_have_the_domain_types() -> None:
    tables = source_rulebook().tables

    assert isinstance(tables["jurisdictions"], JurisdictionTable)
    assert isinstance(tables["license_types"], LicenseTypeTable)
    assert isinstance(tables["compacts"], CompactTable)
    assert isinstance(tables["prescribing"], PrescribingTable)


def test_compact_facts_as_the_facts_file_states_them() -> None:
    compacts: CompactTable = source_rulebook().tables["compacts"]
    on = date(2026, 11, 30)
    psypact, imlc = compacts.get("PSYPACT", on), compacts.get("IMLC", on)
    counseling, social, nlc, aprn = (compacts.get(c, on) for c in ("COUNSELING", "SOCIAL_WORK", "NLC", "APRN"))
    assert psypact and imlc and counseling and social and nlc and aprn

    assert len(psypact.operational_members(on)) == 42 and "US-MP" in psypact.operational_members(on)
    assert psypact.privilege_kinds["TAP"].max_days_per_calendar_year == 30
    assert psypact.privilege_kinds["APIT"].modalities == {"video", "phone"}
    assert imlc.model == "expedited_licensure" and not imlc.privilege_kinds
    assert counseling.operational_members(on) == {"US-AZ", "US-MN", "US-OH", "US-LA", "US-GA", "US-IN"}
    assert counseling.privilege_scope == "listed_states"
    assert not social.issuing(on) and not aprn.issuing(on)
    assert len(nlc.operational_members(on)) == 40 and not nlc.disciplines


def test_uncertain_facts_are_marked_in_the_data() -> None:
    # facts [?]: PSYPACT list, counseling operational dates, social work issuing, bupe date, no 5th extension
    compacts: CompactTable = source_rulebook().tables["compacts"]
    on = date(2026, 11, 30)
    assert compacts.get("PSYPACT", on).membership_uncertain  # type: ignore[union-attr]
    assert compacts.get("COUNSELING", on).membership("US-OH", on).period.uncertain  # type: ignore[union-attr]
    assert compacts.get("SOCIAL_WORK", on).rule.uncertain  # type: ignore[union-attr]
    prescribing: PrescribingTable = source_rulebook().tables["prescribing"]
    uncertain = {r.rule.rule_id for r in prescribing.rules if r.rule.uncertain}
    assert {"dea-buprenorphine-telemedicine", "dea-ryan-haight-after-flexibilities",
            "dea-special-registration-nprm", "dea-registration-telemedicine"} <= uncertain


def test_json_schemas_are_in_sync_with_the_models() -> None:
    generated = schema_documents()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in (SOURCE_DIR / "schema").glob("*.schema.json")}

    assert set(on_disk) == set(generated), "run: python -m chalicelib.rules schema"
    for name, text in generated.items():
        assert on_disk[name] == text, f"{name} is stale: run python -m chalicelib.rules schema"


@pytest.mark.parametrize("name", sorted(raw_documents()))
def test_each_file_validates_against_its_published_json_schema(name: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    document = json.loads(json.dumps(raw_documents()[name], default=str))  # YAML dates -> ISO strings
    schema = json.loads((SOURCE_DIR / "schema" / f"{document['kind']}.schema.json").read_text(encoding="utf-8"))

    jsonschema.validate(document, schema, format_checker=jsonschema.FormatChecker())


def _replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_compact_naming_an_unknown_jurisdiction_fails_the_build(tmp_path: Path) -> None:
    source = copy_sources(tmp_path)
    _replace_in(source / "compacts.yaml", "US-TX, US-UT, US-VT", "US-TX, US-UX, US-VT")

    with pytest.raises(RulesError, match=r"compact-psypact.*US-UX"):
        validate_sources(source)


def test_a_compact_naming_an_unknown_licence_type_fails_the_build(tmp_path: Path) -> None:
    source = copy_sources(tmp_path)
    _replace_in(source / "compacts.yaml", "home_license_types: [LPC, LPCC, LMHC]", "home_license_types: [LPC, XYZ]")

    with pytest.raises(RulesError, match="XYZ"):
        validate_sources(source)


def test_duplicate_licence_alias_across_types_is_rejected(tmp_path: Path) -> None:
    source = copy_sources(tmp_path)
    _replace_in(source / "license_types.yaml", "aliases: [MFT]", "aliases: [MFT, L.P.C.]")

    with pytest.raises(RulesError, match=r"license_types.yaml.*LPC"):
        validate_sources(source)


def test_an_uncertain_rule_without_a_note_is_rejected(tmp_path: Path) -> None:
    source = copy_sources(tmp_path)
    _replace_in(source / "prescribing.yaml",
                '    note: "[?] Confirm the rule took effect on 2025-12-31 after the delays."\n', "")

    with pytest.raises(RulesError, match=r"prescribing.yaml.*uncertain rule needs a note"):
        validate_sources(source)


def test_bundle_round_trip_and_process_cache(tmp_path: Path) -> None:
    bundle = write_bundle(copy_sources(tmp_path), tmp_path / "rules.json")
    loaded = load_bundle(bundle)

    assert loaded.version == json.loads(bundle.read_text(encoding="utf-8"))["version"]
    assert loaded.tables["compacts"] == rulebook_from(tmp_path / "scheduling_rules").tables["compacts"]
    assert rulebook() is rulebook()  # read once per process


def test_the_runtime_reads_json_without_importing_yaml(tmp_path: Path) -> None:
    bundle = write_bundle(copy_sources(tmp_path), tmp_path / "rules.json")
    probe = ("import sys; from pathlib import Path; from chalicelib.rules.bundle import load_bundle; "
             f"book = load_bundle(Path({str(bundle)!r})); "
             "print(sorted(book.tables), 'yaml' in sys.modules)")

    out = subprocess.run([sys.executable, "-c", probe], cwd=PACKAGE_DIR.parent, capture_output=True, text=True,
                         check=True, timeout=60).stdout

    kinds = ['compacts', 'jurisdictions', 'license_types', 'payer_policy', 'prescribing', 'routing_policy']
    assert out.strip() == f"{kinds} False"


DOMAIN_MODULES = ["ruleref", "jurisdictions", "license_types", "compacts", "prescribing", "licensure"]


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_domain_modules_stay_pure(module: str) -> None:
    # ARCHITECTURE.md: domain is stdlib only (no boto3, no pydantic, no rules/adapters imports).
    tree = ast.parse((PACKAGE_DIR / "domain" / f"{module}.py").read_text(encoding="utf-8"))
    allowed_stdlib = {"__future__", "collections", "dataclasses", "datetime", "enum", "re", "typing"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 1 or (node.module or "").split(".")[0] in allowed_stdlib, node.module
        elif isinstance(node, ast.Import):
            assert all(a.name.split(".")[0] in allowed_stdlib for a in node.names)
