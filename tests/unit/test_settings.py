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
