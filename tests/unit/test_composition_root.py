"""The composition root (chalicelib/bootstrap.py): process-wide state is made on first use, and install()
is the one seam that swaps all of it (the idempotency store, the JWKS client, metrics, the model binding)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.adapters.dynamo.models import MAIN_TABLE_MODELS
from chalicelib.api.auth import verify
from chalicelib.settings import Settings

pytestmark = pytest.mark.unit

LOCAL = {"HCO_STAGE": "local", "AWS_REGION": "us-east-1"}


@pytest.fixture
def restored():
    """What these tests change in the process (the models' binding, the installed composition) is put back."""
    keys = ("table_name", "host", "region")
    saved = [(m, {k: getattr(m.Meta, k, None) for k in keys}, m._connection) for m in MAIN_TABLE_MODELS]
    services, bound = bootstrap._services, bootstrap._bound
    yield
    for model, meta, connection in saved:
        for key, value in meta.items():
            setattr(model.Meta, key, value)
        model._connection = connection
    bootstrap._services, bootstrap._bound = services, bound


def test_building_binds_nothing_installing_binds_the_models_to_that_composition(restored):
    first = bootstrap.build(Settings.from_env({**LOCAL, "HCO_TABLE_PREFIX": "hco-root-a"}))
    second = bootstrap.build(Settings.from_env({**LOCAL, "HCO_TABLE_PREFIX": "hco-root-b"}))
    model = MAIN_TABLE_MODELS[0]
    assert model.Meta.table_name not in ("hco-root-a-main", "hco-root-b-main")

    bootstrap.install(first)
    assert model.Meta.table_name == "hco-root-a-main"
    assert bootstrap.get_services() is first
    bootstrap.install(second)
    assert model.Meta.table_name == "hco-root-b-main"


def test_installing_the_same_composition_again_keeps_the_models_clients(restored):
    built = bootstrap.build(Settings.from_env({**LOCAL, "HCO_TABLE_PREFIX": "hco-root-c"}))
    bootstrap.install(built)
    model = MAIN_TABLE_MODELS[0]
    model._connection = kept = object()
    bootstrap.install(None)
    bootstrap.install(built)
    assert model._connection is kept
    bootstrap.install(bootstrap.build(built.settings))
    assert model._connection is None  # another composition: rebuilt against its binding


def test_process_wide_clients_are_made_on_first_use_once_and_each_composition_has_its_own():
    settings = Settings.from_env({**LOCAL, "HCO_TABLE_PREFIX": "hco-root-d"})
    made: list[str] = []
    process = bootstrap.Process(idempotency_store=bootstrap.Lazy(lambda: made.append("store") or "store"),
                                jwks=bootstrap.Lazy(lambda: None), metrics=bootstrap.Lazy(bootstrap._metrics))
    assert made == []
    assert process.idempotency_store() == process.idempotency_store() == "store"
    assert made == ["store"]

    one, other = bootstrap.process_for(settings), bootstrap.process_for(settings)
    store = one.idempotency_store()
    assert store.table_name == "hco-root-d-idempotency"
    assert one.idempotency_store() is store
    assert other.idempotency_store() is not store  # what idempotency.reset() used to do, by construction
    assert one.metrics() is one.metrics()
    assert one.jwks() is None  # the local stage has no Cognito pool


class _Jwks:
    made = 0

    def __init__(self, url: str, **_: Any) -> None:
        type(self).made += 1
        self.url = url

    def get_signing_key_from_jwt(self, token: str) -> Any:
        return type("Key", (), {"key": _PUBLIC})()


_PRIVATE: Any = None
_PUBLIC: Any = None


def test_a_deployed_token_is_checked_with_the_process_jwks_client_made_once(monkeypatch):
    global _PRIVATE, _PUBLIC
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    _PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _PUBLIC = _PRIVATE.public_key()
    monkeypatch.setattr(jwt, "PyJWKClient", _Jwks)
    _Jwks.made = 0
    settings = replace(Settings.from_env({**LOCAL, "HCO_JWT_AUDIENCE": "app"}), stage="prod-us-east-1",
                       jwt_secret=None, jwt_issuer="https://issuer.example", cognito_jwks_url="https://jwks.example/k")
    process = bootstrap.process_for(settings)
    now = int(time.time())
    token = jwt.encode({"sub": "u1", "aud": "app", "iss": "https://issuer.example", "iat": now, "exp": now + 60},
                       _PRIVATE, algorithm="RS256")

    assert _Jwks.made == 0
    assert verify(token, settings, process.jwks)["sub"] == "u1"
    assert verify(token, settings, process.jwks)["sub"] == "u1"
    assert _Jwks.made == 1
    assert process.jwks().url == "https://jwks.example/k"


def test_without_a_jwks_client_a_deployed_token_is_refused():
    from chalicelib.domain.errors import Unauthenticated

    settings = replace(Settings.from_env(LOCAL), stage="prod-us-east-1", jwt_secret=None)
    with pytest.raises(Unauthenticated, match="not valid"):
        verify("a.b.c", settings, bootstrap.process_for(settings).jwks)
