"""Tenant policy (GET/PUT /v1/tenant/settings): read by the licensure gate on every decision."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from ..domain.access import Caller
from ..domain.errors import FieldErrors, VersionMismatch
from ..domain.ports import AuditTrail, TenantSettingsStore
from ..domain.routing_policy import ROUTING_POLICY, RoutingPolicy
from ..domain.rulebook import RuleBook
from ..domain.tenant_policy import LicensurePolicy, PublicationPolicy, ReminderPolicy, RoutingOverrides, TenantSettings


@dataclass(frozen=True)
class SettingsUpdate:
    """A PUT of the tenant's settings; `reminders` None keeps the stored reminder policy."""

    licensure: LicensurePolicy
    routing: RoutingOverrides
    publication: PublicationPolicy
    reminders: ReminderPolicy | None = None


class TenantSettingsService:
    def __init__(self, store: TenantSettingsStore, audit: AuditTrail, rules: Callable[[], RuleBook] | None = None,
                 on_change: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.audit = audit
        self.rules = rules
        self.on_change = on_change or (lambda tenant: None)

    def get(self, caller: Caller) -> TenantSettings:
        return self.store.get(caller.tenant_id)

    def put(self, caller: Caller, body: SettingsUpdate, if_match: int | None) -> TenantSettings:
        current = self.store.get(caller.tenant_id)
        if if_match is not None and if_match != current.version:
            raise VersionMismatch(f"The settings are at version {current.version}, not {if_match}.",
                                  extra={"current_version": current.version})
        self._check_routing(body.routing.disabled_rules)
        saved = self.store.save(replace(
            current, licensure=body.licensure, routing=body.routing, publication=body.publication,
            reminders=current.reminders if body.reminders is None else body.reminders))
        self.audit.record(caller, "tenant_settings.update", "tenant/settings", None, "success")
        self.on_change(caller.tenant_id)
        return saved

    def _check_routing(self, disabled: tuple[str, ...]) -> None:
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
