from __future__ import annotations

import pytest

from chalicelib.api.auth import verify
from chalicelib.domain.errors import Unauthenticated
from chalicelib.settings import Settings
from local.token import mint

pytestmark = pytest.mark.unit


def test_a_lambda_without_a_stage_does_not_fall_back_to_the_local_dev_key():
    settings = Settings.from_env({"AWS_LAMBDA_FUNCTION_NAME": "hco-api", "AWS_REGION": "us-east-1"})
    assert not settings.is_local and settings.jwt_secret is None
    with pytest.raises(Unauthenticated):
        verify(mint("admin", "demo"), settings)


def test_the_local_stage_is_refused_inside_lambda():
    settings = Settings.from_env({"AWS_LAMBDA_FUNCTION_NAME": "hco-api", "HCO_STAGE": "local"})
    assert not settings.is_local
    with pytest.raises(Unauthenticated):
        verify(mint("admin", "demo"), settings)


def test_locally_the_dev_key_verifies_a_minted_token():
    claims = verify(mint("scheduler", "demo"), Settings.from_env({"HCO_STAGE": "local"}))
    assert claims["custom:tenant_id"] == "demo" and claims["cognito:groups"] == ["scheduler"]


def test_rate_limits_parse_from_the_environment():
    settings = Settings.from_env({"HCO_RATE_LIMITS": "booking=5/10, eligibility=7"})
    assert settings.rate_limits == {"booking": (5, 10), "eligibility": (7, 60)}


def test_several_app_clients_may_be_accepted_audiences():
    from chalicelib.settings import Settings

    s = Settings.from_env({"HCO_STAGE": "prod-us-east-1", "HCO_JWT_AUDIENCE": "staffclient, patientclient"})
    assert s.jwt_audiences == ("staffclient", "patientclient")
    assert Settings.from_env({"HCO_STAGE": "local"}).jwt_audiences == ("hco-api",)


def test_a_deployed_stage_without_its_key_secrets_has_no_keys_and_never_the_dev_ones():
    deployed = Settings.from_env({"AWS_LAMBDA_FUNCTION_NAME": "hco-api", "HCO_STAGE": "prod-us-east-1"})
    assert deployed.cursor_key is None and deployed.link_signing_key is None
    assert deployed.eligibility.pseudonym_key is None


def test_the_local_stage_keeps_its_dev_keys_and_dev_server_links():
    from chalicelib.settings import LOCAL_DEV_CURSOR_KEY, LOCAL_DEV_LINK_KEY, LOCAL_LINK_BASE_URL

    local = Settings.from_env({"HCO_STAGE": "local"})
    assert (local.cursor_key, local.link_signing_key) == (LOCAL_DEV_CURSOR_KEY, LOCAL_DEV_LINK_KEY)
    assert local.link_base_url == LOCAL_LINK_BASE_URL == "http://127.0.0.1:8000"
    assert Settings.from_env({"HCO_LINK_BASE_URL": "http://127.0.0.1:9000/"}).link_base_url == "http://127.0.0.1:9000"


def test_a_deployed_stage_never_points_links_at_this_machine():
    deployed = {"AWS_LAMBDA_FUNCTION_NAME": "hco-reminders", "HCO_STAGE": "prod-us-east-1"}
    # Not given: no base at all (the reminder job then refuses to send), never the local default.
    assert Settings.from_env(deployed).link_base_url is None
    given = Settings.from_env({**deployed, "HCO_LINK_BASE_URL": "https://care-us-east-1.hybrid-care.example/"})
    assert given.link_base_url == "https://care-us-east-1.hybrid-care.example"
    for bad in ("http://127.0.0.1:8000", "https://localhost", "https://127.0.0.1", "http://care.example",
                "https://app.localhost/x", "https://care.example/?next=evil"):
        with pytest.raises(ValueError, match="HCO_LINK_BASE_URL"):
            Settings.from_env({**deployed, "HCO_LINK_BASE_URL": bad})


@pytest.mark.parametrize(("key", "base", "missing"), [
    (None, "https://care.example", "HCO_LINK_SIGNING_KEY"), ("k" * 32, None, "HCO_LINK_BASE_URL")])
def test_the_reminder_job_refuses_to_send_without_a_link_key_or_base(key, base, missing):
    from chalicelib.services.reminders import ReminderService

    def untouched(*_a, **_k):
        raise AssertionError("nothing is read or claimed when links cannot be made")

    service = ReminderService(untouched, untouched, untouched, untouched, untouched, untouched, untouched,
                              untouched, key, base)
    with pytest.raises(RuntimeError, match=missing):
        service.send_due()
