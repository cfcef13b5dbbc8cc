"""Tenant policy as data (GET/PUT /v1/tenant/settings). Defaults apply to a tenant that set nothing."""

from __future__ import annotations

from dataclasses import dataclass

UNCERTAIN_RULES = ("warn", "refuse")


@dataclass(frozen=True)
class LicensurePolicy:
    # warn: an allowance resting on a rule marked uncertain goes ahead, flagged `uncertain`;
    # refuse: it becomes a refusal (UNCERTAIN_RULE_REFUSED) until someone settles the doubt.
    uncertain_rules: str = "warn"


@dataclass(frozen=True)
class TenantSettings:
    tenant_id: str
    licensure: LicensurePolicy = LicensurePolicy()
    version: int = 0
