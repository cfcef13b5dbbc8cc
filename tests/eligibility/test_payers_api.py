"""PUT /v1/payers/{id} and its roster: a payer configures itself; the rules defaults fill the rest; SSRF refused."""

from __future__ import annotations

import pytest

from chalicelib.adapters.payer_http import UrlPolicy
from tests.eligibility.conftest import roster_entry

pytestmark = pytest.mark.api

DEFAULT_POLICY = {"video": {"covered": True}, "phone": {"covered": True}, "place_of_service_home": "10",
                  "place_of_service_other": "02", "modifiers": {"video": ["95"], "phone": ["93"]}}


def test_a_payer_configures_a_roster_connector_and_inherits_the_default_telehealth_policy(payer, payer_id):
    r = payer.put(f"/v1/payers/{payer_id}", {"name": "Blue Test Plan", "connector": {"kind": "roster"}})

    assert r.status == 200, r.json
    assert r.json == {"payer_id": payer_id, "name": "Blue Test Plan", "connector": {"kind": "roster", "url": None},
                      "telehealth_policy": DEFAULT_POLICY,
                      "telehealth_policy_source": {"rule_id": "payer-default-medicare-like", "api_fields": []},
                      "configured_through_api": True, "version": 1}
    assert payer.get(f"/v1/payers/{payer_id}").json["telehealth_policy"] == DEFAULT_POLICY


def test_the_api_version_of_the_policy_wins_field_by_field(payer, payer_id):
    r = payer.put(f"/v1/payers/{payer_id}", {
        "name": "Blue Test Plan", "connector": {"kind": "roster"},
        "telehealth_policy": {"phone": {"covered": False}, "modifiers": {"video": ["GT"]}}})

    assert r.status == 200, r.json
    assert r.json["telehealth_policy"] == {**DEFAULT_POLICY, "phone": {"covered": False},
                                           "modifiers": {"video": ["GT"], "phone": ["93"]}}
    assert r.json["telehealth_policy_source"] == {"rule_id": "payer-default-medicare-like",
                                                  "api_fields": ["phone_covered", "modifiers_video"]}
    again = payer.put(f"/v1/payers/{payer_id}", {"name": "Blue Test Plan", "connector": {"kind": "roster"}})
    assert again.json["version"] == 2 and again.json["telehealth_policy"] == DEFAULT_POLICY  # PUT replaces


def test_acme_has_defaults_from_scheduling_rules_until_it_configures_itself(api):
    acme = api.as_role("payer", payer_id="acme")

    r = acme.get("/v1/payers/acme")

    assert r.status == 200, r.json
    assert r.json["name"] == "ACME Health Plan" and r.json["connector"] == {"kind": "roster", "url": None}
    assert r.json["telehealth_policy_source"] == {"rule_id": "payer-acme-2026", "api_fields": []}
    assert r.json["configured_through_api"] is False


def test_a_payer_cannot_touch_another_payer_and_other_roles_may_not_at_all(api, payer, payer_id, scheduler):
    assert payer.put(f"/v1/payers/{payer_id}", {"name": "Mine", "connector": {"kind": "roster"}}).status == 200
    other = api.as_role("payer", payer_id="someone-else")

    for r in (other.put(f"/v1/payers/{payer_id}", {"name": "Hijack", "connector": {"kind": "roster"}}),
              other.get(f"/v1/payers/{payer_id}"),
              other.put(f"/v1/payers/{payer_id}/members/W1", roster_entry())):
        assert (r.status, r.json["code"]) == (404, "NOT_FOUND")
    forbidden = scheduler.put(f"/v1/payers/{payer_id}", {"name": "Hijack", "connector": {"kind": "roster"}})
    assert (forbidden.status, forbidden.json["code"]) == (403, "FORBIDDEN")
    assert payer.get(f"/v1/payers/{payer_id}").json["name"] == "Mine"


def test_roster_members_are_stored_without_echoing_phi(payer, payer_id):
    first = payer.put(f"/v1/payers/{payer_id}/members/W100200300", roster_entry())
    second = payer.put(f"/v1/payers/{payer_id}/members/W100200300", roster_entry(plan="SILVER"))

    assert first.status == 200 and first.json == {"payer_id": payer_id, "created": True,
                                                  "plan": {"name": "GOLD PPO 500"},
                                                  "active_from": "2026-01-01", "active_to": "2026-12-31"}
    assert second.json["created"] is False and second.json["plan"] == {"name": "SILVER"}
    assert "DOE" not in first.raw.decode() and "1985" not in first.raw.decode()


def test_roster_member_validation_names_each_bad_field(payer, payer_id):
    r = payer.put(f"/v1/payers/{payer_id}/members/W1", {**roster_entry(), "birth_date": "yesterday",
                                                         "benefits": {"copay": 25, "coinsurance": "1.5"}})
    assert r.status == 400 and r.json["code"] == "VALIDATION_ERROR"
    assert {"birth_date", "benefits.copay", "benefits.coinsurance"} <= {e["field"] for e in r.json["errors"]}
    bad_id = payer.put(f"/v1/payers/{payer_id}/members/W1_2", roster_entry())
    assert bad_id.status == 400 and bad_id.json["errors"] == [{"field": "member_id",
                                                               "message": "is not in the expected format"}]


def test_x12_http_needs_a_url_and_roster_takes_none(payer, payer_id):
    r = payer.put(f"/v1/payers/{payer_id}", {"name": "P", "connector": {"kind": "x12_http"}})
    assert r.status == 400 and r.json["errors"][0]["field"] == "connector"
    r = payer.put(f"/v1/payers/{payer_id}", {"name": "P", "connector": {"kind": "roster", "url": "http://127.0.0.1:1"}})
    assert r.status == 400 and r.json["errors"][0]["field"] == "connector"


# --- SSRF: the connector URL policy ---------------------------------------------------------------

@pytest.mark.parametrize(("url", "reason"), [
    ("http://169.254.169.254/latest/meta-data/", "not_loopback"),
    ("http://10.0.0.1/x12", "not_loopback"),
    ("http://192.168.1.1/x12", "not_loopback"),
    ("https://payer.example.com/x12", "not_loopback"),
    ("file:///etc/passwd", "scheme"),
    ("gopher://127.0.0.1:70/", "scheme"),
    ("http://user:secret@127.0.0.1:8090/x12", "userinfo"),
    ("http://127.1:8090/x12", "non_canonical_host"),
    ("http://2130706433:8090/x12", "non_canonical_host"),
], ids=["metadata", "rfc1918-10", "rfc1918-192", "public-on-local", "file", "gopher", "userinfo", "short-ipv4",
        "decimal-ipv4"])
def test_the_local_stage_refuses_everything_but_loopback(payer, payer_id, url, reason):
    r = payer.put(f"/v1/payers/{payer_id}", {"name": "P", "connector": {"kind": "x12_http", "url": url}})

    assert r.status == 422, r.json
    assert r.json["code"] == "CONNECTOR_URL_NOT_ALLOWED" and r.json["reason"] == reason
    assert r.json["errors"][0]["field"] == "connector.url"
    assert url not in r.raw.decode()  # never echoed (it may carry credentials)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8090/x12", "http://localhost:8090/x12", "http://[::1]:8090/x12"])
def test_the_local_stage_accepts_loopback(payer, payer_id, url):
    r = payer.put(f"/v1/payers/{payer_id}", {"name": "P", "connector": {"kind": "x12_http", "url": url}})
    assert r.status == 200, r.json
    assert r.json["connector"] == {"kind": "x12_http", "url": url}


class FakeDns:
    """Fakes over mocks: names and the addresses they resolve to."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table

    def resolve(self, host: str, port: int) -> list[str]:
        return list(self.table.get(host, []))


@pytest.fixture
def deployed_policy(services):
    """The URL policy of a deployed stage (tokens stay local-stage so the test can mint them)."""
    services.eligibility.url_policy = UrlPolicy(local_stage=False, resolver=FakeDns({
        "payer.example.com": ["93.184.216.34"],
        "v6.payer.example.com": ["2606:2800:220:1:248:1893:25c8:1946"],
        "rebind.example.com": ["10.1.2.3"],
        "mixed.example.com": ["93.184.216.34", "169.254.169.254"],
        "ula.example.com": ["fd12:3456::1"],
        "localhost": ["127.0.0.1"],
    }))
    return services.eligibility.url_policy


@pytest.mark.parametrize(("url", "reason"), [
    ("https://[::1]/x12", "loopback"),
    ("https://127.0.0.1/x12", "loopback"),
    ("https://localhost/x12", "internal_name"),
    ("http://payer.example.com/x12", "scheme"),
    ("https://169.254.169.254/latest/meta-data/", "metadata"),
    ("https://169.254.10.10/x12", "link_local"),
    ("https://[fe80::1]/x12", "link_local"),
    ("https://10.0.0.1/x12", "private"),
    ("https://192.168.1.1/x12", "private"),
    ("https://172.16.5.4/x12", "private"),
    ("https://[fd00::1]/x12", "private"),
    ("https://[::ffff:10.0.0.1]/x12", "private"),
    ("https://100.64.0.1/x12", "not_public"),
    ("https://0.0.0.0/x12", "not_public"),
    ("https://payer.internal/x12", "internal_name"),
    ("https://user:pw@payer.example.com/x12", "userinfo"),
    ("file:///etc/passwd", "scheme"),
    ("https://rebind.example.com/x12", "private"),
    ("https://mixed.example.com/x12", "metadata"),
    ("https://ula.example.com/x12", "private"),
    ("https://nowhere.example.com/x12", "unresolvable"),
])
def test_a_deployed_stage_refuses_non_public_targets_literal_and_after_dns(payer, payer_id, deployed_policy, url,
                                                                           reason):
    r = payer.put(f"/v1/payers/{payer_id}", {"name": "P", "connector": {"kind": "x12_http", "url": url}})

    assert (r.status, r.json["code"], r.json["reason"]) == (422, "CONNECTOR_URL_NOT_ALLOWED", reason), r.json


@pytest.mark.parametrize("url", ["https://payer.example.com/x12", "https://payer.example.com:8443/eligibility?v=1",
                                 "https://v6.payer.example.com/x12", "https://93.184.216.34/x12"])
def test_a_deployed_stage_accepts_public_https(payer, payer_id, deployed_policy, url):
    r = payer.put(f"/v1/payers/{payer_id}", {"name": "P", "connector": {"kind": "x12_http", "url": url}})
    assert r.status == 200, r.json
    assert r.json["connector"]["url"] == url
