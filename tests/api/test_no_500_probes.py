"""Issue 11, item 5: the probes that answered 500 answer 4xx problem+json now."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.api


@pytest.mark.parametrize("depth", [40, 1_000, 5_000, 20_000])
def test_json_nested_deeper_than_the_bound_is_a_400_naming_the_body(admin, depth):
    r = admin.post("/v1/sites", raw="[" * depth + "]" * depth)
    assert r.status == 400, r.raw[:200]
    assert r.json["code"] == "VALIDATION_ERROR" and r.json["errors"][0]["field"] == "body"
    assert "nest" in r.json["errors"][0]["message"]


def test_json_nested_inside_a_field_is_refused_too(admin):
    r = admin.post("/v1/sites", raw='{"name": ' + '{"a": ' * 2_000 + "1" + "}" * 2_000 + "}")
    assert r.status == 400 and r.json["errors"][0]["field"] == "body"


def test_a_body_within_the_bound_is_still_read(admin):
    from tests.support import site_body

    assert admin.post("/v1/sites", site_body()).status == 201


@pytest.mark.parametrize("groups", [5, {"admin": True}, "admin", None, [None], [5]])
def test_a_non_list_groups_claim_is_a_401_not_a_500(api, groups):
    token = api.token("admin", extra_claims={"cognito:groups": groups})
    r = api.call("GET", "/v1/sites", token=token)
    assert r.status == 401 and r.json["code"] == "UNAUTHENTICATED"
