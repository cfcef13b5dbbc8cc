"""Eligibility tests: the app in-process on moto, a payer simulator on 127.0.0.1, short time budgets."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

import pytest
import requests

from tests.support import clinic_with_psychologist, patient_body

# Short budgets keep the suite fast; the ratios are the deployed ones (attempt < budget < 10 s).
FAST = {"budget_seconds": 0.8, "attempt_timeout_seconds": 0.3, "booking_budget_seconds": 0.8, "max_attempts": 3,
        "backoff_base_seconds": 0.01, "backoff_cap_seconds": 0.02, "repoll_base_seconds": 5.0}


@pytest.fixture(scope="module")
def module_clock():
    from tests.conftest import START, FakeClock

    return FakeClock(START)


@pytest.fixture
def clock(module_clock):
    """The shared fixed clock, back at START for every test."""
    from tests.conftest import START

    module_clock.now = START
    return module_clock


@pytest.fixture(scope="module")
def built_services(aws, settings, module_clock):
    """One composition per module (its DynamoDB clients are made once): the short eligibility budgets."""
    from chalicelib import bootstrap

    fast = replace(settings, eligibility=replace(settings.eligibility, **FAST))
    return bootstrap.build(fast, module_clock)


@pytest.fixture
def services(built_services, clock):
    """Overrides the shared fixture. Tests stay apart by tenant and payer id; the URL policy is restored."""
    from chalicelib import bootstrap

    policy = built_services.eligibility.url_policy
    bootstrap.install(built_services)
    yield built_services
    built_services.eligibility.url_policy = policy
    bootstrap.install(None)


def roster_entry(first="JANE", last="DOE", birth="1985-04-12", active_from="2026-01-01", active_to="2026-12-31",
                 plan="GOLD PPO 500", **benefits: Any) -> dict[str, Any]:
    return {"first_name": first, "last_name": last, "birth_date": birth, "plan": {"name": plan},
            "active_from": active_from, "active_to": active_to,
            "benefits": {"copay": "25.00", "coinsurance": "0.2", "deductible_remaining": "350.50",
                         "out_of_pocket_remaining": "2100.00", **benefits}}


@dataclass
class Sim:
    server: Any
    url: str
    http: requests.Session

    @property
    def received(self) -> int:
        return int(self.state()["received"])

    def state(self) -> dict[str, Any]:
        return self.http.get(f"{self.url}/admin/state", timeout=5).json()

    def knobs(self, **knobs: Any) -> None:
        r = self.http.post(f"{self.url}/admin/knobs", json=knobs, timeout=5)
        assert r.status_code == 200, r.text

    def member(self, member_id: str, entry: dict[str, Any]) -> None:
        assert self.http.put(f"{self.url}/admin/members/{member_id}", json=entry, timeout=5).status_code == 200


@pytest.fixture
def sim():
    """A clearinghouse on loopback with one active member (W100200300) and one past member (W100200301)."""
    from local.payer_sim import start_payer_sim

    server, url = start_payer_sim(roster={
        "W100200300": roster_entry(),
        "W100200301": roster_entry(first="JOHN", last="ROE", birth="1970-01-01", active_from="2024-01-01",
                                   active_to="2025-12-31"),
    })
    session = requests.Session()
    session.trust_env = False  # loopback never goes through a proxy from the environment
    yield Sim(server, url, session)
    session.close()
    server.stop()


@pytest.fixture
def payer_id() -> str:
    return f"py{uuid.uuid4().hex[:10]}"


@pytest.fixture
def payer(api, payer_id):
    """A payer's own token (payers work across tenants)."""
    return api.as_role("payer", payer_id=payer_id)


@pytest.fixture
def x12_payer(payer, payer_id, sim):
    """A payer whose connector POSTs 270s to the simulator."""
    r = payer.put(f"/v1/payers/{payer_id}", {"name": "Acme Health Plan",
                                              "connector": {"kind": "x12_http", "url": f"{sim.url}/x12"}})
    assert r.status == 200, r.json
    return payer_id


def check_body(payer_id: str, **overrides: Any) -> dict[str, Any]:
    body = {"payer_id": payer_id,
            "member": {"member_id": "W100200300", "first_name": "Jane", "last_name": "Doe",
                       "birth_date": "1985-04-12"},
            "provider_npi": "1234567893", "service": "90834", "modality": "video",
            "date_of_service": "2026-03-09", "patient_jurisdiction": "US-NY", "discipline": "psychologist"}
    body.update(overrides)
    return body


@pytest.fixture
def world(api, admin, scheduler):
    """A NY site, a NY psychologist in the acme-like payers' networks (see the tests), a patient to be set."""
    return clinic_with_psychologist(admin)


def new_patient(scheduler, payer_id: str | None, member_id: str = "W100200300", name: str = "Jane Doe",
                birth: str = "1985-04-12") -> str:
    coverages = [{"payer_id": payer_id, "member_id": member_id}] if payer_id else []
    r = scheduler.post("/v1/patients", patient_body(name, birth_date=birth, coverages=coverages))
    assert r.status == 201, r.json
    return r.json["patient_id"]


def landed(scheduler, drain_stream, appointment: dict[str, Any]) -> dict[str, Any]:
    """The visit once the table stream's consumer ran after its commit (eligibility lands there)."""
    drain_stream()
    return scheduler.get(f"/v1/appointments/{appointment['appointment_id']}").json
