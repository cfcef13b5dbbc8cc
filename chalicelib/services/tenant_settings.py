"""Tenant policy (GET/PUT /v1/tenant/settings): read by the licensure gate on every decision."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from ..domain.access import Caller
from ..domain.errors import FieldErrors, VersionMismatch
from ..domain.ports import AuditTrail
from ..domain.routing_policy import ROUTING_POLICY, RoutingPolicy
from ..domain.rulebook import RuleBook
from ..domain.tenant_policy import (
    LicensurePolicy,
    NoShowPolicy,
    PublicationPolicy,
    ReminderPolicy,
    RoutingOverrides,
    TenantSettings,
)
from ..schemas.directory import TenantReminderSettingsIn, TenantSettingsIn


class SettingsStore(Protocol):
    def get(self, tenant: str) -> TenantSettings: ...
    def save(self, settings: TenantSettings) -> TenantSettings: ...


class TenantSettingsService:
    def __init__(self, store: SettingsStore, audit: AuditTrail, rules: Callable[[], RuleBook] | None = None,
                 on_change: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.audit = audit
        self.rules = rules
        self.on_change = on_change or (lambda tenant: None)

    def get(self, caller: Caller) -> TenantSettings:
        return self.store.get(caller.tenant_id)

    def put(self, caller: Caller, body: TenantSettingsIn, if_match: int | None) -> TenantSettings:
        current = self.store.get(caller.tenant_id)
        if if_match is not None and if_match != current.version:
            raise VersionMismatch(f"The settings are at version {current.version}, not {if_match}.",
                                  extra={"current_version": current.version})
        r, p = body.routing, body.publication
        self._check_routing(r.disabled_rules)
        saved = self.store.save(replace(
            current, licensure=LicensurePolicy(body.licensure.uncertain_rules),
            routing=RoutingOverrides(tuple(r.disabled_rules), r.high_risk_max_wait_days,
                                     r.escalation_open_bound_minutes),
            publication=PublicationPolicy(p.public, p.booking_url, p.booking_phone, p.days, tuple(p.services)),
            reminders=current.reminders if body.reminders is None else _reminders(body.reminders)))
        self.audit.record(caller, "tenant_settings.update", "tenant/settings", None, "success")
        self.on_change(caller.tenant_id)
        return saved

    def _check_routing(self, disabled: list[str]) -> None:
        """Only rules that exist may be switched off, and never the crisis escalation."""
        policy = self.rules().tables.get(ROUTING_POLICY) if self.rules else None
        if not isinstance(policy, RoutingPolicy):
            return
        effects = {r.rule.rule_id: r.effect for r in policy.rules}
        errors = FieldErrors()
        for i, rule_id in enumerate(disabled):
            if rule_id not in effects:
                errors.add(f"routing.disabled_rules[{i}]", "is not a rule of the routing policy")
            elif effects[rule_id] == "escalate":
                errors.add(f"routing.disabled_rules[{i}]", "crisis escalation cannot be switched off")
        errors.raise_if_any()


def _reminders(body: TenantReminderSettingsIn) -> ReminderPolicy:
    n = body.no_shows
    return ReminderPolicy(tuple(sorted(body.offsets_minutes, reverse=True)), tuple(body.channels), body.quiet_start,
                          body.quiet_end, body.link_ttl_hours, body.offer_hold_minutes,
                          NoShowPolicy(n.require_confirmation_after, n.video_first_after,
                                       n.release_unconfirmed_minutes_before))
