"""The local payer simulator over HTTP on 127.0.0.1: round trips, roster outcomes and test knobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, replace
from datetime import date, datetime
from pathlib import Path

import pytest
import requests

from chalicelib.x12.benefits import summarize_benefits
from chalicelib.x12.envelope import Envelope
from chalicelib.x12.read_271 import parse_271
from chalicelib.x12.write_270 import write_270
from local.payer_sim import EDI_CONTENT_TYPE, start_payer_sim

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ENVELOPE = Envelope(sender_id="HCORCH", receiver_id="PAYERSIM", interchange_control_number=7,
                    group_control_number=7, created_at=datetime(2026, 3, 2, 9, 15))


@pytest.fixture
def http():
    session = requests.Session()
    session.trust_env = False  # never route loopback through a proxy from the environment
    with session:
        yield session


def _ask(http, base_url, inquiry, timeout=5.0):
    return http.post(f"{base_url}/x12", data=write_270(inquiry, ENVELOPE).encode(),
                     headers={"Content-Type": EDI_CONTENT_TYPE}, timeout=timeout)


def test_an_active_member_round_trips_over_http(payer_sim, http, jane_inquiry):
    server, base_url = payer_sim

    answer = _ask(http, base_url, jane_inquiry)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == EDI_CONTENT_TYPE
    parsed = parse_271(answer.text)
    assert parsed.echoed_trace_numbers == ("CHK-90834-0001",)
    assert (parsed.envelope.sender_id, parsed.envelope.receiver_id) == ("PAYERSIM", "HCORCH")
    summary = summarize_benefits(parsed, ["MH", "A6"])
    assert summary.status == "active"
    assert asdict(summary.benefits) == {"copay": "25.00", "coinsurance": "0.2", "deductible_remaining": "350.50",
                                       "out_of_pocket_remaining": "2100.00", "in_network": None}
    assert (summary.plan_name, summary.plan_begin, summary.plan_end) == ("GOLD PPO 500", date(2026, 1, 1),
                                                                         date(2026, 12, 31))
    assert server.simulator.received == 1


def test_each_service_type_gets_its_own_rows_and_equal_rows_share_one_eb(payer_sim, http, jane_inquiry):
    _, base_url = payer_sim

    parsed = parse_271(_ask(http, base_url, jane_inquiry).text)

    copays = [(r.service_type_codes, r.amount, r.in_plan_network) for r in parsed.benefits if r.code == "B"]
    assert copays == [(("MH",), 25, "Y"), (("A6",), 30, "Y"), (("MH", "A6"), 60, "N")]
    assert asdict(summarize_benefits(parsed, ["A6", "MH"]).benefits)["copay"] == "30.00"
    oon = summarize_benefits(parsed, ["MH"], provider_in_network=False)
    assert asdict(oon.benefits)["copay"] == "60.00"
    assert asdict(oon.benefits)["out_of_pocket_remaining"] == "6000.00"


@pytest.mark.parametrize(("change", "status", "aaa"), [
    ({"member_id": "W999999999"}, "not_found", [("75", "Subscriber/Insured Not Found")]),
    ({"last_name": "ROE"}, "not_found", [("73", "Invalid/Missing Subscriber/Insured Name")]),
    ({"birth_date": date(1985, 4, 13)}, "not_found",
     [("71", "Patient Birth Date Does Not Match That for the Patient on the Database")]),
    ({"date_of_service": date(2027, 1, 4)}, "inactive", []),
])
def test_roster_outcomes(payer_sim, http, jane_inquiry, change, status, aaa):
    _, base_url = payer_sim

    parsed = parse_271(_ask(http, base_url, replace(jane_inquiry, **change)).text)

    summary = summarize_benefits(parsed, ["MH", "A6"])
    assert summary.status == status
    assert [(e.code, e.description) for e in summary.aaa_errors] == aaa
    assert parsed.echoed_trace_numbers == ("CHK-90834-0001",)


def test_coverage_ended_before_the_date_of_service_is_inactive_with_plan_dates(payer_sim, http, jane_inquiry):
    _, base_url = payer_sim
    jordan = replace(jane_inquiry, member_id="HCO1000002", first_name="JORDAN", last_name="LEE",
                     birth_date=date(1978, 11, 2))

    parsed = parse_271(_ask(http, base_url, jordan).text)

    assert [(r.code, r.service_type_codes) for r in parsed.benefits] == [("6", ("30",))]
    summary = summarize_benefits(parsed, ["MH"])
    assert (summary.status, summary.plan_end, summary.benefits.copay) == ("inactive", date(2025, 12, 31), None)


def test_a_dependent_is_answered_in_the_dependent_loop(payer_sim, http, golden_270, read_fixture):
    _, base_url = payer_sim

    answer = http.post(f"{base_url}/x12", data=read_fixture("270_90832_dependent_child.x12").encode(),
                       headers={"Content-Type": EDI_CONTENT_TYPE}, timeout=5)

    parsed = parse_271(answer.text)
    assert (parsed.dependent.first_name, parsed.dependent.relationship) == ("SAM", "19")
    assert parsed.echoed_trace_numbers == ("CHK-DEP-0001",)
    assert asdict(summarize_benefits(parsed, ["MH"]).benefits)["copay"] == "20.00"


def test_an_unknown_dependent_gets_aaa_67_in_the_dependent_loop(payer_sim, http, golden_270):
    _, base_url = payer_sim
    inquiry = golden_270["270_90832_dependent_child.x12"].inquiry
    stranger = replace(inquiry, dependent=replace(inquiry.dependent, first_name="KIM"))

    summary = summarize_benefits(parse_271(_ask(http, base_url, stranger).text), ["MH"])

    assert summary.status == "not_found"
    assert [(e.code, e.level) for e in summary.aaa_errors] == [("67", "dependent")]


@pytest.mark.parametrize(("old", "new", "status", "code", "level"), [
    ("XX*1234567893~", "XX*1234567890~", "error", "43", "information_receiver"),  # NPI check digit wrong
    ("DMG*D8*19850412~", "", "not_found", "58", "subscriber"),  # no birth date for the subscriber-patient
])
def test_a_270_from_elsewhere_with_bad_identification_gets_aaa_not_a_crash(payer_sim, http, read_fixture, old,
                                                                          new, status, code, level):
    _, base_url = payer_sim
    text = read_fixture("270_90834_video_mh_a6.x12").replace(old, new)
    if not new:
        text = text.replace("SE*13*", "SE*12*")

    answer = http.post(f"{base_url}/x12", data=text.encode(), headers={"Content-Type": EDI_CONTENT_TYPE},
                       timeout=5)

    assert answer.status_code == 200
    summary = summarize_benefits(parse_271(answer.text), ["MH"])
    assert summary.status == status
    assert [(e.code, e.level) for e in summary.aaa_errors] == [(code, level)]
    assert parse_271(answer.text).echoed_trace_numbers == ("CHK-90834-0001",)


def test_a_service_the_plan_excludes_is_non_covered(payer_sim, http, jane_inquiry):
    _, base_url = payer_sim

    parsed = parse_271(_ask(http, base_url, replace(jane_inquiry, service_type_codes=["BD"])).text)

    summary = summarize_benefits(parsed, ["BD"])
    assert (summary.status, summary.service_covered, summary.benefits.copay) == ("active", False, None)


def test_forced_aaa_42_answers_unable_to_respond_until_reset(payer_sim, http, jane_inquiry):
    _, base_url = payer_sim
    assert http.post(f"{base_url}/admin/knobs", json={"force_aaa": "42"}, timeout=5).json()["force_aaa"] == "42"

    unavailable = summarize_benefits(parse_271(_ask(http, base_url, jane_inquiry).text), ["MH"])
    http.post(f"{base_url}/admin/reset", timeout=5)
    recovered = summarize_benefits(parse_271(_ask(http, base_url, jane_inquiry).text), ["MH"])

    assert (unavailable.status, unavailable.retryable) == ("error", True)
    assert [(e.code, e.level, e.follow_up_action) for e in unavailable.aaa_errors] == [
        ("42", "information_source", "R")]
    assert recovered.status == "active"


def test_forced_http_503(payer_sim, http, jane_inquiry):
    server, base_url = payer_sim
    server.simulator.set_knobs({"http_status": 503})

    answer = _ask(http, base_url, jane_inquiry)

    assert answer.status_code == 503
    assert server.simulator.received == 1


def test_a_slow_payer_makes_the_client_time_out_and_stops_promptly(roster, http, jane_inquiry):
    server, base_url = start_payer_sim(roster=roster)
    try:
        server.simulator.set_knobs({"delay_seconds": 5})
        started = time.monotonic()
        with pytest.raises(requests.exceptions.ReadTimeout):
            _ask(http, base_url, jane_inquiry, timeout=0.3)
        assert time.monotonic() - started < 2
    finally:
        stopping = time.monotonic()
        server.stop()
    assert time.monotonic() - stopping < 2


def test_a_member_added_over_http_is_answered(payer_sim, http, jane_inquiry):
    _, base_url = payer_sim
    entry = {"first_name": "RIA", "last_name": "PATEL", "birth_date": "1999-07-07", "plan": {"name": "BRONZE EPO"},
             "active_from": "2026-01-01", "active_to": None,
             "benefits": {"copay": "45", "coinsurance": "0.3", "deductible_remaining": "2000",
                          "out_of_pocket_remaining": "7000"}}

    put = http.put(f"{base_url}/admin/members/N77", json=entry, timeout=5)
    ria = replace(jane_inquiry, member_id="N77", first_name="RIA", last_name="PATEL", birth_date=date(1999, 7, 7))
    summary = summarize_benefits(parse_271(_ask(http, base_url, ria).text), ["MH"])

    assert put.status_code == 200
    assert summary.plan_name == "BRONZE EPO"
    assert asdict(summary.benefits) == {"copay": "45.00", "coinsurance": "0.3", "deductible_remaining": "2000.00",
                                       "out_of_pocket_remaining": "7000.00", "in_network": None}


@pytest.mark.parametrize(("path", "body", "content_type", "status", "text"), [
    ("/x12", b"ISA*whatever", "text/plain", 415, "Content-Type must be application/edi-x12"),
    ("/x12", b"not x12 at all", EDI_CONTENT_TYPE, 400, "ISA_MISSING"),
    ("/nowhere", b"", EDI_CONTENT_TYPE, 404, "not found"),
    ("/admin/knobs", b"[1]", "application/json", 400, "body must be a JSON object"),
    ("/admin/knobs", b'{"delay_seconds": "soon"}', "application/json", 400,
     "delay_seconds must be a number, http_status an integer"),
])
def test_bad_requests_are_refused_with_a_reason(payer_sim, http, path, body, content_type, status, text):
    server, base_url = payer_sim

    answer = http.post(f"{base_url}{path}", data=body, headers={"Content-Type": content_type}, timeout=5)

    assert (answer.status_code, answer.text) == (status, text)
    assert server.simulator.received == (1 if status == 400 and path == "/x12" else 0)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "example.com", "::"])  # noqa: S104 - refused
def test_the_simulator_binds_loopback_only(host):
    with pytest.raises(ValueError, match="loopback"):
        start_payer_sim(host=host)


def test_health_and_state(payer_sim, http):
    _, base_url = payer_sim

    assert http.get(f"{base_url}/health", timeout=5).json() == {"ok": True}
    assert http.get(f"{base_url}/admin/state", timeout=5).json() == {
        "delay_seconds": 0.0, "force_aaa": None, "http_status": None, "received": 0, "members": 3}


def test_the_command_line_serves_the_demo_roster_until_terminated(http):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "local.payer_sim", "--port", "0"], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stdout.readline()
        base_url = banner.split("POST ")[1].split("/x12")[0]
        assert base_url.startswith("http://127.0.0.1:")
        assert http.get(f"{base_url}/health", timeout=5).json() == {"ok": True}
        assert http.get(f"{base_url}/admin/state", timeout=5).json()["members"] == 2
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)
    assert code == 0
