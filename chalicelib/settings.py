"""Process settings, read from the environment on first use (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

LOCAL_STAGE = "local"
UNCONFIGURED_STAGE = "unconfigured"
# Only for the local stage: deployed stages verify Cognito-signed RS256 tokens instead.
LOCAL_DEV_JWT_SECRET = "hco-local-dev-signing-key-not-a-secret-0123456789"  # noqa: S105
LOCAL_DEV_CURSOR_KEY = "hco-local-dev-cursor-key-not-a-secret-5647382910"
# Only for the local stage: where reminder links point (`make run`). Never a deployed stage's default.
LOCAL_LINK_BASE_URL = "http://127.0.0.1:8000"


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
    # AES-GCM key material for list cursors (services/paging.py). Deployed stacks name its Secrets Manager
    # secret (HCO_CURSOR_KEY_SECRET_ARN, infra/data.py); without one a deployed stage has none and a list
    # with a next page refuses to answer rather than seal cursors under a known key.
    cursor_key: str | None
    cursor_ttl_seconds: int
    # The runtime's own endpoints (DynamoDB stand-in, Chime emulator, the API): never a payer connector.
    own_endpoints: tuple[str, ...]
    # bucket -> (requests, window seconds) per caller, e.g. "booking=30/60,availability=120/60"
    rate_limits: dict[str, tuple[int, int]]
    eligibility: EligibilitySettings  # payer time budgets, retries, cache (services/eligibility/)
    # Crisis escalations are published here (SNS). Locally: moto, topic made on first use.
    escalation_topic_arn: str | None = None
    sns_endpoint: str | None = None
    # Reminders and waitlist offers (services/reminders.py): SES v2 sender, where links point, link key.
    # Deployed stages: the patient app's public origin (infra/regions.json link_base_url) and the link key's
    # secret (HCO_LINK_SIGNING_KEY_SECRET_ARN); without them no link is made or verified (fail closed).
    ses_endpoint: str | None = None
    reminder_from: str = "reminders@example.org"
    link_base_url: str | None = LOCAL_LINK_BASE_URL
    link_signing_key: str | None = None
    video: VideoSettings = field(default_factory=lambda: VideoSettings())  # join deadline, Chime timeouts
    # GET /v1/audit/verify fails when an audit entry has waited longer than this to be chained (stream consumer).
    audit_chain_max_wait_seconds: int = 300

    @property
    def jwt_audiences(self) -> tuple[str, ...]:
        """HCO_JWT_AUDIENCE may list several app clients (staff, patients), comma-separated: a token for any of
        them is accepted; the roles and ids in its claims still decide what it may do."""
        return tuple(a.strip() for a in self.jwt_audience.split(",") if a.strip())

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
        # Fail closed: a Lambda that lost HCO_STAGE must not fall back to the local dev signing key.
        in_lambda = bool(env.get("AWS_LAMBDA_FUNCTION_NAME"))
        stage = env.get("HCO_STAGE") or (UNCONFIGURED_STAGE if in_lambda else LOCAL_STAGE)
        if in_lambda and stage == LOCAL_STAGE:
            stage = UNCONFIGURED_STAGE  # the local stage's dev key is public: never inside AWS Lambda
        region = _region(env)
        is_local = stage == LOCAL_STAGE
        # The keys' secrets are read now, once per process (secret_store caches them), all at once.
        _prefetch_secrets(env, region)
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
            cursor_key=_key(env, "HCO_CURSOR_KEY", LOCAL_DEV_CURSOR_KEY if is_local else None),
            cursor_ttl_seconds=int(env.get("HCO_CURSOR_TTL_SECONDS", "3600")),
            own_endpoints=tuple(filter(None, (env.get(k) for k in (
                "HCO_DYNAMODB_ENDPOINT", "HCO_CHIME_ENDPOINT", "HCO_API_URL")))),
            rate_limits=parse_rate_limits(env.get("HCO_RATE_LIMITS", DEFAULT_RATE_LIMITS)),
            eligibility=EligibilitySettings.from_env(env, is_local),
            escalation_topic_arn=env.get("HCO_ESCALATION_TOPIC_ARN") or None,
            sns_endpoint=env.get("HCO_SNS_ENDPOINT") or None,
            ses_endpoint=env.get("HCO_SES_ENDPOINT") or env.get("HCO_SNS_ENDPOINT") or None,
            reminder_from=env.get("HCO_REMINDER_FROM", "reminders@example.org"),
            link_base_url=link_base_url(env.get("HCO_LINK_BASE_URL") or None, is_local),
            link_signing_key=_key(env, "HCO_LINK_SIGNING_KEY", LOCAL_DEV_LINK_KEY if is_local else None),
            video=VideoSettings.from_env(env),
            audit_chain_max_wait_seconds=int(env.get("HCO_AUDIT_CHAIN_MAX_WAIT_SECONDS", "300")),
        )


# Only for the local stage: signs confirm/decline links in reminders.
LOCAL_DEV_LINK_KEY = "hco-local-dev-link-key-not-a-secret-5550123"

DEFAULT_RATE_LIMITS = ("booking=30/60,availability=120/60,eligibility=60/60,eligibility_tenant=600/60,"
                       "eligibility_payer=3000/60")


def parse_rate_limits(text: str) -> dict[str, tuple[int, int]]:
    limits = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        bucket, _, rate = part.partition("=")
        count, _, window = rate.partition("/")
        limits[bucket.strip()] = (int(count), int(window or 60))
    return limits


# Only for the local stage: the key that turns member ids into key material (HMAC) in DynamoDB keys.
LOCAL_DEV_PSEUDONYM_KEY = "hco-local-dev-pseudonym-key-not-a-secret-9876543210"


@dataclass(frozen=True)
class EligibilitySettings:
    """How long a request may wait for a payer, how it retries, how long answers are cached.

    A request never waits more than ``budget_seconds`` for the payer (retries included); then the
    check answers ``pending`` and is finished by a later GET. Booking waits ``booking_budget_seconds``.
    """

    budget_seconds: float = 8.0
    attempt_timeout_seconds: float = 4.0
    booking_budget_seconds: float = 2.5
    max_attempts: int = 4
    backoff_base_seconds: float = 0.25
    backoff_cap_seconds: float = 2.0
    repoll_base_seconds: float = 5.0
    repoll_cap_seconds: float = 300.0
    give_up_after_seconds: int = 86400
    cache_ttl_seconds: int = 43200
    x12_sender_id: str = "HCORCH"
    # ISA15: "P" (production) on every deployed stage, "T" (test) on the local stage.
    x12_usage_indicator: str = "P"
    # HMAC key for member ids in keys (never the id itself). Deployed stages must set HCO_PSEUDONYM_KEY.
    pseudonym_key: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], is_local: bool) -> EligibilitySettings:
        def number(name: str, default: float) -> float:
            return float(env.get(f"HCO_ELIGIBILITY_{name}", default))

        d = cls()
        return cls(
            budget_seconds=number("BUDGET_SECONDS", d.budget_seconds),
            attempt_timeout_seconds=number("ATTEMPT_TIMEOUT_SECONDS", d.attempt_timeout_seconds),
            booking_budget_seconds=number("BOOKING_BUDGET_SECONDS", d.booking_budget_seconds),
            max_attempts=int(number("MAX_ATTEMPTS", d.max_attempts)),
            backoff_base_seconds=number("BACKOFF_BASE_SECONDS", d.backoff_base_seconds),
            backoff_cap_seconds=number("BACKOFF_CAP_SECONDS", d.backoff_cap_seconds),
            repoll_base_seconds=number("REPOLL_BASE_SECONDS", d.repoll_base_seconds),
            repoll_cap_seconds=number("REPOLL_CAP_SECONDS", d.repoll_cap_seconds),
            give_up_after_seconds=int(number("GIVE_UP_AFTER_SECONDS", d.give_up_after_seconds)),
            cache_ttl_seconds=int(number("CACHE_TTL_SECONDS", d.cache_ttl_seconds)),
            x12_sender_id=env.get("HCO_X12_SENDER_ID", d.x12_sender_id),
            x12_usage_indicator="T" if is_local else "P",
            pseudonym_key=_key(env, "HCO_PSEUDONYM_KEY", LOCAL_DEV_PSEUDONYM_KEY if is_local else None),
        )


# The keys a deployed stack keeps in Secrets Manager (infra/data.py): NAME, or NAME_SECRET_ARN naming its secret.
SECRET_KEYS = ("HCO_PSEUDONYM_KEY", "HCO_CURSOR_KEY", "HCO_LINK_SIGNING_KEY")


def _region(env: Mapping[str, str]) -> str:
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"


def _prefetch_secrets(env: Mapping[str, str], region: str) -> None:
    """A cold API process needs three secrets: asked for concurrently, it waits for the slowest, not the sum."""
    arns = [env[f"{name}_SECRET_ARN"] for name in SECRET_KEYS
            if not env.get(name) and env.get(f"{name}_SECRET_ARN")]
    if len(arns) > 1:
        from .secret_store import prefetch

        prefetch(arns, region)


def _key(env: Mapping[str, str], name: str, local_default: str | None) -> str | None:
    """`name` from the environment (tests, `make run`), else the secret that `{name}_SECRET_ARN` names (deployed
    stacks, infra/api.py and infra/jobs.py: the key itself never rides in the environment), else the local
    stage's dev key. A deployed stage given neither has no key (None): what needs it refuses, never guesses."""
    if env.get(name):
        return env[name]
    secret_arn = env.get(f"{name}_SECRET_ARN")
    if secret_arn:
        from .secret_store import secret_string

        return secret_string(secret_arn, _region(env))
    return local_default


def link_base_url(value: str | None, is_local: bool) -> str | None:
    """Where patients' reminder links point. Locally the dev server; a deployed stage only takes an https
    origin that is not this machine (a link to 127.0.0.1 in a patient's SMS reaches nobody), and without
    HCO_LINK_BASE_URL it has none: a reminder is then refused, never sent with a localhost link."""
    if value is None:
        return LOCAL_LINK_BASE_URL if is_local else None
    if not is_local:
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
        if (parts.scheme != "https" or not host or host == "localhost" or host.endswith(".localhost")
                or host.startswith("127.") or host in ("0.0.0.0", "::1") or parts.query or parts.fragment):  # noqa: S104
            raise ValueError(f"HCO_LINK_BASE_URL {value!r} must be a public https URL (no query) on a deployed stage")
    return value.rstrip("/")


@dataclass(frozen=True)
class VideoSettings:
    """A join answers within ``join_deadline_seconds`` plus a few DynamoDB calls, whatever Chime does
    (API Gateway gives up at 29 s): every Chime call and retry of the join shares that one budget.
    One attempt costs at most ``connect_timeout_seconds + read_timeout_seconds``."""

    join_deadline_seconds: float = 15.0
    connect_timeout_seconds: float = 1.0
    read_timeout_seconds: float = 3.0
    max_attempts: int = 4
    # Ending a meeting when the visit ends (complete, cancel, ...) must not hold that request long.
    cleanup_deadline_seconds: float = 6.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> VideoSettings:
        d = cls()
        return cls(
            join_deadline_seconds=float(env.get("HCO_VIDEO_JOIN_DEADLINE_SECONDS", d.join_deadline_seconds)),
            connect_timeout_seconds=float(env.get("HCO_CHIME_CONNECT_TIMEOUT_SECONDS", d.connect_timeout_seconds)),
            read_timeout_seconds=float(env.get("HCO_CHIME_READ_TIMEOUT_SECONDS", d.read_timeout_seconds)),
            max_attempts=int(env.get("HCO_CHIME_MAX_ATTEMPTS", d.max_attempts)),
            cleanup_deadline_seconds=float(env.get("HCO_VIDEO_CLEANUP_DEADLINE_SECONDS", d.cleanup_deadline_seconds)),
        )
