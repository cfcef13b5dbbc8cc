"""Payers (configuration, roster), eligibility checks and the eligibility cache, in the main table.

No PHI in any key: member ids are PHI (a health plan beneficiary number), so a key carries an
HMAC-SHA256 of them under a server-side key (Settings.eligibility.pseudonym_key), never the id.

| pattern                               | key                                                          | operation |
|---------------------------------------|--------------------------------------------------------------|-----------|
| a payer's configuration               | pk=PAYER#{payer_id}, sk=CONFIG                               | Get/Put   |
| one roster member                     | pk=PAYER#{payer_id}, sk=MEMBER#{hmac(member_id)}             | Get/Put   |
| a check a tenant's scheduler asked    | pk=T#{tenant}#ELIG#{check_id}, sk=CHECK                      | Get/Put   |
| a check a payer asked (its own)       | pk=PAYER#{payer_id}#ELIG#{check_id}, sk=CHECK                | Get/Put   |
| cached payer answer (TTL expires_at)  | pk={T#{tenant} or PAYER#{payer}}#ELIGCACHE#{payer_id},       | Get/Put   |
|                                       | sk=C#{hmac(member, names, birth date, NPI, STCs, date)}      |           |

Checks and cache entries keep the raw 271 beside the parsed answer, inside the item's document.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ...domain.eligibility import EligibilityCheck, Owner, RosterMember
from ...domain.errors import DependencyUnavailable
from ...domain.keyed_reads import KeyedRead, known
from ...domain.payer_policy import PayerConfig
from . import keys
from .codec import from_doc, to_doc
from .models import DocumentItem, ExpiringItem
from .versioning import save_versioned

CONFIG_SK = "CONFIG"
CHECK_SK = "CHECK"


def owner_prefix(owner: Owner) -> str:
    return f"T#{owner.id}" if owner.kind == "tenant" else keys.payer_pk(owner.id)


class Pseudonyms:
    """HMAC-SHA256 of PHI for use in keys: stable, not reversible, not guessable without the key."""

    def __init__(self, key: str | None) -> None:
        self._key = key.encode("utf-8") if key else None

    def __call__(self, *parts: str) -> str:
        if self._key is None:
            raise DependencyUnavailable("Eligibility is not configured on this stage (HCO_PSEUDONYM_KEY).")
        message = "\x1f".join(parts).encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


CONFIG_SECONDS = 60.0


class PayerRepository:
    """A payer's configuration changes a few times a year and is read by every booking of its members
    (routing's coverage, billing facts, the eligibility check): kept a minute per process, dropped at once
    by a write in this process (other processes see it within the minute, as routing's coverage always did)."""

    def __init__(self, pseudonym: Pseudonyms, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.pseudonym = pseudonym
        self._monotonic = monotonic
        self._configs: dict[str, tuple[float, PayerConfig | None]] = {}

    def get_config(self, payer_id: str) -> PayerConfig | None:
        hit = self._kept(payer_id)
        if hit is not None:
            return hit[0]
        item = _get(keys.payer_pk(payer_id), CONFIG_SK)
        return self._keep(payer_id, _config(item) if item else None)

    def config_read(self, payer_id: str) -> KeyedRead[None]:
        """The configuration as a key of a batched read that keeps it here (get_config then answers without a
        call); no key when it is kept already."""
        if self._kept(payer_id) is not None:
            return known(None)
        key = (keys.payer_pk(payer_id), CONFIG_SK)

        def answer(found: Mapping[Hashable, Any]) -> None:
            raw = found.get(key)
            self._keep(payer_id, _config(DocumentItem.from_raw_data(raw)) if raw is not None else None)

        return KeyedRead((key,), answer)

    def _kept(self, payer_id: str) -> tuple[PayerConfig | None] | None:
        hit = self._configs.get(payer_id)
        if hit is not None and self._monotonic() - hit[0] < CONFIG_SECONDS:
            return (hit[1],)
        return None

    def _keep(self, payer_id: str, config: PayerConfig | None) -> PayerConfig | None:
        if len(self._configs) >= 1024:
            self._configs.clear()
        self._configs[payer_id] = (self._monotonic(), config)
        return config

    def put_config(self, config: PayerConfig) -> PayerConfig:
        """A full replace (PUT). Concurrent writers: the second one gets Conflict."""
        self._configs.pop(config.payer_id, None)
        version = _save(keys.payer_pk(config.payer_id), CONFIG_SK, "payer_config", config)
        return replace(config, version=version)

    def get_member(self, payer_id: str, member_id: str) -> RosterMember | None:
        item = _get(keys.payer_pk(payer_id), self._member_sk(payer_id, member_id))
        return from_doc(RosterMember, item.doc) if item else None

    def put_member(self, payer_id: str, member: RosterMember) -> bool:
        """True when the member is new to the roster."""
        return _save(keys.payer_pk(payer_id), self._member_sk(payer_id, member.member_id), "roster_member",
                     member) == 1

    def _member_sk(self, payer_id: str, member_id: str) -> str:
        return "MEMBER#" + self.pseudonym("member", payer_id, member_id.strip().upper())


class EligibilityRepository:
    def get_check(self, owner: Owner, check_id: str) -> EligibilityCheck | None:
        item = _get(_check_pk(owner, check_id), CHECK_SK)
        if item is None:
            return None
        return replace(from_doc(EligibilityCheck, item.doc), version=int(item.version or 0))

    def add_check(self, check: EligibilityCheck) -> EligibilityCheck:
        item = DocumentItem(_check_pk(check.owner, check.check_id), CHECK_SK, kind="eligibility_check",
                            doc=to_doc(replace(check, version=0)))
        item.save(condition=DocumentItem.pk.does_not_exist())
        return replace(check, version=int(item.version or 1))

    def update_check(self, check: EligibilityCheck) -> EligibilityCheck:
        """Optimistic: fails with Conflict when the check changed since ``check`` was read."""
        item = DocumentItem(_check_pk(check.owner, check.check_id), CHECK_SK, kind="eligibility_check",
                            doc=to_doc(replace(check, version=0)))
        item.version = check.version
        save_versioned(item, "The check was updated by another request; read it again.")
        return replace(check, version=int(item.version or 0))

    def get_cached(self, owner: Owner, payer_id: str, digest: str, now: datetime) -> dict[str, Any] | None:
        """The cached answer, unless expired (TTL deletes lazily, up to 48 h late: check it here too)."""
        try:
            item = ExpiringItem.get(_cache_pk(owner, payer_id), f"C#{digest}")
        except DoesNotExist:
            return None
        return _unexpired(item, now)

    def cached_read(self, owner: Owner, payer_id: str, digest: str, now: datetime
                    ) -> KeyedRead[dict[str, Any] | None]:
        """get_cached as one key for a batched read (adapters/dynamo/keyed_reads.py: raw items)."""
        key = (_cache_pk(owner, payer_id), f"C#{digest}")

        def answer(found: Mapping[Hashable, Any]) -> dict[str, Any] | None:
            raw = found.get(key)
            return _unexpired(ExpiringItem.from_raw_data(raw), now) if raw is not None else None

        return KeyedRead((key,), answer)

    def put_cached(self, owner: Owner, payer_id: str, digest: str, entry: dict[str, Any], expires_at: datetime) -> None:
        ExpiringItem(_cache_pk(owner, payer_id), f"C#{digest}", kind="eligibility_cache", doc=entry,
                     expires_at=int(expires_at.timestamp())).save()


def _check_pk(owner: Owner, check_id: str) -> str:
    return f"{owner_prefix(owner)}#ELIG#{check_id}"


def _cache_pk(owner: Owner, payer_id: str) -> str:
    return f"{owner_prefix(owner)}#ELIGCACHE#{payer_id}"


def _config(item: DocumentItem) -> PayerConfig:
    return replace(from_doc(PayerConfig, item.doc), version=int(item.version or 0))


def _unexpired(item: ExpiringItem, now: datetime) -> dict[str, Any] | None:
    if int(item.expires_at) <= int(now.timestamp()):
        return None
    return dict(from_doc(dict, item.doc))


def _get(pk: str, sk: str) -> DocumentItem | None:
    try:
        return DocumentItem.get(pk, sk, consistent_read=True)
    except DoesNotExist:
        return None


def _save(pk: str, sk: str, kind: str, obj: Any) -> int:
    """Replace the document, guarded by the stored version; returns the new version (1 = created)."""
    current = _get(pk, sk)
    item = DocumentItem(pk, sk, kind=kind, doc=to_doc(replace(obj, version=0) if hasattr(obj, "version") else obj))
    if current is not None:
        item.version = current.version
    save_versioned(item, "Another request changed this at the same time; retry.")
    return int(item.version or 1)

