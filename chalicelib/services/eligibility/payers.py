"""Payer configuration (PUT/GET /v1/payers/{id}: the API configuration over the rules entry) and roster upload."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from ...domain.access import Caller
from ...domain.eligibility import RosterMember
from ...domain.errors import DomainError, NotFound
from ...domain.payer_policy import (
    ANY_PAYER,
    PAYER_POLICY,
    Connector,
    EffectivePolicy,
    PayerConfig,
    PayerPolicyTable,
    PolicyOverride,
    effective_policy,
)
from ...domain.ports import AuditTrail, Clock, ConnectorUrlPolicy, PayerStore
from ...domain.rulebook import RuleBook


class PayerNotConfigured(DomainError):
    code = "PAYER_NOT_CONFIGURED"
    status = 422
    title = "The payer has no connector configured"


@dataclass(frozen=True)
class ResolvedPayer:
    payer_id: str
    name: str
    connector: Connector | None
    policy: EffectivePolicy
    from_api: bool
    version: int = 0


class PayerConfiguration:
    def __init__(self, payers: PayerStore, rules: Callable[[], RuleBook], clock: Clock, audit: AuditTrail,
                 url_policy: ConnectorUrlPolicy) -> None:
        self.payers, self.rules, self.clock, self.audit, self.url_policy = payers, rules, clock, audit, url_policy

    def put_payer(self, caller: Caller, payer_id: str, name: str, connector: Connector,
                  override: PolicyOverride) -> ResolvedPayer:
        require_own_payer(caller, payer_id)
        if connector.kind == "x12_http":
            self.url_policy.vet(connector.url or "")
        saved = self.payers.put_config(PayerConfig(payer_id, name, connector, override, updated_at=self.clock()))
        resolved = self.resolve_payer(payer_id, self.clock().date())
        assert resolved is not None
        return replace(resolved, version=saved.version)

    def get_payer(self, caller: Caller, payer_id: str) -> ResolvedPayer:
        require_own_payer(caller, payer_id)
        resolved = self.resolve_payer(payer_id, self.clock().date())
        if resolved is None:
            raise NotFound("No such payer.")
        return resolved

    def resolve_payer(self, payer_id: str, on: date) -> ResolvedPayer | None:
        """The API configuration when there is one, else the payer's own rules entry; None = unknown."""
        table = self.rules().tables.get(PAYER_POLICY)
        defaults = table.for_payer(payer_id, on) if isinstance(table, PayerPolicyTable) else None
        own = defaults if defaults is not None and defaults.payer_id != ANY_PAYER else None
        config = self.payers.get_config(payer_id)
        if config is not None:
            return ResolvedPayer(payer_id, config.name, config.connector, effective_policy(config.policy, defaults),
                                 True, config.version)
        if own is None:
            return None
        return ResolvedPayer(payer_id, own.name, own.connector, effective_policy(None, own), False)

    def put_member(self, caller: Caller, payer_id: str, member: RosterMember) -> bool:
        """True when the member is new."""
        require_own_payer(caller, payer_id)
        created = self.payers.put_member(payer_id, member)
        self.audit.record(caller, "payer.roster.write", f"payer/{payer_id}/roster", None, "success")
        return created


def require_own_payer(caller: Caller, payer_id: str) -> None:
    if not (caller.has("payer") and caller.payer_id == payer_id):
        raise NotFound("No such payer.")
