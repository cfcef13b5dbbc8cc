"""Helpers for API tests: tokens, JSON calls through chalice.test.Client, and directory builders."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from local.token import mint

VALID_NPIS = ["1234567893", "1245319599", "1679576722", "1003000126", "1093718892", "1184629396"]


@dataclass
class Api:
    client: Any
    tenant: str = "demo"
    tokens: dict[tuple[str, str | None], str] = field(default_factory=dict)

    def token(self, role: str, *, tenant: str | None = None, **ids: str | None) -> str:
        return mint(role, tenant or self.tenant, **ids)

    def call(self, method: str, path: str, body: Any = None, *, token: str | None = None,
             headers: dict[str, str] | None = None, raw: bytes | str | None = None) -> Response:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        result = getattr(self.client.http, method.lower())(path, headers=all_headers, body=payload)
        return Response(result.status_code, dict(result.headers), result.body)

    def as_role(self, role: str, **ids: str | None) -> RoleApi:
        return RoleApi(self, self.token(role, **ids))


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None


@dataclass
class RoleApi:
    api: Api
    token: str

    def get(self, path: str, **kw: Any) -> Response:
        return self.api.call("GET", path, token=self.token, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.api.call("POST", path, body if body is not None else {}, token=self.token, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.api.call("PUT", path, body, token=self.token, **kw)


def site_body(name: str = "Midtown Clinic", timezone: str = "America/New_York", jurisdiction: str = "US-NY",
              rooms: Any = None) -> dict[str, Any]:
    return {"name": name, "timezone": timezone, "jurisdiction": jurisdiction,
            "address": {"line1": "1 Main St", "city": "New York", "postal_code": "10001"},
            "rooms": rooms if rooms is not None else ["A", "B"]}


def clinician_body(name: str = "Dr. Test", *, npi: str = VALID_NPIS[0], discipline: str = "psychologist",
                   timezone: str = "America/New_York", licenses: list[str] | None = None,
                   site_ids: list[str] | None = None, modalities: list[str] | None = None,
                   expires_on: str = "2030-12-31", **extra: Any) -> dict[str, Any]:
    return {"name": name, "npi": npi, "discipline": discipline, "timezone": timezone,
            "licenses": [{"jurisdiction": j, "type": "psychologist", "number": f"LIC-{j[-2:]}-1",
                          "expires_on": expires_on} for j in (licenses or ["US-NY"])],
            "modalities": modalities or ["in_person", "video", "phone"], "site_ids": site_ids or [],
            "languages": ["en"], **extra}


def weekday_rules(start: str = "09:00", end: str = "17:00", site_id: str | None = None,
                  modalities: list[str] | None = None, days: range = range(5)) -> list[dict[str, Any]]:
    mods = modalities or (["in_person", "video", "phone"] if site_id else ["video", "phone"])
    return [{"weekday": d, "start": start, "end": end, "modalities": mods, "site_id": site_id} for d in days]


def patient_body(name: str = "Pat Example", home: str = "US-NY", **extra: Any) -> dict[str, Any]:
    return {"name": name, "birth_date": "1990-04-01", "home_jurisdiction": home, "phone": "+1 212 555 0100",
            "email": "pat@example.org", "preferred_language": "en", "tech_access": {"video": True},
            "coverages": [{"payer_id": "acme", "member_id": "M123456"}], **extra}


def clinic_with_psychologist(admin: RoleApi) -> dict[str, Any]:
    """A NY site with two rooms and a NY-licensed psychologist working there Mon-Fri 09-17 (no buffer)."""
    site = admin.post("/v1/sites", site_body()).json
    clinician = admin.post("/v1/clinicians", clinician_body(site_ids=[site["site_id"]])).json
    r = admin.put(f"/v1/clinicians/{clinician['clinician_id']}/availability",
                  {"rules": weekday_rules(site_id=site["site_id"]), "buffer_minutes": 0})
    assert r.status == 200, r.json
    return {"site": site, "clinician": clinician}


# The visit's followers (reminders, confirmations, no-show tallies, the waitlist, eligibility) run in the
# table stream's consumer after each commit, as Lambda runs it within a second; a scheduled job runs once a
# minute. Tests deliver the stream (`after_commit()`) before a job or a read of what the followers wrote.
_TEST: list[Any] = []  # the running test's pytest request (tests/api/conftest.py sets it)


def after_commit() -> int:
    """Deliver every stream record written so far to the real Chalice handler; how many were delivered."""
    drained: int = _TEST[-1].getfixturevalue("drain_stream")()
    return drained
