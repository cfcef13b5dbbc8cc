"""Local payer clearinghouse: answers X12 005010X279A1 270s with 271s from an in-memory roster.

Routes (loopback only):
    POST /x12                       Content-Type: application/edi-x12; body a 270, answer a 271
    GET  /health                    {"ok": true}
    GET  /admin/state               knobs and the number of 270s received
    GET  /admin/last-270            the last 270 received, as sent (test-only: it is PHI)
    POST /admin/knobs               {"delay_seconds": 2.5, "force_aaa": "42", "http_status": 503,
                                    "canned_271": "ISA...", "canned_trace": "CHK1"};
                                    a null value clears that knob, an absent key leaves it.
                                    canned_271 is answered verbatim (a real payer's variant: a
                                    carve-out, a TA1, a wrapped file) with every canned_trace
                                    replaced by the 270's TRN02, so the echo still matches.
    POST /admin/reset               clears knobs and the counter
    PUT  /admin/members/{member_id} a roster entry in the API.md shape (PUT /v1/payers/.../members)

Run: ``python -m local.payer_sim --port 8090 [--roster roster.json]``; in tests
``server, base_url = start_payer_sim(roster=...)`` and ``server.stop()``.
"""

from __future__ import annotations

import argparse
import ipaddress
import itertools
import json
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from chalicelib.domain.eligibility import RosterBenefits, RosterDependent, RosterMember
from chalicelib.x12.codes import RETRYABLE_REASONS
from chalicelib.x12.inquiry import Dependent, EligibilityInquiry, is_valid_npi
from chalicelib.x12.read_270 import parse_270
from chalicelib.x12.response import BenefitRow, DateInfo, EligibilityResponse, aaa
from chalicelib.x12.syntax import X12Error
from chalicelib.x12.text import transliterate
from chalicelib.x12.write_271 import write_271

EDI_CONTENT_TYPE = "application/edi-x12"
MAX_BODY_BYTES = 1_000_000
GENERIC = "30"


def _benefits(data: Mapping[str, Any] | None) -> RosterBenefits:
    """A tier in the API.md shape; numbers or decimal strings."""
    data = data or {}

    def money(key: str) -> str | None:
        value = data.get(key)
        return None if value is None else str(Decimal(str(value)))
    return RosterBenefits(money("copay"), money("coinsurance"), money("deductible_remaining"),
                          money("out_of_pocket_remaining"))


def member_from_json(member_id: str, data: Mapping[str, Any]) -> RosterMember:
    """API.md roster shape, plus optional out_of_network_benefits, service_benefits,
    non_covered_service_types and dependents."""
    active_to = data.get("active_to")
    oon = data.get("out_of_network_benefits")
    return RosterMember(
        member_id=member_id, first_name=data["first_name"], last_name=data["last_name"],
        birth_date=date.fromisoformat(data["birth_date"]),
        plan_name=(data.get("plan") or {}).get("name") or "PLAN",
        active_from=date.fromisoformat(data["active_from"]),
        active_to=date.fromisoformat(active_to) if active_to else None,
        benefits=_benefits(data.get("benefits")),
        out_of_network=_benefits(oon) if oon else None,
        service_benefits={k: _benefits(v) for k, v in (data.get("service_benefits") or {}).items()},
        non_covered=frozenset(data.get("non_covered_service_types") or ()),
        dependents=tuple(RosterDependent(d["first_name"], d["last_name"], date.fromisoformat(d["birth_date"]),
                                         d.get("relationship", "19"))
                         for d in data.get("dependents") or ()),
    )


DEMO_ROSTER: tuple[RosterMember, ...] = (
    RosterMember(
        member_id="HCO1000001", first_name="ALEX", last_name="RIVERA", birth_date=date(1990, 5, 17),
        plan_name="DEMO GOLD PPO", active_from=date(2026, 1, 1), active_to=date(2027, 12, 31),
        benefits=RosterBenefits("25", "0.2", "350", "2100"),
        out_of_network=RosterBenefits("60", "0.4", "1500", "6000"),
        dependents=(RosterDependent("SAM", "RIVERA", date(2014, 9, 3)),),
    ),
    RosterMember(
        member_id="HCO1000002", first_name="JORDAN", last_name="LEE", birth_date=date(1978, 11, 2),
        plan_name="DEMO SILVER HMO", active_from=date(2024, 1, 1), active_to=date(2025, 12, 31),
        benefits=RosterBenefits("40", None, "0", "900"),
    ),
)


class PayerSimulator:
    """The payer's logic and the test knobs, independent of HTTP."""

    def __init__(self, roster: Iterable[RosterMember] = (), *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._lock = threading.Lock()
        self._members = {m.member_id.upper(): m for m in roster}
        self._clock = clock
        self._control_numbers = itertools.count(1)
        self.stop_event = threading.Event()
        self.delay_seconds = 0.0
        self.force_aaa: str | None = None
        self.http_status: int | None = None
        self.canned_271: str | None = None
        self.canned_trace: str | None = None
        self.received = 0
        self.last_270: str | None = None

    def put_member(self, member: RosterMember) -> None:
        with self._lock:
            self._members[member.member_id.upper()] = member

    def set_knobs(self, data: Mapping[str, Any]) -> None:
        with self._lock:
            if "delay_seconds" in data:
                self.delay_seconds = float(data["delay_seconds"] or 0)
            if "force_aaa" in data:
                self.force_aaa = str(data["force_aaa"]) if data["force_aaa"] else None
            if "http_status" in data:
                self.http_status = int(data["http_status"]) if data["http_status"] else None
            if "canned_271" in data:
                self.canned_271 = str(data["canned_271"]) if data["canned_271"] else None
            if "canned_trace" in data:
                self.canned_trace = str(data["canned_trace"]) if data["canned_trace"] else None

    def reset(self) -> None:
        with self._lock:
            self.delay_seconds, self.force_aaa, self.http_status, self.received = 0.0, None, None, 0
            self.canned_271 = self.canned_trace = self.last_270 = None

    def state(self) -> dict[str, Any]:
        return {"delay_seconds": self.delay_seconds, "force_aaa": self.force_aaa,
                "http_status": self.http_status, "received": self.received, "members": len(self._members)}

    def count_request(self, text: str | None = None) -> None:
        with self._lock:
            self.received += 1
            self.last_270 = text

    def answer(self, text: str) -> str:
        """A 271 for a 270 (raises X12Error when the 270 cannot be read)."""
        now = self._clock()
        parsed = parse_270(text, default_date_of_service=now.date())
        if self.canned_271 is not None:
            canned = self.canned_271
            if self.canned_trace:
                canned = canned.replace(self.canned_trace, parsed.inquiry.trace_number)
            return canned
        with self._lock:
            control = next(self._control_numbers)
        envelope = parsed.envelope.reply(interchange_control_number=control, group_control_number=control,
                                         created_at=now)
        return write_271(self.respond_to(parsed.inquiry), envelope)

    def respond_to(self, inquiry: EligibilityInquiry) -> EligibilityResponse:
        if self.force_aaa:
            follow_up = "R" if self.force_aaa in RETRYABLE_REASONS else "C"
            return EligibilityResponse(inquiry, information_source_errors=(
                aaa(self.force_aaa, follow_up, level="information_source"),))
        if not is_valid_npi(inquiry.provider_npi):
            return EligibilityResponse(inquiry, information_receiver_errors=(
                aaa("43", "C", valid_request=False, level="information_receiver"),))
        if inquiry.dependent is None and inquiry.birth_date is None:
            return EligibilityResponse(inquiry, subscriber_errors=(aaa("58", "C", valid_request=False),))
        member = self._members.get(inquiry.member_id.upper())
        if member is None:
            return EligibilityResponse(inquiry, subscriber_errors=(aaa("75", "C"),))
        if transliterate(member.last_name) != transliterate(inquiry.last_name):
            return EligibilityResponse(inquiry, subscriber_errors=(aaa("73", "C", valid_request=False),))
        if inquiry.dependent is None and inquiry.birth_date != member.birth_date:
            return EligibilityResponse(inquiry, subscriber_errors=(aaa("71", "C"),))
        if inquiry.dependent is not None:
            found = _find_dependent(member, inquiry.dependent)
            if found is None:
                return EligibilityResponse(inquiry, dependent_errors=(aaa("67", "C", level="dependent"),))
            # The payer knows the relationship; the 271 returns it in 2100D INS.
            inquiry = replace(inquiry, dependent=replace(inquiry.dependent, relationship=found.relationship))
        dates = (DateInfo("346", member.active_from),
                 *((DateInfo("347", member.active_to),) if member.active_to else ()))
        if not member.active_on(inquiry.date_of_service):
            return EligibilityResponse(inquiry, dates=dates, benefits=(
                BenefitRow("6", "IND", (GENERIC,), plan_coverage=member.plan_name),))
        return EligibilityResponse(inquiry, dates=dates, benefits=_benefit_rows(member, inquiry))


def _find_dependent(member: RosterMember, asked: Dependent) -> RosterDependent | None:
    return next((d for d in member.dependents
                 if transliterate(d.first_name) == transliterate(asked.first_name)
                 and transliterate(d.last_name) == transliterate(asked.last_name)
                 and d.birth_date == asked.birth_date), None)


def _benefit_rows(member: RosterMember, inquiry: EligibilityInquiry) -> tuple[BenefitRow, ...]:
    """EB*1 for the plan, then per asked service type its cost-share rows (write_271 merges equal
    rows into one EB with EB03 repeated)."""
    asked = tuple(dict.fromkeys(inquiry.service_type_codes))
    covered = tuple(c for c in asked if c not in member.non_covered)
    rows = [BenefitRow("1", "IND", tuple(dict.fromkeys((GENERIC, *covered))), plan_coverage=member.plan_name)]
    rows += [BenefitRow("I", "IND", (code,)) for code in asked if code in member.non_covered]
    for code in covered:
        rows += _cost_rows(code, member.service_benefits.get(code, member.benefits), "Y")
    if member.out_of_network:
        for code in covered:
            rows += _cost_rows(code, member.out_of_network, "N")
    return tuple(rows)


def _cost_rows(code: str, benefits: RosterBenefits, network: str) -> list[BenefitRow]:
    rows = []
    for eb, period, attr, value in (("B", "27", "amount", benefits.copay),
                                    ("A", "27", "percent", benefits.coinsurance),
                                    ("C", "29", "amount", benefits.deductible_remaining),
                                    ("G", "29", "amount", benefits.out_of_pocket_remaining)):
        if value is not None:
            rows.append(replace(BenefitRow(eb, "IND", (code,), time_period=period, in_plan_network=network),
                                **{attr: Decimal(value)}))
    return rows


# ----------------------------------------------------------------------------------------------
# HTTP
# ----------------------------------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    server: PayerSimServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests and `make run` share the terminal

    def do_GET(self) -> None:
        if self.path == "/health":
            self._json(200, {"ok": True})
        elif self.path == "/admin/state":
            self._json(200, self.server.simulator.state())
        elif self.path == "/admin/last-270":
            self._text(200, self.server.simulator.last_270 or "")
        else:
            self._text(404, "not found")

    def do_POST(self) -> None:
        if self.path == "/x12":
            self._x12()
        elif self.path == "/admin/knobs":
            body = self._json_body()
            if body is None:
                return
            try:
                self.server.simulator.set_knobs(body)
            except (TypeError, ValueError):
                self._text(400, "delay_seconds must be a number, http_status an integer")
                return
            self._json(200, self.server.simulator.state())
        elif self.path == "/admin/reset":
            self._body()
            self.server.simulator.reset()
            self._json(200, self.server.simulator.state())
        else:
            self._text(404, "not found")

    def do_PUT(self) -> None:
        prefix = "/admin/members/"
        if not self.path.startswith(prefix) or len(self.path) == len(prefix):
            self._text(404, "not found")
            return
        body = self._json_body()
        if body is None:
            return
        try:
            member = member_from_json(self.path[len(prefix):], body)
        except (KeyError, ValueError, TypeError, ArithmeticError):
            self._text(400, "invalid roster entry")
            return
        self.server.simulator.put_member(member)
        self._json(200, {"ok": True})

    def _x12(self) -> None:
        sim = self.server.simulator
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        body = self._body()
        if body is None:
            return
        if content_type != EDI_CONTENT_TYPE:
            self._text(415, f"Content-Type must be {EDI_CONTENT_TYPE}")
            return
        sim.count_request(body.decode("utf-8", "replace"))
        # Interruptible, so stopping the server does not wait for a slow answer.
        if sim.delay_seconds and sim.stop_event.wait(sim.delay_seconds):
            return
        if sim.http_status:
            self._text(sim.http_status, "payer unavailable")
            return
        try:
            answer = sim.answer(body.decode("utf-8"))
        except (X12Error, UnicodeDecodeError) as exc:
            self._text(400, getattr(exc, "code", "NOT_UTF8"))
            return
        self._send(200, answer.encode("utf-8"), EDI_CONTENT_TYPE)

    def _body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._text(411, "Content-Length required")
            return None
        if int(length) > MAX_BODY_BYTES:
            self._text(413, "body too large")
            return None
        return self.rfile.read(int(length))

    def _json_body(self) -> dict[str, Any] | None:
        raw = self._body()
        if raw is None:
            return None
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            data = None
        if not isinstance(data, dict):
            self._text(400, "body must be a JSON object")
            return None
        return data

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode("utf-8"), "application/json")

    def _text(self, status: int, text: str) -> None:
        self._send(status, text.encode("utf-8"), "text/plain; charset=utf-8")

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller gave up (a client timeout against a slow payer): nothing to tell


class PayerSimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], simulator: PayerSimulator) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        self.simulator = simulator
        self.thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        host_text = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{host_text}:{port}"

    def stop(self) -> None:
        self.simulator.stop_event.set()
        self.shutdown()
        self.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)


def _loopback(host: str) -> str:
    if host == "localhost":
        return "127.0.0.1"
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise ValueError("the payer simulator binds a loopback address only")


def start_payer_sim(host: str = "127.0.0.1", port: int = 0,
                    roster: Iterable[RosterMember] | Mapping[str, Mapping[str, Any]] | None = None,
                    *, clock: Callable[[], datetime] | None = None) -> tuple[PayerSimServer, str]:
    """Serve the simulator in a daemon thread; returns the server (``.stop()``) and its base URL.

    ``roster``: RosterMember objects, or {member_id: API.md roster JSON}; None = the demo roster.
    """
    if roster is None:
        members: Iterable[RosterMember] = DEMO_ROSTER
    elif isinstance(roster, Mapping):
        members = [member_from_json(k, v) for k, v in roster.items()]
    else:
        members = roster
    simulator = PayerSimulator(members, clock=clock) if clock else PayerSimulator(members)
    server = PayerSimServer((_loopback(host), port), simulator)
    server.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                     name="payer-sim", daemon=True)
    server.thread.start()
    return server, server.base_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local X12 270/271 payer simulator (loopback only).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--roster", help="JSON file: {member_id: roster entry in the API.md shape}")
    args = parser.parse_args(argv)
    roster = None
    if args.roster:
        with open(args.roster, encoding="utf-8") as handle:
            roster = json.load(handle)
    server, base_url = start_payer_sim(args.host, args.port, roster)
    print(f"payer simulator: POST {base_url}/x12 (Content-Type: {EDI_CONTENT_TYPE})", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
