"""Issue 11 on the running local server: its own errors, its access log, its own services as 'payers'."""

from __future__ import annotations

import re

import pytest
import requests

from local.token import mint
from tests.e2e.conftest import local_server_log

pytestmark = pytest.mark.e2e


def _session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    return s


def _endpoint(name: str) -> str:
    text = local_server_log().read_text(errors="replace")
    match = re.search(rf"^\s+{name}\s+(http://\S+)", text, re.M)
    assert match, f"{name} endpoint not printed"
    return match.group(1)


def test_an_unknown_route_is_a_404_problem_that_echoes_no_header(local_server):
    token = mint("scheduler", "demo")
    r = _session().get(f"{local_server}/v1/nothing-here", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json()["code"] == "NOT_FOUND"
    assert token not in r.text and token[:20] not in str(r.headers)


@pytest.mark.parametrize("method", ["TRACE", "DELETE", "CONNECT", "FOO"])
def test_an_unsupported_method_is_a_405_problem_that_echoes_nothing(local_server, method):
    token = mint("admin", "demo")
    r = _session().request(method, f"{local_server}/v1/sites", headers={"Authorization": f"Bearer {token}",
                                                                         "X-Probe": "echo-me"}, timeout=10)
    assert r.status_code == 405, r.text[:200]
    assert r.headers["Content-Type"] == "application/problem+json" and r.json()["status"] == 405
    assert "echo-me" not in r.text and token not in r.text and method not in r.json()["detail"]


@pytest.mark.parametrize("service", ["dynamodb", "chime"])
def test_a_payer_connector_may_not_point_at_the_runtimes_own_services(local_server, service):
    url = _endpoint(service)
    payer = mint("payer", "demo", payer_id="pyownservice")
    for target in (f"{url}/moto-api/reset", f"{local_server}/v1/health"):
        r = _session().put(f"{local_server}/v1/payers/pyownservice", timeout=10,
                           headers={"Authorization": f"Bearer {payer}"},
                           json={"name": "Sneaky", "connector": {"kind": "x12_http", "url": target}})
        assert r.status_code == 422, (target, r.text)
        assert r.json()["code"] == "CONNECTOR_URL_NOT_ALLOWED" and r.json()["reason"] == "own_service"


def test_the_access_log_carries_route_templates_not_raw_paths(local_server):
    payer = mint("payer", "demo", payer_id="pylogcheck")
    member = "MEMBERSECRET4242"
    _session().put(f"{local_server}/v1/payers/pylogcheck/members/{member}", timeout=10,
                   headers={"Authorization": f"Bearer {payer}"},
                   json={"first_name": "JANE", "last_name": "DOE", "birth_date": "1985-04-12",
                         "active_from": "2026-01-01", "benefits": {}})
    _session().get(f"{local_server}/v1/health", timeout=10)  # the line before is flushed by now
    text = local_server_log().read_text(errors="replace")
    assert member not in text
    assert "/v1/payers/{payer_id}/members/{member_id}" in text


def test_a_method_a_known_route_does_not_take_is_a_405_problem(local_server):
    token = mint("admin", "demo")
    r = _session().patch(f"{local_server}/v1/sites", json={}, headers={"Authorization": f"Bearer {token}"},
                         timeout=10)
    assert r.status_code == 405
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json()["code"] == "METHOD_NOT_ALLOWED" and "Code" not in r.json()
    assert {m.strip() for m in r.headers["Allow"].split(",")} == {"GET", "POST"}


def test_a_form_body_is_a_415_problem_and_a_body_less_form_post_reaches_the_view(local_server):
    auth = {"Authorization": f"Bearer {mint('admin', 'demo')}"}
    form = {**auth, "Content-Type": "application/x-www-form-urlencoded"}
    r = _session().post(f"{local_server}/v1/sites", data="name=echo-me", headers=form, timeout=10)
    assert r.status_code == 415
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json()["code"] == "UNSUPPORTED_MEDIA_TYPE" and "echo-me" not in r.text

    for headers in (form, auth):
        r = _session().post(f"{local_server}/v1/sites", headers=headers, timeout=10)
        assert r.status_code == 400, r.text
        assert r.json()["code"] == "VALIDATION_ERROR" and "name" in {e["field"] for e in r.json()["errors"]}
