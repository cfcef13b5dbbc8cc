"""Deployed stages read their keys (pseudonym, cursor, link signing) from Secrets Manager, once, on first use;
a deployed stage given neither a key nor its secret has none, and never a local dev key."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from chalicelib import secret_store
from chalicelib.settings import LOCAL_DEV_CURSOR_KEY, LOCAL_DEV_LINK_KEY, LOCAL_DEV_PSEUDONYM_KEY, Settings

pytestmark = pytest.mark.integration

DEPLOYED = {"AWS_LAMBDA_FUNCTION_NAME": "hco", "AWS_REGION": "ca-central-1", "HCO_STAGE": "prod-ca-central-1"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    secret_store.forget()
    yield
    secret_store.forget()


def _secret(client, name: str, value: str) -> str:
    return client.create_secret(Name=f"hco/prod-ca-central-1/{name}", SecretString=value)["ARN"]


@mock_aws
def test_a_deployed_stage_takes_the_pseudonym_key_from_the_named_secret_once():
    # GIVEN the secret the stack creates, and a Lambda environment that names it
    client = boto3.client("secretsmanager", region_name="ca-central-1")
    arn = _secret(client, "pseudonym-key", "k" * 64)
    env = {**DEPLOYED, "HCO_PSEUDONYM_KEY_SECRET_ARN": arn}

    # WHEN settings are built, THEN the key is the secret's value
    assert Settings.from_env(env).eligibility.pseudonym_key == "k" * 64

    # and a second build does not ask again: the secret can vanish without breaking a warm process
    client.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    assert Settings.from_env(env).eligibility.pseudonym_key == "k" * 64


@mock_aws
def test_a_deployed_api_takes_its_cursor_and_link_keys_from_their_secrets_each_read_once():
    # GIVEN the three secrets the stack gives the API function (infra/api.py), each a different value
    client = boto3.client("secretsmanager", region_name="ca-central-1")
    env = {**DEPLOYED,
           "HCO_PSEUDONYM_KEY_SECRET_ARN": _secret(client, "pseudonym-key", "p" * 64),
           "HCO_CURSOR_KEY_SECRET_ARN": _secret(client, "cursor-key", "c" * 64),
           "HCO_LINK_SIGNING_KEY_SECRET_ARN": _secret(client, "link-signing-key", "l" * 64)}

    # WHEN the settings are built (the secrets are fetched together)
    from tests.api.aws_calls import recorded

    with recorded() as calls:
        settings = Settings.from_env(env)
        again = Settings.from_env(env)

    # THEN each key is its own secret's value, and each secret was asked for exactly once
    assert (settings.cursor_key, settings.link_signing_key, settings.eligibility.pseudonym_key) == (
        "c" * 64, "l" * 64, "p" * 64)
    assert again.cursor_key == "c" * 64
    asked = sorted(c.target for c in calls if c.action == "secretsmanager:GetSecretValue")
    assert asked == sorted(env[k] for k in env if k.endswith("_SECRET_ARN"))


@mock_aws
def test_a_key_given_in_the_environment_wins_over_its_secret():
    client = boto3.client("secretsmanager", region_name="ca-central-1")
    env = {**DEPLOYED, "HCO_CURSOR_KEY": "from-env", "HCO_CURSOR_KEY_SECRET_ARN": _secret(client, "cursor-key", "s")}
    assert Settings.from_env(env).cursor_key == "from-env"


def test_without_a_secret_a_deployed_stage_has_no_keys_and_local_keeps_its_dev_keys():
    deployed = Settings.from_env({"AWS_LAMBDA_FUNCTION_NAME": "hco", "HCO_STAGE": "prod-us-east-1"})
    assert deployed.eligibility.pseudonym_key is None
    assert deployed.cursor_key is None and deployed.link_signing_key is None
    local = Settings.from_env({"HCO_STAGE": "local"})
    assert local.eligibility.pseudonym_key == LOCAL_DEV_PSEUDONYM_KEY
    assert (local.cursor_key, local.link_signing_key) == (LOCAL_DEV_CURSOR_KEY, LOCAL_DEV_LINK_KEY)
