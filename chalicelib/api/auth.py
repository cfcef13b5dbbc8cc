"""Bearer JWT verification: local stage HS256 dev key, deployed stages Cognito RS256 via JWKS."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from ..domain.access import ROLES, Caller
from ..domain.errors import Unauthenticated
from ..settings import Settings


def caller_from_headers(headers: Any, settings: Settings, request_id: str = "",
                        jwks: Callable[[], Any] | None = None) -> Caller:
    """`jwks` gives the process's Cognito key client (bootstrap's Process.jwks); deployed stages need it."""
    header = headers.get("authorization") or headers.get("Authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("A bearer token is required.")
    claims = verify(token.strip(), settings, jwks)
    return caller_from_claims(claims, request_id)


def verify(token: str, settings: Settings, jwks: Callable[[], Any] | None = None) -> dict[str, Any]:
    import jwt

    try:
        if settings.is_local:
            key: Any = settings.jwt_secret
            algorithms = ["HS256"]
        else:
            key = _signing_key(token, jwks)
            algorithms = ["RS256"]
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=algorithms, audience=list(settings.jwt_audiences),
            issuer=settings.jwt_issuer or None,
            options={"require": ["exp", "sub", "aud", "iat"]}, leeway=30,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("The token has expired.") from exc
    except jwt.PyJWTError as exc:
        # Never echo the token, its claims or the library's own words back.
        raise Unauthenticated("The token is not valid.") from exc
    return claims


def _signing_key(token: str, jwks: Callable[[], Any] | None) -> Any:
    import jwt

    client = jwks() if jwks is not None else None
    if client is None:
        raise jwt.InvalidTokenError("no JWKS configured")
    return client.get_signing_key_from_jwt(token).key


# Ids of the API (tenant, patient, clinician, payer): the charset and length of schemas.common.Id.
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# A subject is printable ASCII (Cognito's is a UUID), never blank, never a control character.
_SUB = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?")
# Cognito ID and access tokens live at most one day; anything longer was not minted for us.
MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600
_ID_CLAIMS = (("custom:patient_id", "patient"), ("custom:clinician_id", "clinician"), ("custom:payer_id", "payer"))


def caller_from_claims(claims: dict[str, Any], request_id: str = "") -> Caller:
    """The one claim validator: every claim the app reads is checked by type and format (401 otherwise)."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not _SUB.fullmatch(sub):
        raise Unauthenticated("The token's subject is missing or not valid.")
    tenant = claims.get("custom:tenant_id")
    if not isinstance(tenant, str) or not _ID.fullmatch(tenant):
        raise Unauthenticated("The token's tenant is missing or not valid.")
    groups = claims.get("cognito:groups")
    if not (isinstance(groups, list) and groups and all(isinstance(g, str) and g in ROLES for g in groups)):
        raise Unauthenticated("The token's groups must be a list of known roles.")
    _require_lifetime(claims)
    ids: dict[str, str | None] = {}
    for claim, role in _ID_CLAIMS:
        value = claims.get(claim)
        if value is not None and not (isinstance(value, str) and _ID.fullmatch(value)):
            raise Unauthenticated(f"The token's {claim} is not valid.")
        if role in groups and value is None:
            raise Unauthenticated(f"A {role} token must carry {claim}.")
        ids[role] = value
    return Caller(sub=sub, tenant_id=tenant, roles=frozenset(groups), patient_id=ids["patient"],
                  clinician_id=ids["clinician"], payer_id=ids["payer"], request_id=request_id)


def _require_lifetime(claims: dict[str, Any]) -> None:
    exp, iat = claims.get("exp"), claims.get("iat")
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (exp, iat))
    if not numbers or exp - iat > MAX_TOKEN_LIFETIME_SECONDS or exp - time.time() > MAX_TOKEN_LIFETIME_SECONDS:
        raise Unauthenticated("The token's lifetime is longer than this API accepts.")
