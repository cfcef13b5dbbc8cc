"""Escalations and screening results.

| pattern                                 | key                                             | operation   |
|-----------------------------------------|-------------------------------------------------|-------------|
| an escalation                           | pk=T#{t}#ESC, sk=ESC#{id}                       | Get/Put     |
| a tenant's escalations                  | pk=T#{t}#ESC, sk begins_with ESC#               | Query       |
| unacknowledged escalations, all tenants | pk=ESCOPEN, sk={opened_at}#{t}#{id} (sparse)    | Query (job) |
| a patient's screening results           | pk=T#{t}#PAT#{id}, sk=SCREEN#{~at}#{instrument} | Put / Query |

~at: the time with each digit complemented (keys.screening_sk), so a Query reads the newest first and a
booking reads the patient's profile and latest screening together (adapters/dynamo/directory.py).

Escalations are rare (crises), so the open index is not a hot key; it is written in the same
transaction as the escalation and removed when someone acknowledges it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from ...domain.errors import Conflict
from ...domain.escalation import Escalation
from ...domain.screening import ScreeningResult
from . import keys
from .codec import from_doc, to_doc
from .models import DocumentItem, PointerItem

OPEN_PK = "ESCOPEN"


def _pk(tenant: str) -> str:
    return f"T#{tenant}#ESC"


def _open_sk(e: Escalation) -> str:
    return f"{e.opened_at.strftime('%Y%m%dT%H%M%S')}#{e.tenant_id}#{e.escalation_id}"


class EscalationRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, escalation: Escalation) -> Escalation:
        with TransactWrite(connection=self._connection, client_request_token=escalation.escalation_id) as tx:
            tx.save(DocumentItem(_pk(escalation.tenant_id), f"ESC#{escalation.escalation_id}", kind="escalation",
                                 doc=to_doc(escalation)), condition=DocumentItem.pk.does_not_exist())
            tx.save(PointerItem(OPEN_PK, _open_sk(escalation), kind="escalation_open",
                                doc={"tenant_id": escalation.tenant_id, "escalation_id": escalation.escalation_id}))
        return replace(escalation, version=1)

    def get(self, tenant: str, escalation_id: str) -> Escalation | None:
        try:
            item = DocumentItem.get(_pk(tenant), f"ESC#{escalation_id}", consistent_read=True)
        except DoesNotExist:
            return None
        return replace(from_doc(Escalation, item.doc), version=int(item.version or 0))

    def list(self, tenant: str, status: str | None, limit: int) -> list[Escalation]:
        found = []
        for item in DocumentItem.query(_pk(tenant), DocumentItem.sk.startswith("ESC#"), scan_index_forward=False):
            e = replace(from_doc(Escalation, item.doc), version=int(item.version or 0))
            if status is None or e.status == status:
                found.append(e)
            if len(found) >= limit:
                break
        return found

    def save(self, old: Escalation, new: Escalation) -> Escalation:
        """Versioned update; leaving `open` also removes the entry from the open index, in one transaction."""
        item = DocumentItem(_pk(new.tenant_id), f"ESC#{new.escalation_id}", kind="escalation",
                            doc=to_doc(replace(new, version=0)))
        item.version = old.version
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.save(item)
                if old.status == "open" and new.status != "open":
                    tx.delete(PointerItem(OPEN_PK, _open_sk(old)))
        except TransactWriteError as exc:
            raise Conflict("The escalation changed meanwhile; read it again.") from exc
        return replace(new, version=int(item.version or old.version + 1))

    def open_before(self, moment: datetime, limit: int = 100) -> list[tuple[str, str]]:
        """(tenant, escalation id) of escalations still open that were opened before `moment`."""
        high = moment.strftime("%Y%m%dT%H%M%S")
        return [(i.doc["tenant_id"], i.doc["escalation_id"])
                for i in PointerItem.query(OPEN_PK, PointerItem.sk < high, limit=limit)]


class ScreeningRepository:
    def add(self, tenant: str, patient_id: str, result: ScreeningResult) -> None:
        assert result.at is not None
        DocumentItem(keys.patient_pk(tenant, patient_id), keys.screening_sk(result.at, result.instrument),
                     kind="screening", doc=to_doc(result)).save()

    def latest(self, tenant: str, patient_id: str, limit: int = 10) -> list[ScreeningResult]:
        items = DocumentItem.query(keys.patient_pk(tenant, patient_id),
                                   DocumentItem.sk.startswith(keys.SCREENING_PREFIX), limit=limit)
        return [from_doc(ScreeningResult, i.doc) for i in items]
