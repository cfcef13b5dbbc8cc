"""Bearer JWT verification: local stage HS256 dev key, deployed stages Cognito RS256 via JWKS."""

from __future__ import annotations

from typing import Any

from ..domain.access import ROLES, Caller
from ..domain.errors import Unauthenticated
from ..settings import Settings

_jwks_client: Any = None


def caller_from_headers(headers: Any, settings: Settings, request_id: str = "") -> Caller:
    header = headers.get("authorization") or headers.get("Authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("A bearer token is required.")
    claims = verify(token.strip(), settings)
    return caller_from_claims(claims, request_id)


def verify(token: str, settings: Settings) -> dict[str, Any]:
    import jwt

    try:
        if settings.is_local:
            key: Any = settings.jwt_secret
            algorithms = ["HS256"]
        else:
            key = _signing_key(token, settings)
            algorithms = ["RS256"]
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=algorithms, audience=settings.jwt_audience,
            issuer=settings.jwt_issuer or None,
            options={"require": ["exp", "sub", "aud", "iat"]}, leeway=30,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("The token has expired.") from exc
    except jwt.InvalidTokenError as exc:
        # Never echo the token or its claims back.
        raise Unauthenticated(f"The token is not valid ({type(exc).__name__}).") from exc
    return claims


def _signing_key(token: str, settings: Settings) -> Any:
    global _jwks_client
    import jwt

    if not settings.cognito_jwks_url:
        raise jwt.InvalidTokenError("no JWKS configured")
    if _jwks_client is None:
        _jwks_client = jwt.PyJWKClient(settings.cognito_jwks_url, cache_keys=True, lifespan=3600)
    return _jwks_client.get_signing_key_from_jwt(token).key


def caller_from_claims(claims: dict[str, Any], request_id: str = "") -> Caller:
    tenant = claims.get("custom:tenant_id")
    groups = claims.get("cognito:groups") or []
    if isinstance(groups, str):
        groups = [groups]
    roles = frozenset(g for g in groups if g in ROLES)
    if not tenant or not isinstance(tenant, str) or not roles:
        raise Unauthenticated("The token has no tenant or no known role.")
    caller = Caller(sub=str(claims["sub"]), tenant_id=tenant, roles=roles,
                    patient_id=claims.get("custom:patient_id"), clinician_id=claims.get("custom:clinician_id"),
                    payer_id=claims.get("custom:payer_id"), request_id=request_id)
    if "patient" in roles and not caller.patient_id:
        raise Unauthenticated("A patient token must carry custom:patient_id.")
    if "clinician" in roles and not caller.clinician_id:
        raise Unauthenticated("A clinician token must carry custom:clinician_id.")
    if "payer" in roles and not caller.payer_id:
        raise Unauthenticated("A payer token must carry custom:payer_id.")
    return caller
