"""The reader and the writer against the corpus of real-world-shaped 270s and 271s (tests/x12/corpus)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from chalicelib.x12.benefits import summarize_benefits
from chalicelib.x12.envelope import Envelope
from chalicelib.x12.read_270 import parse_270
from chalicelib.x12.read_271 import parse_271
from chalicelib.x12.write_270 import write_270

pytestmark = pytest.mark.unit

CORPUS = Path(__file__).parent / "corpus"
FILES_271 = sorted(CORPUS.glob("271_*.x12"))
FILES_270 = sorted(CORPUS.glob("270_*.x12"))


def _meta(path: Path) -> dict:
    return json.loads(path.with_suffix(".json").read_text())


def test_every_corpus_file_names_its_source_and_licence():
    files = sorted(CORPUS.glob("*.x12"))
    assert len(files) >= 5
    for path in files:
        meta = _meta(path)
        assert meta["source"] and meta["licence"] and meta["expect"], path.name


@pytest.mark.parametrize("path", FILES_271, ids=lambda p: p.name)
def test_each_corpus_271_reads_to_its_expected_answer(path):
    expect = _meta(path)["expect"]
    parsed = parse_271(path.read_text())

    summary = summarize_benefits(parsed, expect["asked"], places_of_service=("10", "02"))

    assert summary.status == expect["status"]
    if "copay" in expect:
        assert summary.benefits.copay == expect["copay"]
    if "plan" in expect:
        assert summary.plan_name == expect["plan"]
    if "service_covered" in expect:
        assert summary.service_covered is expect["service_covered"]
    if "aaa" in expect:
        assert [e.code for e in summary.aaa_errors] == expect["aaa"]
        assert summary.retryable is expect["retryable"]
    assert (parsed.dependent is not None) is expect.get("dependent", False)


@pytest.mark.parametrize("path", FILES_270, ids=lambda p: p.name)
def test_each_corpus_270_reads_and_our_writer_says_the_same_again(path):
    expect = _meta(path)["expect"]
    inquiry = parse_270(path.read_text()).inquiry
    assert (inquiry.payer_id, inquiry.member_id) == (expect["payer_id"], expect["member_id"])
    assert list(inquiry.service_type_codes) == expect["service_type_codes"]
    assert inquiry.patient_is_dependent is expect["dependent"]

    written = write_270(inquiry, Envelope(sender_id="HCORCH", receiver_id="CLEARHOUSE", interchange_control_number=9,
                                          group_control_number=9, created_at=datetime(2026, 11, 2, 12, 0),
                                          usage_indicator="P"))

    assert parse_270(written).inquiry == inquiry
