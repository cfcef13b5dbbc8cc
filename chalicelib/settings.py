"""Process settings, read from the environment on first use (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

LOCAL_STAGE = "local"
# Only for the local stage: deployed stages verify Cognito-signed RS256 tokens instead.
LOCAL_DEV_JWT_SECRET = "hco-local-dev-signing-key-not-a-secret-0123456789"  # noqa: S105


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    table_prefix: str
    dynamodb_endpoint: str | None
    chime_endpoint: str | None
    chime_control_region: str | None
    jwt_issuer: str
    jwt_audience: str
    jwt_secret: str | None
    cognito_jwks_url: str | None
    join_window_before_minutes: int
    idempotency_ttl_seconds: int
    # bucket -> (requests, window seconds) per caller, e.g. "booking=30/60,availability=120/60"
    rate_limits: dict[str, tuple[int, int]]

    @property
    def is_local(self) -> bool:
        return self.stage == LOCAL_STAGE

    @property
    def main_table(self) -> str:
        return f"{self.table_prefix}-main"

    @property
    def idempotency_table(self) -> str:
        return f"{self.table_prefix}-idempotency"

    @property
    def audit_table(self) -> str:
        return f"{self.table_prefix}-audit"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        stage = env.get("HCO_STAGE", LOCAL_STAGE)
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
        is_local = stage == LOCAL_STAGE
        return cls(
            stage=stage,
            region=region,
            table_prefix=env.get("HCO_TABLE_PREFIX", f"hco-{stage}"),
            dynamodb_endpoint=env.get("HCO_DYNAMODB_ENDPOINT") or None,
            chime_endpoint=env.get("HCO_CHIME_ENDPOINT") or None,
            chime_control_region=env.get("HCO_CHIME_CONTROL_REGION") or None,
            jwt_issuer=env.get("HCO_JWT_ISSUER", "hco-local" if is_local else ""),
            jwt_audience=env.get("HCO_JWT_AUDIENCE", "hco-api"),
            jwt_secret=(env.get("HCO_JWT_SECRET", LOCAL_DEV_JWT_SECRET) if is_local else None),
            cognito_jwks_url=env.get("HCO_COGNITO_JWKS_URL") or None,
            join_window_before_minutes=int(env.get("HCO_JOIN_WINDOW_BEFORE_MINUTES", "15")),
            idempotency_ttl_seconds=int(env.get("HCO_IDEMPOTENCY_TTL_SECONDS", "86400")),
            rate_limits=parse_rate_limits(env.get("HCO_RATE_LIMITS", DEFAULT_RATE_LIMITS)),
        )


DEFAULT_RATE_LIMITS = "booking=30/60,availability=120/60,eligibility=60/60"


def parse_rate_limits(text: str) -> dict[str, tuple[int, int]]:
    limits = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        bucket, _, rate = part.partition("=")
        count, _, window = rate.partition("/")
        limits[bucket.strip()] = (int(count), int(window or 60))
    return limits
