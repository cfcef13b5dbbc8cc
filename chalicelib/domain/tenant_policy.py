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
class RoutingOverrides:
    """What a tenant changed of scheduling_rules/routing/: rules switched off, and bounds."""

    disabled_rules: tuple[str, ...] = ()
    high_risk_max_wait_days: int | None = None
    escalation_open_bound_minutes: int | None = None


@dataclass(frozen=True)
class TenantSettings:
    tenant_id: str
    licensure: LicensurePolicy = LicensurePolicy()
    routing: RoutingOverrides = RoutingOverrides()
    version: int = 0
