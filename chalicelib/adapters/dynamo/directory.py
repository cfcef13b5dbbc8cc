"""Sites, clinicians and patients."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

from pynamodb.exceptions import DoesNotExist

from ...domain.model import Clinician, Patient, Site
from . import keys
from .codec import from_doc, to_doc
from .models import DocumentItem
from .versioning import save_versioned

T = TypeVar("T")


class DirectoryRepository:
    def add_site(self, site: Site) -> None:
        self._insert(keys.directory_pk(site.tenant_id), keys.site_sk(site.site_id), "site", site)

    def get_site(self, tenant: str, site_id: str) -> Site | None:
        return self._get(keys.directory_pk(tenant), keys.site_sk(site_id), Site)

    def save_site(self, site: Site) -> Site:
        return self._save(keys.directory_pk(site.tenant_id), keys.site_sk(site.site_id), "site", site,
                          "The site was changed by another request; read it again and retry.")

    def save_patient(self, patient: Patient) -> Patient:
        return self._save(keys.patient_pk(patient.tenant_id, patient.patient_id), keys.PROFILE_SK, "patient",
                          patient, "The patient was changed by another request; read it again and retry.")

    def list_sites(self, tenant: str) -> list[Site]:
        return self._list(tenant, "SITE#", Site)

    def page_sites(self, tenant: str, limit: int, cursor: dict[str, Any] | None
                   ) -> tuple[list[Site], dict[str, Any] | None]:
        items = DocumentItem.query(keys.directory_pk(tenant), DocumentItem.sk.startswith("SITE#"), limit=limit,
                                   last_evaluated_key=_own_page(tenant, cursor))
        return [from_doc(Site, i.doc) for i in items], items.last_evaluated_key

    def page_clinicians(self, tenant: str, limit: int, cursor: dict[str, Any] | None
                        ) -> tuple[list[Clinician], dict[str, Any] | None]:
        items = DocumentItem.query(keys.directory_pk(tenant), DocumentItem.sk.startswith("CLIN#"), limit=limit,
                                   last_evaluated_key=_own_page(tenant, cursor))
        return [_with_version(from_doc(Clinician, i.doc), i.version) for i in items], items.last_evaluated_key

    def add_clinician(self, clinician: Clinician) -> None:
        self._insert(keys.directory_pk(clinician.tenant_id), keys.clinician_sk(clinician.clinician_id),
                     "clinician", clinician)

    def get_clinician(self, tenant: str, clinician_id: str) -> Clinician | None:
        item = self._get_item(keys.directory_pk(tenant), keys.clinician_sk(clinician_id))
        return _with_version(from_doc(Clinician, item.doc), item.version) if item else None

    def save_clinician(self, clinician: Clinician) -> Clinician:
        """Optimistic locking: fails with Conflict when someone saved since `clinician` was read."""
        return self._save(keys.directory_pk(clinician.tenant_id), keys.clinician_sk(clinician.clinician_id),
                          "clinician", clinician, "The clinician was changed by another request; read it again.")

    def _save(self, pk: str, sk: str, kind: str, obj: Any, conflict: str) -> Any:
        item = DocumentItem(pk, sk, kind=kind, doc=to_doc(replace(obj, version=0)))
        if obj.version:
            item.version = obj.version
        save_versioned(item, conflict)
        return replace(obj, version=int(item.version or 0))

    def list_clinicians(self, tenant: str) -> list[Clinician]:
        items = DocumentItem.query(keys.directory_pk(tenant), DocumentItem.sk.startswith("CLIN#"))
        return [_with_version(from_doc(Clinician, i.doc), i.version) for i in items]

    def add_patient(self, patient: Patient) -> None:
        self._insert(keys.patient_pk(patient.tenant_id, patient.patient_id), keys.PROFILE_SK, "patient", patient)

    def get_patient(self, tenant: str, patient_id: str) -> Patient | None:
        return self._get(keys.patient_pk(tenant, patient_id), keys.PROFILE_SK, Patient)

    def _insert(self, pk: str, sk: str, kind: str, obj: Any) -> None:
        DocumentItem(pk, sk, kind=kind, doc=to_doc(obj)).save(condition=DocumentItem.pk.does_not_exist())

    def _get_item(self, pk: str, sk: str) -> DocumentItem | None:
        try:
            return DocumentItem.get(pk, sk, consistent_read=True)
        except DoesNotExist:
            return None

    def _get(self, pk: str, sk: str, cls: type[T]) -> T | None:
        item = self._get_item(pk, sk)
        return replace(from_doc(cls, item.doc), version=int(item.version or 0)) if item else None  # type: ignore[type-var]

    def _list(self, tenant: str, prefix: str, cls: type[T]) -> list[T]:
        items = DocumentItem.query(keys.directory_pk(tenant), DocumentItem.sk.startswith(prefix))
        return [from_doc(cls, i.doc) for i in items]


def _with_version(clinician: Clinician, version: int | None) -> Clinician:
    return replace(clinician, version=int(version or 0))



def _own_page(tenant: str, cursor: dict[str, Any] | None) -> dict[str, Any] | None:
    """A cursor is a DynamoDB key: refuse one that points into another tenant's partition."""
    return keys.require_partition(keys.require_key(cursor, ("pk", "sk")), "pk", keys.directory_pk(tenant))  # type: ignore[no-any-return]
