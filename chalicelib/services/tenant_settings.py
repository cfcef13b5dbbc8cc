"""Tenant policy (GET/PUT /v1/tenant/settings): read by the licensure gate on every decision."""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from ..domain.access import Caller
from ..domain.errors import VersionMismatch
from ..domain.ports import AuditTrail
from ..domain.tenant_policy import LicensurePolicy, TenantSettings
from ..schemas.directory import TenantSettingsIn


class SettingsStore(Protocol):
    def get(self, tenant: str) -> TenantSettings: ...
    def save(self, settings: TenantSettings) -> TenantSettings: ...


class TenantSettingsService:
    def __init__(self, store: SettingsStore, audit: AuditTrail) -> None:
        self.store = store
        self.audit = audit

    def get(self, caller: Caller) -> TenantSettings:
        return self.store.get(caller.tenant_id)

    def put(self, caller: Caller, body: TenantSettingsIn, if_match: int | None) -> TenantSettings:
        current = self.store.get(caller.tenant_id)
        if if_match is not None and if_match != current.version:
            raise VersionMismatch(f"The settings are at version {current.version}, not {if_match}.",
                                  extra={"current_version": current.version})
        saved = self.store.save(replace(current, licensure=LicensurePolicy(body.licensure.uncertain_rules)))
        self.audit.record(caller, "tenant_settings.update", "tenant/settings", None, "success")
        return saved
