"""Mint a local-stage bearer token: python -m local.token --role scheduler --tenant demo"""

from __future__ import annotations

import argparse
import sys
import time
import uuid

from chalicelib.settings import LOCAL_DEV_JWT_SECRET, Settings


def mint(role: str, tenant: str, *, patient_id: str | None = None, clinician_id: str | None = None,
         payer_id: str | None = None, ttl_seconds: int = 8 * 3600, sub: str | None = None,
         settings: Settings | None = None, extra_claims: dict[str, object] | None = None) -> str:
    import jwt

    settings = settings or Settings.from_env({"HCO_STAGE": "local"})
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": sub or f"local-{role}-{uuid.uuid4().hex[:8]}",
        "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "iat": now, "exp": now + ttl_seconds,
        "token_use": "id", "custom:tenant_id": tenant, "cognito:groups": [role],
    }
    for claim, value in (("custom:patient_id", patient_id), ("custom:clinician_id", clinician_id),
                         ("custom:payer_id", payer_id)):
        if value:
            claims[claim] = value
    claims.update(extra_claims or {})
    return jwt.encode(claims, settings.jwt_secret or LOCAL_DEV_JWT_SECRET, algorithm="HS256")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.token", description=__doc__)
    parser.add_argument("--role", required=True, choices=["admin", "scheduler", "clinician", "patient", "payer", "ops"])
    parser.add_argument("--tenant", default="demo")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--patient-id")
    who.add_argument("--clinician-id")
    who.add_argument("--payer-id")
    parser.add_argument("--ttl", type=int, default=8 * 3600, help="seconds until the token expires")
    args = parser.parse_args(argv)
    needs = {"patient": args.patient_id, "clinician": args.clinician_id, "payer": args.payer_id}
    if args.role in needs and not needs[args.role]:
        parser.error(f"--role {args.role} needs --{args.role}-id")
    print(mint(args.role, args.tenant, patient_id=args.patient_id, clinician_id=args.clinician_id,
               payer_id=args.payer_id, ttl_seconds=args.ttl))
    return 0


if __name__ == "__main__":
    sys.exit(main())
