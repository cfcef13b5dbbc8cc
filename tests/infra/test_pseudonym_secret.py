"""Deployed stages read the pseudonym key from Secrets Manager, once, on first use."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from chalicelib import secret_store
from chalicelib.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _fresh_cache():
    secret_store.forget()
    yield
    secret_store.forget()


@mock_aws
def test_a_deployed_stage_takes_the_pseudonym_key_from_the_named_secret_once():
    # GIVEN the secret the stack creates, and a Lambda environment that names it
    client = boto3.client("secretsmanager", region_name="ca-central-1")
    arn = client.create_secret(Name="hco/prod-ca-central-1/pseudonym-key", SecretString="k" * 64)["ARN"]
    env = {"AWS_LAMBDA_FUNCTION_NAME": "hco", "AWS_REGION": "ca-central-1", "HCO_STAGE": "prod-ca-central-1",
           "HCO_PSEUDONYM_KEY_SECRET_ARN": arn}

    # WHEN settings are built, THEN the key is the secret's value
    assert Settings.from_env(env).eligibility.pseudonym_key == "k" * 64

    # and a second build does not ask again: the secret can vanish without breaking a warm process
    client.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    assert Settings.from_env(env).eligibility.pseudonym_key == "k" * 64


def test_without_a_secret_a_deployed_stage_has_no_key_and_local_keeps_its_dev_key():
    deployed = Settings.from_env({"AWS_LAMBDA_FUNCTION_NAME": "hco", "HCO_STAGE": "prod-us-east-1"})
    assert deployed.eligibility.pseudonym_key is None
    assert Settings.from_env({"HCO_STAGE": "local"}).eligibility.pseudonym_key
