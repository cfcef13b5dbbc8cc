"""Tenant settings: one versioned document per tenant in its directory partition."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import replace
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ...domain.keyed_reads import KeyedRead
from ...domain.tenant_policy import TenantSettings
from . import keys
from .codec import from_doc, to_doc
from .models import DocumentItem
from .versioning import save_versioned

SETTINGS_SK = "SETTINGS"


class TenantSettingsRepository:
    def get(self, tenant: str) -> TenantSettings:
        try:
            item = DocumentItem.get(keys.directory_pk(tenant), SETTINGS_SK, consistent_read=True)
        except DoesNotExist:
            return TenantSettings(tenant)
        return _settings(item)

    def settings_read(self, tenant: str) -> KeyedRead[TenantSettings]:
        key = (keys.directory_pk(tenant), SETTINGS_SK)

        def answer(found: Mapping[Hashable, Any]) -> TenantSettings:
            raw = found.get(key)
            return _settings(DocumentItem.from_raw_data(raw)) if raw is not None else TenantSettings(tenant)

        return KeyedRead((key,), answer)

    def save(self, settings: TenantSettings) -> TenantSettings:
        item = DocumentItem(keys.directory_pk(settings.tenant_id), SETTINGS_SK, kind="settings",
                            doc=to_doc(replace(settings, version=0)))
        if settings.version:
            item.version = settings.version
        save_versioned(item, "The settings were changed by another request; read them again and retry.")
        return replace(settings, version=int(item.version or 0))


def _settings(item: DocumentItem) -> TenantSettings:
    return replace(from_doc(TenantSettings, item.doc), version=int(item.version or 0))
