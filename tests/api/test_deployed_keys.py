"""A deployed stage's API, built like the function the stack deploys (infra/api.py): its keys come from
Secrets Manager (moto), tokens are RS256 checked against a Cognito-style JWKS (served on loopback). A list
with a next page answers it, and the cursor, sealed with the cursor key's secret, brings the next page."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support import RoleApi, site_body

pytestmark = pytest.mark.api

STAGE = "prod-us-east-1"
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_DEPLOYED"
STAFF_CLIENT = "staffclient"
KID = "deployed-test-key"
# What each key's secret holds in this test: a deployed stage must end up with these, not the dev keys.
SECRET_VALUES = {"HCO_PSEUDONYM_KEY": "p" * 64, "HCO_CURSOR_KEY": "c" * 64, "HCO_LINK_SIGNING_KEY": "l" * 64}


@pytest.fixture(scope="module")
def signing_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(signing_key) -> Iterator[str]:
    """The user pool's JWKS document, on loopback: the API's own PyJWKClient fetches it."""
    from jwt.algorithms import RSAAlgorithm

    jwk = {**json.loads(RSAAlgorithm.to_jwk(signing_key.public_key())), "kid": KID, "use": "sig", "alg": "RS256"}
    body = json.dumps({"keys": [jwk]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def settings(chime, jwks_url):
    """Overrides tests/conftest.py's local settings for this module: the environment infra/api.py gives the
    API function (secret ARNs, never keys), read inside a Lambda-like process."""
    import boto3
    from moto import mock_aws

    from chalicelib import secret_store
    from chalicelib.settings import Settings

    secret_store.forget()
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        env = {"AWS_LAMBDA_FUNCTION_NAME": f"hybrid-care-orchestrator-{STAGE}", "AWS_REGION": "us-east-1",
               "HCO_STAGE": STAGE, "HCO_TABLE_PREFIX": "hco-deployed-test", "HCO_JWT_ISSUER": ISSUER,
               "HCO_JWT_AUDIENCE": f"{STAFF_CLIENT},patientclient", "HCO_COGNITO_JWKS_URL": jwks_url,
               "HCO_CHIME_ENDPOINT": chime.base_url}
        for var, value in SECRET_VALUES.items():
            name = f"hco/{STAGE}/{var.removeprefix('HCO_').lower().replace('_', '-')}"
            env[f"{var}_SECRET_ARN"] = client.create_secret(Name=name, SecretString=value)["ARN"]
        built = Settings.from_env(env)
    secret_store.forget()
    return built


def _token(signing_key: Any, role: str, tenant: str) -> str:
    import jwt

    now = int(time.time())
    return jwt.encode({"sub": str(uuid.uuid4()), "iss": ISSUER, "aud": STAFF_CLIENT, "iat": now, "exp": now + 3600,
                       "token_use": "id", "custom:tenant_id": tenant, "cognito:groups": [role]},
                      signing_key, algorithm="RS256", headers={"kid": KID})


def test_the_deployed_settings_hold_the_secrets_keys_not_the_dev_ones(settings):
    assert not settings.is_local and settings.jwt_secret is None
    assert settings.cursor_key == SECRET_VALUES["HCO_CURSOR_KEY"]
    assert settings.link_signing_key == SECRET_VALUES["HCO_LINK_SIGNING_KEY"]
    assert settings.eligibility.pseudonym_key == SECRET_VALUES["HCO_PSEUDONYM_KEY"]
    assert settings.link_base_url is None  # the API makes no link: the stack gives it no base


def test_a_deployed_api_answers_a_list_with_a_next_page_and_its_cursor_brings_that_page(api, signing_key, tenant):
    admin = RoleApi(api, _token(signing_key, "admin", tenant))
    names = ["North Clinic", "South Clinic", "East Clinic"]
    for name in names:
        created = admin.post("/v1/sites", site_body(name))
        assert created.status == 201, created.json

    first = admin.get("/v1/sites?limit=2")
    assert first.status == 200, first.json  # was a 500: no cursor key on a deployed stage
    assert len(first.json["items"]) == 2 and first.json["next_cursor"]
    second = admin.get(f"/v1/sites?limit=2&cursor={first.json['next_cursor']}")
    assert second.status == 200, second.json
    assert second.json["next_cursor"] is None
    assert sorted(s["name"] for s in first.json["items"] + second.json["items"]) == sorted(names)

    # A cursor another caller brings back is still refused: the secret's key seals and binds it.
    other = RoleApi(api, _token(signing_key, "admin", tenant))
    refused = other.get(f"/v1/sites?limit=2&cursor={first.json['next_cursor']}")
    assert refused.status == 400 and refused.json["errors"][0]["field"] == "cursor"
