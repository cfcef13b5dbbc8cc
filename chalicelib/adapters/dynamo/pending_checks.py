"""Pending eligibility checks of visits, by the hour they are due again (the worker's to-do list).

A pointer per pending check in the partition of its due hour and a shard (as reminders: reminders.py),
so the scheduled worker Queries a few partitions and never Scans. The key is the check and its due
time: writing it again (a redelivered stream batch) is the same item.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .models import PointerItem
from .reminders import _due_pointers, shard, stamp

PREFIX = "ELGDUE"


def _pk(check_id: str, at: datetime) -> str:
    return f"{PREFIX}#{at.astimezone(UTC):%Y%m%d%H}#{shard(check_id)}"


def _sk(tenant: str, check_id: str, at: datetime) -> str:
    return f"{stamp(at)}#{tenant}#{check_id}"


class PendingCheckPointers:
    def remind(self, tenant: str, check_id: str, at: datetime) -> None:
        PointerItem(_pk(check_id, at), _sk(tenant, check_id, at), kind="eligibility_due",
                    doc={"tenant_id": tenant, "check_id": check_id}).save()

    def due(self, now: datetime, lookback: timedelta) -> list[tuple[str, str, datetime]]:
        found = [(p.doc["tenant_id"], p.doc["check_id"], at) for p, at in _due_pointers(PREFIX, now, lookback)]
        return sorted(found, key=lambda f: f[2])

    def drop(self, tenant: str, check_id: str, at: datetime) -> None:
        PointerItem(_pk(check_id, at), _sk(tenant, check_id, at)).delete()
