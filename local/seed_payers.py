"""The demo payer "acme": its configuration and a roster that matches the demo patients' coverages.

When the local payer simulator runs (``HCO_PAYER_SIM_URL``, set by local/run.py), acme's connector
is ``x12_http`` to it and the simulator gets the same members, so an eligibility check in the tour
is a real 270/271 round trip over loopback. Without it, acme answers from its roster. Idempotent.
"""

from __future__ import annotations

import json
import os
import urllib.request
from datetime import date
from typing import Any

from chalicelib.domain.eligibility import RosterBenefits, RosterMember, split_person_name
from chalicelib.domain.payer_policy import Connector, PayerConfig
from local.seed import demo_patients

PAYER_ID = "acme"
PAYER_NAME = "ACME Health Plan"
PLAN = "ACME GOLD PPO"
ACTIVE_FROM, ACTIVE_TO = date(2026, 1, 1), date(2027, 12, 31)
BENEFITS = RosterBenefits(copay="25.00", coinsurance="0.2", deductible_remaining="350.00",
                          out_of_pocket_remaining="2100.00")


def demo_roster() -> list[RosterMember]:
    """One member per acme coverage of the demo patients (ACME100001...), names and birth dates as seeded."""
    members = []
    for patient in demo_patients():
        for coverage in patient.coverages:
            if coverage.payer_id == PAYER_ID:
                first, last = ((patient.given_name, patient.family_name) if patient.given_name and patient.family_name
                               else split_person_name(patient.name))
                members.append(RosterMember(coverage.member_id, first, last, patient.birth_date, PLAN, ACTIVE_FROM,
                                            ACTIVE_TO, BENEFITS))
    return members


def roster_json(member: RosterMember) -> dict[str, Any]:
    """The API.md roster shape (PUT /v1/payers/{id}/members/{member_id}), which the simulator also reads."""
    b = member.benefits
    return {"first_name": member.first_name, "last_name": member.last_name,
            "birth_date": member.birth_date.isoformat(), "plan": {"name": member.plan_name},
            "active_from": member.active_from.isoformat(),
            "active_to": member.active_to.isoformat() if member.active_to else None,
            "benefits": {"copay": b.copay, "coinsurance": b.coinsurance,
                         "deductible_remaining": b.deductible_remaining,
                         "out_of_pocket_remaining": b.out_of_pocket_remaining}}


def seed_payers(sim_url: str | None = None, payer_id: str = PAYER_ID) -> dict[str, Any]:
    from chalicelib.bootstrap import get_services

    sim_url = sim_url if sim_url is not None else os.environ.get("HCO_PAYER_SIM_URL")
    services = get_services()
    if sim_url:
        url = f"{sim_url.rstrip('/')}/x12"
        services.eligibility.url_policy.vet(url)  # the same policy a payer's PUT goes through
        connector = Connector("x12_http", url)
    else:
        connector = Connector("roster")
    services.eligibility.payers.put_config(PayerConfig(payer_id, PAYER_NAME, connector,
                                                       updated_at=services.clock()))
    members = demo_roster()
    for member in members:
        services.eligibility.payers.put_member(payer_id, member)
        if sim_url:
            _put_sim_member(sim_url, member)
    return {"payer_id": payer_id, "connector": connector.kind, "members": len(members)}


def _put_sim_member(sim_url: str, member: RosterMember) -> None:
    request = urllib.request.Request(f"{sim_url.rstrip('/')}/admin/members/{member.member_id}", method="PUT",
                                     data=json.dumps(roster_json(member)).encode(),
                                     headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
    with opener.open(request, timeout=5) as answer:
        if answer.status != 200:
            raise RuntimeError(f"the payer simulator refused a roster entry ({answer.status})")
